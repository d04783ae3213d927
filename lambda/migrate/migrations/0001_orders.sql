-- 0001_orders: the system of record for orders.
--
-- Processors upsert by order_id; client_order_id is the client's idempotency key and the
-- order journal's partition key, so it is unique here too. journal_applied_at is the
-- applied-journal marker: a row here means the journal entry has been applied, and
-- reconciliation after a failover replays exactly the journal entries with no row.
-- Every statement is idempotent, so the file can also be applied by hand more than once.

CREATE TABLE IF NOT EXISTS orders (
    order_id            uuid            PRIMARY KEY,
    client_order_id     text            NOT NULL,
    account_id          text            NOT NULL,
    symbol              text            NOT NULL,
    side                text            NOT NULL,
    order_type          text            NOT NULL,
    quantity            numeric(28, 8)  NOT NULL,
    limit_price         numeric(28, 8),
    status              text            NOT NULL DEFAULT 'accepted',
    accepted_at         timestamptz     NOT NULL,
    accepted_region     text            NOT NULL,
    fencing_epoch       bigint          NOT NULL,
    journal_applied_at  timestamptz     NOT NULL DEFAULT now(),
    CONSTRAINT orders_client_order_id_key UNIQUE (client_order_id),
    CONSTRAINT orders_side_check CHECK (side IN ('buy', 'sell')),
    CONSTRAINT orders_order_type_check CHECK (order_type IN ('market', 'limit')),
    CONSTRAINT orders_quantity_positive CHECK (quantity > 0),
    CONSTRAINT orders_limit_price_matches_type CHECK ((order_type = 'limit') = (limit_price IS NOT NULL)),
    CONSTRAINT orders_limit_price_positive CHECK (limit_price IS NULL OR limit_price > 0),
    CONSTRAINT orders_client_order_id_length CHECK (char_length(client_order_id) BETWEEN 1 AND 64)
);

CREATE INDEX IF NOT EXISTS orders_accepted_at_idx ON orders (accepted_at);
CREATE INDEX IF NOT EXISTS orders_account_accepted_at_idx ON orders (account_id, accepted_at);
