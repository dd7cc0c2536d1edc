-- The transactional outbox that feeds the Salesforce mirror (crm_sync/).
-- Every change Salesforce must see writes one crm_outbox row in the same
-- transaction as the change itself: the triggers below do it for users,
-- projects, credit_transactions and youtube_integrations, so no writer can
-- forget. The drainer claims rows with FOR UPDATE SKIP LOCKED, reads the
-- record's CURRENT state from the crm_*_records views (so a record changed
-- ten times is sent once, at its latest version) and marks the rows done
-- only after Salesforce accepted the record. See docs/crm_sync.md.

-- YouTube uploads (MISSION.md data model); the upload client (#11) writes it.
CREATE TABLE youtube_integrations (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id      uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    channel_id      text,
    video_id        text,
    playlist_id     text,
    upload_status   text NOT NULL DEFAULT 'pending'
                    CHECK (upload_status IN ('pending', 'uploading', 'complete', 'failed')),
    youtube_url     text,
    thumbnail_url   text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX youtube_integrations_by_project ON youtube_integrations (project_id);

CREATE TABLE crm_outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The Salesforce object the change lands in.
    aggregate        text NOT NULL CHECK (aggregate IN
                     ('Contact', 'AI_Project__c', 'AI_Credit__c', 'YouTube_Integration__c')),
    -- The record's external id (Farm_Id__c): the PostgreSQL primary key.
    record_key       text NOT NULL CHECK (length(record_key) BETWEEN 1 AND 64),
    -- The Salesforce fields as they were when the change was written (an
    -- audit copy; the drainer sends the current state, see above).
    payload          jsonb,
    -- The writer's transaction: rows with one version were committed together.
    -- Rows are ordered by id; the drainer never relies on either for
    -- freshness, it sends the record's state at the time of sending.
    version          bigint NOT NULL DEFAULT txid_current(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    claimed_by       text,
    claimed_at       timestamptz,
    last_error       text,
    done_at          timestamptz
);
CREATE INDEX crm_outbox_pending ON crm_outbox (id) WHERE done_at IS NULL;
CREATE INDEX crm_outbox_by_record ON crm_outbox (aggregate, record_key) WHERE done_at IS NULL;

-- Records Salesforce refused (validation, DUPLICATE_VALUE, ...), with its
-- words. Admins list them and retry them (crm_retry_dead_letters).
CREATE TABLE crm_dead_letters (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    outbox_id     bigint NOT NULL,
    aggregate     text NOT NULL,
    record_key    text NOT NULL,
    payload       jsonb,
    status_code   text NOT NULL,
    message       text NOT NULL,
    fields        jsonb NOT NULL DEFAULT '[]'::jsonb,
    attempts      integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    retried_at    timestamptz
);
CREATE INDEX crm_dead_letters_open ON crm_dead_letters (created_at) WHERE retried_at IS NULL;

-- One wake-up per inserting statement; PostgreSQL folds identical
-- notifications of one transaction into one.
CREATE FUNCTION crm_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('crm_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER crm_outbox_wake AFTER INSERT ON crm_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION crm_outbox_notify();

-- The Salesforce shape of each mirrored record: the single place where
-- PostgreSQL columns become Salesforce fields. Lookups go through the
-- parent's external id, so no Salesforce id is ever stored here.
CREATE VIEW crm_contact_records AS
SELECT u.id::text AS record_key,
       jsonb_build_object(
           'Farm_Id__c', u.id::text,
           -- "Ada King Lovelace" -> FirstName "Ada", LastName "King Lovelace";
           -- one word (or none) is all LastName, which Salesforce requires.
           'FirstName', CASE WHEN n.rest <> '' THEN left(n.first, 40) END,
           'LastName', left(CASE WHEN n.rest <> '' THEN n.rest
                                 WHEN n.first <> '' THEN n.first
                                 ELSE split_part(u.email, '@', 1) END, 80),
           'Email', left(u.email, 80),
           'Subscription_Tier__c', initcap(u.plan),
           'Credit_Balance__c', u.credits_balance,
           'Last_Video_Generation_Date__c',
           (SELECT to_char(max(p.updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
              FROM projects p WHERE p.user_id = u.id AND p.status = 'complete')) AS payload
  FROM users u,
       LATERAL (SELECT split_part(btrim(u.full_name), ' ', 1) AS first,
                       btrim(substr(btrim(u.full_name),
                                    length(split_part(btrim(u.full_name), ' ', 1)) + 1)) AS rest) n;

CREATE VIEW crm_project_records AS
SELECT p.id::text AS record_key,
       jsonb_build_object(
           'Farm_Id__c', p.id::text,
           'Name', coalesce(nullif(left(p.title, 80), ''), 'Untitled'),
           'User__r', jsonb_build_object('Farm_Id__c', p.user_id::text),
           'Script__c', nullif(left(p.script, 131072), ''),
           'Status__c', CASE p.status WHEN 'pending' THEN 'Draft'
                                      WHEN 'processing' THEN 'Processing'
                                      WHEN 'complete' THEN 'Completed'
                                      WHEN 'failed' THEN 'Failed'
                                      ELSE 'Cancelled' END,
           'Video_URL__c', nullif(left(p.video_url, 255), ''),
           'Subtitle_URLs__c', left(p.subtitle_urls::text, 32768),
           'Thumbnail_URL__c', nullif(left(p.thumbnail_url, 255), ''),
           'Duration_Minutes__c', round((p.video_duration / 60.0)::numeric, 2),
           'Credits_Used__c', p.credits_used,
           'Created_Date__c',
           to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) AS payload
  FROM projects p;

CREATE VIEW crm_credit_records AS
SELECT t.id::text AS record_key,
       jsonb_build_object(
           'Farm_Id__c', t.id::text,
           'User__r', jsonb_build_object('Farm_Id__c', t.user_id::text),
           'Transaction_Type__c', initcap(t.kind),
           'Amount__c', t.amount,
           'Balance_After__c', t.balance_after,
           'Description__c', nullif(left(t.description, 255), ''),
           'Transaction_Date__c',
           to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) AS payload
  FROM credit_transactions t;

CREATE VIEW crm_youtube_records AS
SELECT y.id::text AS record_key,
       jsonb_build_object(
           'Farm_Id__c', y.id::text,
           'Project__r', jsonb_build_object('Farm_Id__c', y.project_id::text),
           'Video_ID__c', nullif(left(y.video_id, 32), ''),
           'Playlist_ID__c', nullif(left(y.playlist_id, 64), ''),
           'Upload_Status__c', CASE y.upload_status WHEN 'complete' THEN 'Completed'
                                                    ELSE initcap(y.upload_status) END,
           'YouTube_URL__c', nullif(left(y.youtube_url, 255), ''),
           'Thumbnail_URL__c', nullif(left(y.thumbnail_url, 255), ''),
           'Upload_Date__c',
           to_char(y.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) AS payload
  FROM youtube_integrations y;

-- The current Salesforce shape of records of one object, by external id.
CREATE FUNCTION crm_current_records(p_aggregate text, p_keys text[])
RETURNS TABLE (record_key text, payload jsonb) LANGUAGE plpgsql STABLE AS $$
BEGIN
    CASE p_aggregate
    WHEN 'Contact' THEN
        RETURN QUERY SELECT c.record_key, c.payload FROM crm_contact_records c
                      WHERE c.record_key = ANY (p_keys);
    WHEN 'AI_Project__c' THEN
        RETURN QUERY SELECT c.record_key, c.payload FROM crm_project_records c
                      WHERE c.record_key = ANY (p_keys);
    WHEN 'AI_Credit__c' THEN
        RETURN QUERY SELECT c.record_key, c.payload FROM crm_credit_records c
                      WHERE c.record_key = ANY (p_keys);
    WHEN 'YouTube_Integration__c' THEN
        RETURN QUERY SELECT c.record_key, c.payload FROM crm_youtube_records c
                      WHERE c.record_key = ANY (p_keys);
    ELSE
        RAISE EXCEPTION 'unknown Salesforce object %', p_aggregate;
    END CASE;
END $$;

-- The writer every trigger (and store/src/outbox.cpp) goes through.
CREATE FUNCTION crm_enqueue(p_aggregate text, p_key text, p_payload jsonb) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO crm_outbox (aggregate, record_key, payload) VALUES (p_aggregate, p_key, p_payload)
$$;

CREATE FUNCTION crm_track_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Logins and password changes are not Salesforce's business.
    IF TG_OP = 'UPDATE' AND (OLD.email, OLD.full_name, OLD.plan, OLD.credits_balance)
                            IS NOT DISTINCT FROM
                            (NEW.email, NEW.full_name, NEW.plan, NEW.credits_balance) THEN
        RETURN NULL;
    END IF;
    PERFORM crm_enqueue('Contact', NEW.id::text, NULL);
    RETURN NULL;
END $$;
CREATE TRIGGER crm_track_users AFTER INSERT OR UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION crm_track_user();

CREATE FUNCTION crm_track_project() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Settings edits and the like change nothing Salesforce shows; a
    -- completed project's updated_at does (the Contact's last video date).
    IF TG_OP = 'UPDATE'
       AND (OLD.user_id, OLD.title, OLD.script, OLD.status, OLD.video_duration, OLD.video_url,
            OLD.thumbnail_url, OLD.subtitle_urls, OLD.credits_used, OLD.created_at)
           IS NOT DISTINCT FROM
           (NEW.user_id, NEW.title, NEW.script, NEW.status, NEW.video_duration, NEW.video_url,
            NEW.thumbnail_url, NEW.subtitle_urls, NEW.credits_used, NEW.created_at)
       AND (NEW.status <> 'complete' OR OLD.updated_at = NEW.updated_at) THEN
        RETURN NULL;
    END IF;
    PERFORM crm_enqueue('AI_Project__c', NEW.id::text, NULL);
    -- The Contact's "last video generation date" is the latest update of a
    -- completed project: any change to or from a completed one can move it.
    IF NEW.status = 'complete' OR (TG_OP = 'UPDATE' AND OLD.status = 'complete') THEN
        PERFORM crm_enqueue('Contact', NEW.user_id::text, NULL);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER crm_track_projects AFTER INSERT OR UPDATE ON projects
    FOR EACH ROW EXECUTE FUNCTION crm_track_project();

CREATE FUNCTION crm_track_credit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM crm_enqueue('AI_Credit__c', NEW.id::text, NULL);
    RETURN NULL;
END $$;
CREATE TRIGGER crm_track_credits AFTER INSERT ON credit_transactions
    FOR EACH ROW EXECUTE FUNCTION crm_track_credit();

CREATE FUNCTION crm_track_youtube() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM crm_enqueue('YouTube_Integration__c', NEW.id::text, NULL);
    RETURN NULL;
END $$;
CREATE TRIGGER crm_track_youtube_uploads AFTER INSERT OR UPDATE ON youtube_integrations
    FOR EACH ROW EXECUTE FUNCTION crm_track_youtube();
