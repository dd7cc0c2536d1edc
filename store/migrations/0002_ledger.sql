-- The credit ledger: every movement of credits is one append-only row, and
-- users.credits_balance is a cached sum of those rows kept in the same
-- transaction. The functions below are the only writers; each one locks the
-- user row (SELECT ... FOR UPDATE), so the operations of one user are
-- serialised and, since no operation locks two users, no deadlock can form.
-- See docs/ledger.md.

-- Unlimited plans (enterprise): charges are recorded but move no credits.
ALTER TABLE users ADD COLUMN credits_unlimited boolean NOT NULL DEFAULT false;
-- The day of the month credits renew on (the sign-up day), so that a
-- renewal clamped to a short month (31 Jan -> 28 Feb) goes back to the 31st.
ALTER TABLE users ADD COLUMN credits_renewal_day smallint
    CHECK (credits_renewal_day BETWEEN 1 AND 31);
ALTER TABLE users ADD CONSTRAINT users_credits_not_negative CHECK (credits_balance >= 0);
CREATE INDEX users_credits_reset_due ON users (credits_reset_date);

CREATE TABLE credit_transactions (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    kind             text NOT NULL
                     CHECK (kind IN ('purchase', 'deduction', 'grant', 'refund', 'reset')),
    -- What the movement is worth (the job's price, the purchase's size).
    amount           bigint NOT NULL CHECK (amount > 0),
    -- What it did to the balance: -amount for a deduction, 0 for one on an
    -- unlimited plan; a refund undoes exactly its deduction's delta.
    delta            bigint NOT NULL,
    balance_after    bigint NOT NULL CHECK (balance_after >= 0),
    description      text NOT NULL DEFAULT '',
    job_id           text,
    payment_ref      text,
    refund_of        bigint,
    idempotency_key  text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT credit_tx_key_unique UNIQUE (user_id, idempotency_key),
    CONSTRAINT credit_tx_refund_target UNIQUE (id, user_id, job_id, amount),
    CONSTRAINT credit_tx_delta_sign CHECK (
        (kind = 'deduction' AND delta IN (-amount, 0)) OR
        (kind = 'refund' AND delta IN (amount, 0)) OR
        (kind IN ('purchase', 'grant', 'reset') AND delta = amount)),
    CONSTRAINT credit_tx_job_required CHECK (
        (kind IN ('deduction', 'refund')) = (job_id IS NOT NULL)),
    CONSTRAINT credit_tx_payment_required CHECK (kind <> 'purchase' OR payment_ref IS NOT NULL),
    -- A refund names the deduction it undoes: same user, same job, same amount.
    CONSTRAINT credit_tx_refund_names_deduction CHECK ((kind = 'refund') = (refund_of IS NOT NULL)),
    CONSTRAINT credit_tx_refund_fk FOREIGN KEY (refund_of, user_id, job_id, amount)
        REFERENCES credit_transactions (id, user_id, job_id, amount)
);
-- A job is charged at most once and refunded at most once.
CREATE UNIQUE INDEX credit_tx_one_deduction_per_job ON credit_transactions (job_id)
    WHERE kind = 'deduction';
CREATE UNIQUE INDEX credit_tx_one_refund_per_job ON credit_transactions (job_id)
    WHERE kind = 'refund';
CREATE UNIQUE INDEX credit_tx_one_purchase_per_payment ON credit_transactions (payment_ref)
    WHERE kind = 'purchase';
CREATE INDEX credit_tx_by_user ON credit_transactions (user_id, id);

-- Append-only: history is corrected by new rows, never rewritten.
CREATE FUNCTION credit_tx_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'credit_transactions is append-only (% refused)', TG_OP
        USING ERRCODE = 'RF403';
END $$;
CREATE TRIGGER credit_tx_no_update BEFORE UPDATE OR DELETE ON credit_transactions
    FOR EACH ROW EXECUTE FUNCTION credit_tx_append_only();
CREATE TRIGGER credit_tx_no_truncate BEFORE TRUNCATE ON credit_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION credit_tx_append_only();

