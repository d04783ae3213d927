-- 0002_fencing_and_conflicts: fencing inside the database, and orders that could not be stored.
--
-- fencing_epoch holds the highest fencing epoch any commit has been made under (one row). Every
-- commit of orders runs in a transaction that reads it under a share lock, refuses to commit when
-- it is higher than the committer's epoch, and raises it when it is lower: a processor that read
-- the control table before a failover cannot commit once anything has committed under the newer
-- epoch in this cluster (the orchestrator's reconciliation does so right after every promotion).
-- Checking, raising and committing in one transaction makes them atomic: an advance waits for
-- commits in flight under the older epoch, then fences every later one.
--
-- order_conflicts keeps journal orders that could not be stored because another row already
-- holds their client_order_id (a different orderId, or the same orderId with other fields). They
-- are never marked applied; an operator decides (README, "Data").
-- Every statement is idempotent.

CREATE TABLE IF NOT EXISTS fencing_epoch (
    singleton    boolean      PRIMARY KEY DEFAULT true,
    epoch        bigint       NOT NULL,
    advanced_at  timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT fencing_epoch_one_row CHECK (singleton),
    CONSTRAINT fencing_epoch_not_negative CHECK (epoch >= 0)
);

INSERT INTO fencing_epoch (singleton, epoch) VALUES (true, 0) ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS order_conflicts (
    order_id          uuid         PRIMARY KEY,
    client_order_id   text         NOT NULL,
    account_id        text         NOT NULL,
    stored_order_id   uuid         NOT NULL,
    journal_order     jsonb        NOT NULL,
    detected_at       timestamptz  NOT NULL DEFAULT now(),
    detected_in       text         NOT NULL
);
