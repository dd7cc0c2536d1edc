-- Billing through Stripe (issue #20). Stripe is the authority for payments;
-- these tables hold what Reelfarm needs to act on Stripe's events exactly
-- once and to check them against what it asked Stripe for. See
-- billing/README.md and docs/ledger.md.

-- The data-sharing opt-in (the work log's), with the moment it was given;
-- opted-in users get the membership discount at checkout.
ALTER TABLE users ADD COLUMN data_sharing_opt_in boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN data_sharing_opt_in_at timestamptz;

-- A purchase's credits taken back when Stripe refunds its payment: credits
-- out, never below zero, naming the payment (payment_ref).
ALTER TABLE credit_transactions DROP CONSTRAINT credit_transactions_kind_check;
ALTER TABLE credit_transactions ADD CONSTRAINT credit_transactions_kind_check
    CHECK (kind IN ('purchase', 'deduction', 'grant', 'refund', 'reset', 'reversal'));
ALTER TABLE credit_transactions DROP CONSTRAINT credit_tx_delta_sign;
ALTER TABLE credit_transactions ADD CONSTRAINT credit_tx_delta_sign CHECK (
    (kind = 'deduction' AND delta IN (-amount, 0)) OR
    (kind = 'refund' AND delta IN (amount, 0)) OR
    (kind = 'reversal' AND delta = -amount) OR
    (kind IN ('purchase', 'grant', 'reset') AND delta = amount));
ALTER TABLE credit_transactions DROP CONSTRAINT credit_tx_payment_required;
ALTER TABLE credit_transactions ADD CONSTRAINT credit_tx_payment_required
    CHECK (kind NOT IN ('purchase', 'reversal') OR payment_ref IS NOT NULL);

-- Salesforce has no Reversal: it is a Refund there, with the credits that
-- went out as a negative amount.
CREATE OR REPLACE VIEW crm_credit_records AS
SELECT t.id::text AS record_key,
       jsonb_build_object(
           'Farm_Id__c', t.id::text,
           'User__r', jsonb_build_object('Farm_Id__c', t.user_id::text),
           'Transaction_Type__c', CASE t.kind WHEN 'reversal' THEN 'Refund' ELSE initcap(t.kind) END,
           'Amount__c', CASE t.kind WHEN 'reversal' THEN t.delta ELSE t.amount END,
           'Balance_After__c', t.balance_after,
           'Description__c', nullif(left(t.description, 255), ''),
           'Transaction_Date__c',
           to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) AS payload
  FROM credit_transactions t;

-- Credits in for a paid subscription period: the balance is raised to the
-- plan's monthly credits (never lowered), once per key (the invoice). NULL
-- when nothing moved.
CREATE FUNCTION credit_renew(p_user uuid, p_plan_credits bigint, p_description text, p_key text)
RETURNS credit_tx_result LANGUAGE plpgsql AS $$
DECLARE
    u users := credit_lock_user(p_user);
    t credit_transactions;
BEGIN
    SELECT * INTO t FROM credit_transactions WHERE user_id = p_user AND idempotency_key = p_key;
    IF FOUND THEN
        RETURN credit_tx_as_result(t, true);
    END IF;
    IF u.credits_unlimited OR p_plan_credits IS NULL OR u.credits_balance >= p_plan_credits THEN
        RETURN NULL;
    END IF;
    t := credit_append(u, 'reset', p_plan_credits - u.credits_balance,
                       p_plan_credits - u.credits_balance, p_description, NULL, NULL, NULL, p_key);
    RETURN credit_tx_as_result(t, false);
END $$;

-- Takes back up to p_amount credits of a refunded payment, never more than
-- the balance holds. NULL when nothing moved (the credits were spent).
CREATE FUNCTION credit_reverse(p_user uuid, p_amount bigint, p_payment text,
                               p_description text, p_key text)
RETURNS credit_tx_result LANGUAGE plpgsql AS $$
DECLARE
    u users := credit_lock_user(p_user);
    t credit_transactions;
    taken bigint;
BEGIN
    SELECT * INTO t FROM credit_transactions WHERE user_id = p_user AND idempotency_key = p_key;
    IF FOUND THEN
        RETURN credit_tx_as_result(t, true);
    END IF;
    taken := least(p_amount, u.credits_balance);
    IF u.credits_unlimited OR taken <= 0 THEN
        RETURN NULL;
    END IF;
    t := credit_append(u, 'reversal', taken, -taken, p_description, NULL, p_payment, NULL, p_key);
    RETURN credit_tx_as_result(t, false);
END $$;

-- The Stripe customer of each user (created by Reelfarm at the first
-- checkout): how an event about a customer finds its user.
CREATE TABLE billing_customers (
    user_id      uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    customer_id  text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Every Checkout Session Reelfarm created, with what it sold and for how
-- much: an event is applied only to a session found here, and only when
-- Stripe's amount is the one asked for.
CREATE TABLE billing_checkouts (
    session_id     text PRIMARY KEY,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('credit_pack', 'plan')),
    product        text NOT NULL,
    credits        bigint CHECK (credits IS NULL OR credits > 0),
    amount_cents   bigint NOT NULL CHECK (amount_cents >= 0),
    currency       text NOT NULL,
    discounted     boolean NOT NULL DEFAULT false,
    completed_at   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX billing_checkouts_by_user ON billing_checkouts (user_id, created_at);

-- Subscriptions as Stripe last described them (by the newest event seen:
-- an older event arriving late changes nothing).
CREATE TABLE billing_subscriptions (
    subscription_id      text PRIMARY KEY,
    user_id              uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    plan                 text NOT NULL,
    status               text NOT NULL,
    current_period_end   timestamptz,
    cancel_at_period_end boolean NOT NULL DEFAULT false,
    past_due_since       timestamptz,
    ended                boolean NOT NULL DEFAULT false,
    last_event_at        bigint NOT NULL DEFAULT 0,
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX billing_subscriptions_by_user ON billing_subscriptions (user_id) WHERE NOT ended;

-- One-time payments that bought credits, for refunds.
CREATE TABLE billing_payments (
    payment_intent    text PRIMARY KEY,
    user_id           uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    session_id        text NOT NULL REFERENCES billing_checkouts (session_id),
    credits           bigint NOT NULL CHECK (credits > 0),
    amount_cents      bigint NOT NULL CHECK (amount_cents >= 0),
    currency          text NOT NULL,
    refunded_cents    bigint NOT NULL DEFAULT 0 CHECK (refunded_cents >= 0),
    credits_taken_back bigint NOT NULL DEFAULT 0 CHECK (credits_taken_back >= 0),
    created_at        timestamptz NOT NULL DEFAULT now()
);

-- Subscription invoices Stripe reported paid; `renewed` once its credits
-- were given, so a repeated or late event gives nothing more.
CREATE TABLE billing_invoices (
    invoice_id        text PRIMARY KEY,
    user_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    subscription_id   text NOT NULL,
    amount_paid       bigint NOT NULL,
    currency          text NOT NULL,
    renewed           boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now()
);

-- Every event applied (its id stored in the same transaction as its
-- effect): a second delivery finds it here and does nothing.
CREATE TABLE billing_events (
    event_id     text PRIMARY KEY,
    type         text NOT NULL,
    effect       text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);