-- Jobs cancelled through the ledger: before the charge (a later charge is
-- refused) or after it (no refund, ever).
CREATE TABLE credit_job_cancellations (
    job_id        text PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    was_charged   boolean NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- The row every ledger function returns; `replayed` is true when the
-- idempotency key (or the job) had already been applied and the first
-- result is returned unchanged.
CREATE TYPE credit_tx_result AS (
    id               bigint,
    user_id          uuid,
    kind             text,
    amount           bigint,
    delta            bigint,
    balance_after    bigint,
    description      text,
    job_id           text,
    payment_ref      text,
    refund_of        bigint,
    idempotency_key  text,
    created_at       timestamptz,
    replayed         boolean
);

CREATE FUNCTION credit_tx_as_result(t credit_transactions, p_replayed boolean)
RETURNS credit_tx_result LANGUAGE sql IMMUTABLE AS $$
    SELECT t.id, t.user_id, t.kind, t.amount, t.delta, t.balance_after, t.description, t.job_id,
           t.payment_ref, t.refund_of, t.idempotency_key, t.created_at, p_replayed
$$;

-- Locks the user row; RF404 when there is none.
CREATE FUNCTION credit_lock_user(p_user uuid) RETURNS users LANGUAGE plpgsql AS $$
DECLARE
    u users;
BEGIN
    SELECT * INTO u FROM users WHERE id = p_user FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'user % does not exist', p_user USING ERRCODE = 'RF404';
    END IF;
    RETURN u;
END $$;

-- The transaction already recorded under this key, checked to be the same
-- request (RF409 when the key was used for something else).
CREATE FUNCTION credit_find_key(p_user uuid, p_key text, p_kind text, p_amount bigint,
                                p_job text)
RETURNS credit_transactions LANGUAGE plpgsql AS $$
DECLARE
    t credit_transactions;
BEGIN
    SELECT * INTO t FROM credit_transactions WHERE user_id = p_user AND idempotency_key = p_key;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF t.kind <> p_kind OR (p_amount IS NOT NULL AND t.amount <> p_amount)
       OR t.job_id IS DISTINCT FROM p_job THEN
        RAISE EXCEPTION 'idempotency key "%" was already used for a different % of % credits',
            p_key, t.kind, t.amount USING ERRCODE = 'RF409';
    END IF;
    RETURN t;
END $$;

CREATE FUNCTION credit_append(u users, p_kind text, p_amount bigint, p_delta bigint,
                              p_description text, p_job text, p_payment text, p_refund_of bigint,
                              p_key text)
RETURNS credit_transactions LANGUAGE plpgsql AS $$
DECLARE
    t credit_transactions;
BEGIN
    INSERT INTO credit_transactions (user_id, kind, amount, delta, balance_after, description,
                                     job_id, payment_ref, refund_of, idempotency_key)
    VALUES (u.id, p_kind, p_amount, p_delta, u.credits_balance + p_delta, p_description, p_job,
            p_payment, p_refund_of, p_key)
    RETURNING * INTO t;
    UPDATE users SET credits_balance = t.balance_after, updated_at = now() WHERE id = u.id;
    RETURN t;
END $$;

-- Grant or purchase: credits in.
CREATE FUNCTION credit_add(p_user uuid, p_kind text, p_amount bigint, p_description text,
                           p_payment text, p_key text)
RETURNS credit_tx_result LANGUAGE plpgsql AS $$
DECLARE
    u users := credit_lock_user(p_user);
    t credit_transactions := credit_find_key(p_user, p_key, p_kind, p_amount, NULL);
BEGIN
    IF t.id IS NOT NULL THEN
        RETURN credit_tx_as_result(t, true);
    END IF;
    IF p_kind = 'purchase' THEN
        SELECT * INTO t FROM credit_transactions WHERE kind = 'purchase' AND payment_ref = p_payment;
        IF FOUND THEN
            IF t.user_id <> p_user OR t.amount <> p_amount THEN
                RAISE EXCEPTION 'payment "%" was already credited to another purchase', p_payment
                    USING ERRCODE = 'RF409';
            END IF;
            RETURN credit_tx_as_result(t, true);
        END IF;
    END IF;
    t := credit_append(u, p_kind, p_amount, p_amount, p_description, NULL, p_payment, NULL, p_key);
    RETURN credit_tx_as_result(t, false);
END $$;

-- The charge at render start. RF402: not enough credits (nothing written);
-- RF410: the job was cancelled before it started.
CREATE FUNCTION credit_charge(p_user uuid, p_job text, p_amount bigint, p_description text,
                              p_key text)
RETURNS credit_tx_result LANGUAGE plpgsql AS $$
DECLARE
    u users := credit_lock_user(p_user);
    t credit_transactions := credit_find_key(p_user, p_key, 'deduction', p_amount, p_job);
BEGIN
    IF t.id IS NOT NULL THEN
        RETURN credit_tx_as_result(t, true);
    END IF;
    SELECT * INTO t FROM credit_transactions WHERE kind = 'deduction' AND job_id = p_job;
    IF FOUND THEN
        IF t.user_id <> p_user OR t.amount <> p_amount THEN
            RAISE EXCEPTION 'job "%" was already charged % credits to another account or amount',
                p_job, t.amount USING ERRCODE = 'RF409';
        END IF;
        RETURN credit_tx_as_result(t, true);
    END IF;
    IF EXISTS (SELECT 1 FROM credit_job_cancellations WHERE job_id = p_job) THEN
        RAISE EXCEPTION 'job "%" was cancelled before it started; it cannot be charged', p_job
            USING ERRCODE = 'RF410';
    END IF;
    IF u.credits_unlimited THEN
        t := credit_append(u, 'deduction', p_amount, 0, p_description, p_job, NULL, NULL, p_key);
    ELSIF u.credits_balance < p_amount THEN
        RAISE EXCEPTION 'insufficient credits: the job needs %, the balance is %', p_amount,
            u.credits_balance USING ERRCODE = 'RF402';
    ELSE
        t := credit_append(u, 'deduction', p_amount, -p_amount, p_description, p_job, NULL, NULL,
                           p_key);
    END IF;
    RETURN credit_tx_as_result(t, false);
END $$;

-- The full refund of a failed job's charge, once. RF404: the job was never
-- charged to this user; RF410: the job was cancelled after it started.
CREATE FUNCTION credit_refund(p_user uuid, p_job text, p_description text, p_key text)
RETURNS credit_tx_result LANGUAGE plpgsql AS $$
DECLARE
    u users := credit_lock_user(p_user);
    t credit_transactions := credit_find_key(p_user, p_key, 'refund', NULL, p_job);
    d credit_transactions;
BEGIN
    IF t.id IS NOT NULL THEN
        RETURN credit_tx_as_result(t, true);
    END IF;
    SELECT * INTO t FROM credit_transactions WHERE kind = 'refund' AND job_id = p_job;
    IF FOUND THEN
        IF t.user_id <> p_user THEN
            RAISE EXCEPTION 'job "%" belongs to another account', p_job USING ERRCODE = 'RF409';
        END IF;
        RETURN credit_tx_as_result(t, true);
    END IF;
    SELECT * INTO d FROM credit_transactions
     WHERE kind = 'deduction' AND job_id = p_job AND user_id = p_user;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'job "%" has no charge on this account to refund', p_job
            USING ERRCODE = 'RF404';
    END IF;
    IF EXISTS (SELECT 1 FROM credit_job_cancellations WHERE job_id = p_job) THEN
        RAISE EXCEPTION 'job "%" was cancelled after processing started; it is not refunded', p_job
            USING ERRCODE = 'RF410';
    END IF;
    t := credit_append(u, 'refund', d.amount, -d.delta, p_description, p_job, NULL, d.id, p_key);
    RETURN credit_tx_as_result(t, false);
END $$;

-- Cancellation by the user. Returns true when the job had been charged (it
-- stays charged: no refund after processing started), false when nothing
-- was charged (and nothing ever will be). Idempotent.
CREATE FUNCTION credit_cancel(p_user uuid, p_job text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    u users := credit_lock_user(p_user);
    c credit_job_cancellations;
    charged boolean;
BEGIN
    SELECT * INTO c FROM credit_job_cancellations WHERE job_id = p_job;
    IF FOUND THEN
        IF c.user_id <> u.id THEN
            RAISE EXCEPTION 'job "%" belongs to another account', p_job USING ERRCODE = 'RF409';
        END IF;
        RETURN c.was_charged;
    END IF;
    SELECT EXISTS (SELECT 1 FROM credit_transactions
                    WHERE kind = 'deduction' AND job_id = p_job AND user_id = u.id) INTO charged;
    IF EXISTS (SELECT 1 FROM credit_transactions WHERE kind = 'refund' AND job_id = p_job) THEN
        RAISE EXCEPTION 'job "%" already failed and was refunded', p_job USING ERRCODE = 'RF409';
    END IF;
    INSERT INTO credit_job_cancellations (job_id, user_id, was_charged)
    VALUES (p_job, u.id, charged);
    RETURN charged;
END $$;

-- The monthly reset on the renewal date. The balance is raised to the
-- plan's monthly credits (never lowered: purchased and granted credits
-- carry over) and the renewal date moves to the first one after p_today,
-- on the user's renewal day (clamped to the length of the month).
-- Returns NULL when no reset is due (already done: running twice is safe)
-- or when the balance was already at or above the allowance.
CREATE FUNCTION credit_reset(p_user uuid, p_today date, p_plan_credits bigint, p_description text)
RETURNS credit_tx_result LANGUAGE plpgsql AS $$
DECLARE
    u users := credit_lock_user(p_user);
    t credit_transactions;
    next_date date;
    month_start date;
    month_days int;
    renewal_day int;
    months int := 1;
BEGIN
    IF u.credits_reset_date IS NULL OR u.credits_reset_date > p_today THEN
        RETURN NULL;
    END IF;
    renewal_day := coalesce(u.credits_renewal_day, extract(day FROM u.credits_reset_date)::int);
    LOOP
        month_start := (date_trunc('month', u.credits_reset_date)
                        + make_interval(months => months))::date;
        month_days := extract(day FROM month_start + interval '1 month' - interval '1 day')::int;
        next_date := month_start + least(renewal_day, month_days) - 1;
        EXIT WHEN next_date > p_today;
        months := months + 1;
    END LOOP;
    UPDATE users SET credits_reset_date = next_date, credits_renewal_day = renewal_day,
                     updated_at = now()
     WHERE id = u.id;
    IF u.credits_unlimited OR u.credits_balance >= p_plan_credits THEN
        RETURN NULL;
    END IF;
    t := credit_append(u, 'reset', p_plan_credits - u.credits_balance,
                       p_plan_credits - u.credits_balance, p_description, NULL, NULL, NULL,
                       'reset:' || u.credits_reset_date::text);
    RETURN credit_tx_as_result(t, false);
END $$;
