-- Revocable access tokens (issue #19). Every access token carries the
-- user's token_version (claim "ver"); the gateway compares it with this
-- column on each request (cached for a few seconds), so bumping it ends
-- every access token of the user. The gateway bumps it on logout-all,
-- password change and role change; a deleted user has no row, so their
-- tokens end too. A role change made any other way (SQL, the CLI) bumps it
-- here, so a demotion never leaves an old token working.
ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 0;

CREATE FUNCTION users_bump_token_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.role IS DISTINCT FROM OLD.role AND NEW.token_version = OLD.token_version THEN
        NEW.token_version := OLD.token_version + 1;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER users_role_revokes_tokens BEFORE UPDATE OF role ON users
    FOR EACH ROW EXECUTE FUNCTION users_bump_token_version();
