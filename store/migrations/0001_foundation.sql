-- The core records every later part of the farm refers to: users, their
-- projects, and the audit trail. Later migrations add the ledger, jobs,
-- leases, consistency references, uploads and the outbox.

CREATE TABLE users (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email               text NOT NULL,
    password_hash       text NOT NULL,
    full_name           text NOT NULL DEFAULT '',
    role                text NOT NULL DEFAULT 'creator' CHECK (role IN ('creator', 'admin')),
    plan                text NOT NULL DEFAULT 'free',
    credits_balance     bigint NOT NULL DEFAULT 0,
    credits_reset_date  date,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    last_login_at       timestamptz,
    CONSTRAINT users_email_not_blank CHECK (length(btrim(email)) > 0)
);
-- Email is unique case-insensitively: Alice@x.io and alice@x.io are one user.
CREATE UNIQUE INDEX users_email_unique ON users (lower(email));

CREATE TABLE projects (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title           text NOT NULL,
    script          text NOT NULL DEFAULT '',
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'processing', 'complete', 'failed', 'cancelled')),
    video_duration  double precision,
    video_url       text,
    thumbnail_url   text,
    subtitle_urls   jsonb NOT NULL DEFAULT '{}'::jsonb,
    settings        jsonb NOT NULL DEFAULT '{}'::jsonb,
    credits_used    bigint NOT NULL DEFAULT 0 CHECK (credits_used >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projects_by_user ON projects (user_id, created_at DESC);

-- The audit trail: who did what to which project, append-only.
CREATE TABLE logs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id  uuid REFERENCES projects (id) ON DELETE SET NULL,
    user_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    action      text NOT NULL,
    message     text NOT NULL DEFAULT '',
    "timestamp" timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX logs_by_project ON logs (project_id, "timestamp");
