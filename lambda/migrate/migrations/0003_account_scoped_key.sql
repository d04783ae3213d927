-- 0003_account_scoped_key: the idempotency key is an account's client order id.
--
-- Two accounts may use the same client_order_id for different orders, so the key that makes an
-- order unique is (account_id, client_order_id), as in the order journal (orderKey). Rows stored
-- under 0001 already have unique client_order_ids, so they satisfy the new key and nothing moves.
-- The index is built in the migration's transaction, which blocks writes to orders while it runs
-- (seconds per million rows); run the migration before traffic, as the pipeline does.
-- Every statement is idempotent.

CREATE UNIQUE INDEX IF NOT EXISTS orders_account_client_order_id_key ON orders (account_id, client_order_id);
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_client_order_id_key;
CREATE INDEX IF NOT EXISTS order_conflicts_key_idx ON order_conflicts (account_id, client_order_id);
