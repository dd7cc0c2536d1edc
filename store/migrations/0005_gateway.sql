-- The gateway's refresh tokens (issue #8). Only a SHA-256 of each token is
-- stored. Tokens rotate: every refresh revokes the presented token and issues
-- the next one of the same family; presenting a revoked token again means it
-- was stolen or replayed, and the whole family is revoked.
CREATE TABLE refresh_tokens (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family       uuid NOT NULL,
    token_hash   text NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    replaced_by  uuid REFERENCES refresh_tokens (id) ON DELETE SET NULL
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id);
