-- The render farm's durable state (docs/farm.md): the nodes that joined, the
-- fencing epochs handed out, every lease with its outcome, and per-job
-- blocklists. The coordinator's lease manager keeps the live state in memory;
-- these rows make a coordinator restart safe: a node id is recognised, not
-- duplicated, and an epoch is never issued twice.

CREATE TABLE farm_nodes (
    node_id         text PRIMARY KEY CHECK (node_id ~ '^[A-Za-z0-9._-]{1,64}$'),
    hostname        text NOT NULL DEFAULT '',
    gpus            jsonb NOT NULL DEFAULT '[]'::jsonb,
    slots           integer NOT NULL DEFAULT 1 CHECK (slots BETWEEN 1 AND 256),
    backends        text[] NOT NULL DEFAULT '{}',
    tags            text[] NOT NULL DEFAULT '{}',
    state           text NOT NULL DEFAULT 'alive'
                    CHECK (state IN ('alive', 'draining', 'drained', 'lost', 'removed')),
    failures        integer NOT NULL DEFAULT 0,
    registrations   integer NOT NULL DEFAULT 1,
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now()
);

-- One row: the next fencing epoch not yet reserved. A coordinator reserves a
-- block (UPDATE ... RETURNING) before using any epoch of it.
CREATE TABLE farm_epochs (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    next_epoch  bigint NOT NULL CHECK (next_epoch >= 1)
);
INSERT INTO farm_epochs (singleton, next_epoch) VALUES (true, 1);

CREATE TABLE farm_leases (
    epoch        bigint PRIMARY KEY,
    shot_id      text NOT NULL,
    job_id       text NOT NULL DEFAULT '',
    node_id      text NOT NULL,
    state        text NOT NULL
                 CHECK (state IN ('offered', 'done', 'failed', 'expired', 'rejected', 'cancelled')),
    reason       text NOT NULL DEFAULT '',
    artifact     text,
    checksum     text,
    duration_ms  bigint,
    granted_at   timestamptz NOT NULL DEFAULT now(),
    ended_at     timestamptz
);
CREATE INDEX farm_leases_by_shot ON farm_leases (shot_id, epoch);
-- At most one lease of a shot may count as done: the fencing rule, enforced
-- by the database as well as by the lease manager.
CREATE UNIQUE INDEX farm_leases_one_done_per_shot ON farm_leases (shot_id) WHERE state = 'done';
CREATE INDEX farm_leases_open ON farm_leases (node_id) WHERE ended_at IS NULL;
