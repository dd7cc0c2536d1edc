-- Authentication of the farm socket (docs/protocol.md, "Authentication").
-- The coordinator's CURVE keypair lives here so a standby coordinator that
-- takes over speaks with the same key the nodes already trust; the client
-- keys it enrolled and the join tokens it issued survive its restarts.

CREATE TABLE farm_server_key (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    public_key  text NOT NULL CHECK (length(public_key) = 40),
    secret_key  text NOT NULL CHECK (length(secret_key) = 40),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The operator keypair for admin frames, shared by every coordinator and
-- read by gateways for their node routes (whoever can read this database can
-- move credits already; it is the farm's root of trust).
CREATE TABLE farm_operator_key (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    public_key  text NOT NULL CHECK (length(public_key) = 40),
    secret_key  text NOT NULL CHECK (length(secret_key) = 40),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per client key: a render node (bound to its node id) or an
-- operator tool (ctl, the gateway). A revoked key is kept, so it cannot be
-- enrolled again with a leaked token.
CREATE TABLE farm_peers (
    public_key   text PRIMARY KEY CHECK (length(public_key) = 40),
    role         text NOT NULL CHECK (role IN ('node', 'operator')),
    node_id      text CHECK (node_id ~ '^[A-Za-z0-9._-]{1,64}$'),
    enrolled_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    CHECK ((role = 'node') = (node_id IS NOT NULL))
);
-- A node id belongs to one live key at a time.
CREATE UNIQUE INDEX farm_peers_one_key_per_node ON farm_peers (node_id)
    WHERE role = 'node' AND revoked_at IS NULL;

-- Join tokens: the public half of each token's bootstrap keypair (the
-- secret half is the token; it is never stored). The ZAP handler admits a
-- bootstrap key until expires_at, for `enroll` frames only.
CREATE TABLE farm_join_tokens (
    public_key   text PRIMARY KEY CHECK (length(public_key) = 40),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    enrolments   integer NOT NULL DEFAULT 0
);
