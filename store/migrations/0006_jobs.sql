-- Render jobs (issue #7): one ai_jobs row per render or regenerate of a
-- project, with its progress, result and error; one render_shots row per shot
-- of the job, keyed by the hash of everything that decides the shot's bytes,
-- so a regenerate reuses unchanged shots; and the consistency references
-- registered for each project. See docs/actors.md.

CREATE TABLE ai_jobs (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id    uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          text NOT NULL DEFAULT 'render' CHECK (kind IN ('render', 'regenerate')),
    status        text NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'processing', 'complete', 'failed', 'cancelled')),
    progress      integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    current_step  text NOT NULL DEFAULT 'queued',
    shots_total   integer NOT NULL DEFAULT 0,
    shots_done    integer NOT NULL DEFAULT 0,
    -- What the render settings were (resolution, fps) when the job was made.
    settings      jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Credits charged at start (0: nothing to render, or every shot reused).
    cost_credits  bigint NOT NULL DEFAULT 0 CHECK (cost_credits >= 0),
    result        jsonb,
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ai_jobs_by_project ON ai_jobs (project_id, created_at DESC);
-- What a restarted supervisor resumes.
CREATE INDEX ai_jobs_unfinished ON ai_jobs (created_at) WHERE status IN ('queued', 'processing');
-- One live job per project: a second render waits for (or cancels) the first.
CREATE UNIQUE INDEX ai_jobs_one_live_per_project ON ai_jobs (project_id)
    WHERE status IN ('queued', 'processing');

CREATE TABLE render_shots (
    job_id        uuid NOT NULL REFERENCES ai_jobs (id) ON DELETE CASCADE,
    shot_id       text NOT NULL,           -- "sc2-sh3": media shot id, unique in the job
    scene_id      text NOT NULL,           -- "sc2"
    position      integer NOT NULL,        -- order in the film
    input_hash    text NOT NULL,           -- sha256 of spec + renderer + encoding
    duration_ms   bigint NOT NULL,         -- planned
    spec          jsonb NOT NULL,          -- the lease spec handed to the node
    status        text NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'rendering', 'done', 'reused', 'failed', 'cancelled')),
    progress      integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    current_step  text NOT NULL DEFAULT 'queued',
    attempts      integer NOT NULL DEFAULT 0,
    artifact      text,                    -- path relative to the media folder
    checksum      text,                    -- "sha256:<hex>"
    segment       jsonb,                   -- frames, fps, duration, cues (for assembly)
    node_id       text,
    error         text,
    reused_from   uuid,                    -- the job whose render was reused
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, shot_id),
    UNIQUE (job_id, position)
);
CREATE INDEX render_shots_reusable ON render_shots (input_hash) WHERE status IN ('done', 'reused');

CREATE TABLE consistency_references (
    project_id    uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    reference_id  text NOT NULL,           -- "chr-..." or "loc-...", stable per project and name
    kind          text NOT NULL CHECK (kind IN ('character', 'location')),
    name          text NOT NULL,
    seed          bigint NOT NULL,
    palette       jsonb NOT NULL,
    voice         jsonb,
    image         text,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, reference_id)
);
