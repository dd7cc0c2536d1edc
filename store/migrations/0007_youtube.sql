-- Publishing to YouTube (issue #11). The uploads themselves live in
-- youtube_integrations (0004: the MISSION.md table the Salesforce mirror
-- already reads, with its outbox trigger); this adds what the resumable
-- upload needs to survive a crash, the connected channels with their sealed
-- refresh tokens, and the daily quota. See docs/youtube.md.

-- One connected channel per user. The refresh token is sealed with
-- youtube.token_key (libsodium crypto_secretbox): "v1:" + base64(nonce | box).
CREATE TABLE youtube_channels (
    user_id        uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    refresh_token  text NOT NULL CHECK (refresh_token LIKE 'v1:%'),
    channel_id     text NOT NULL,
    channel_title  text NOT NULL DEFAULT '',
    scope          text NOT NULL DEFAULT '',
    connected_at   timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE youtube_integrations
    ADD COLUMN title            text NOT NULL DEFAULT '',
    ADD COLUMN description      text NOT NULL DEFAULT '',
    ADD COLUMN tags             jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD COLUMN privacy_status   text NOT NULL DEFAULT 'private'
                                CHECK (privacy_status IN ('private', 'unlisted', 'public')),
    -- Set when the user asked for a new playlist: its title. playlist_id is
    -- then filled once playlists.insert answered.
    ADD COLUMN playlist_title   text,
    -- The film and thumbnail, relative to the media folder (from the project).
    ADD COLUMN film_path        text,
    ADD COLUMN thumbnail_path   text,
    ADD COLUMN total_bytes      bigint NOT NULL DEFAULT 0 CHECK (total_bytes >= 0),
    -- Bytes YouTube acknowledged (308 Range), never more than it holds.
    ADD COLUMN bytes_sent       bigint NOT NULL DEFAULT 0 CHECK (bytes_sent >= 0),
    -- The resumable session: a credential for the upload; never logged or shown.
    ADD COLUMN session_uri      text,
    ADD COLUMN thumbnail_set    boolean NOT NULL DEFAULT false,
    ADD COLUMN playlist_item_id text,
    ADD COLUMN error            text,
    ADD COLUMN attempts         integer NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    -- The coordinator working on it, until when (a crashed one's claim lapses).
    ADD COLUMN claimed_by       text,
    ADD COLUMN claimed_until    timestamptz,
    ADD COLUMN started_at       timestamptz,
    ADD COLUMN finished_at      timestamptz,
    ADD CONSTRAINT youtube_bytes_within_total CHECK (bytes_sent <= total_bytes OR total_bytes = 0),
    -- No upload is recorded complete without the video YouTube confirmed.
    ADD CONSTRAINT youtube_complete_has_video
        CHECK (upload_status <> 'complete' OR (video_id IS NOT NULL AND youtube_url IS NOT NULL));

CREATE INDEX youtube_integrations_queue ON youtube_integrations (next_attempt_at)
    WHERE upload_status IN ('pending', 'uploading');
CREATE INDEX youtube_integrations_by_user ON youtube_integrations (user_id, created_at DESC);
-- One live upload per project: a second request waits for the first.
CREATE UNIQUE INDEX youtube_integrations_one_live ON youtube_integrations (project_id)
    WHERE upload_status IN ('pending', 'uploading');

-- The Data API quota of the farm's Google Cloud project, per quota day
-- (midnight to midnight Pacific Time, as Google counts): videos.insert has a
-- bucket of its own (calls); everything else spends units.
CREATE TABLE youtube_quota (
    day     date NOT NULL,
    bucket  text NOT NULL CHECK (bucket IN ('videos.insert', 'units')),
    used    bigint NOT NULL DEFAULT 0 CHECK (used >= 0),
    PRIMARY KEY (day, bucket)
);

-- The outbox row for YouTube_Integration__c comes with every change
-- Salesforce shows (status, ids, URLs), in the writer's transaction; the
-- byte counter moving during an upload is not one of them.
CREATE OR REPLACE FUNCTION crm_track_youtube() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (OLD.project_id, OLD.video_id, OLD.playlist_id, OLD.upload_status, OLD.youtube_url,
            OLD.thumbnail_url, OLD.created_at)
           IS NOT DISTINCT FROM
           (NEW.project_id, NEW.video_id, NEW.playlist_id, NEW.upload_status, NEW.youtube_url,
            NEW.thumbnail_url, NEW.created_at) THEN
        RETURN NULL;
    END IF;
    PERFORM crm_enqueue('YouTube_Integration__c', NEW.id::text, NULL);
    RETURN NULL;
END $$;
