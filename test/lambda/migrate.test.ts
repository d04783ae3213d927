import * as fs from 'fs';
import { Client } from 'pg';
import { MIGRATIONS } from '../../lambda/migrate/migrations';
import { applyMigrations, MigrationChecksumError } from '../../lambda/migrate/migrator';
import { MIGRATIONS_DIRECTORY } from '../../lib/data/schema-migration';
import { createTestDatabase, TestDatabase } from '../helpers/database';

/** A valid order row; override fields per test. */
function orderRow(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    order_id: '6f1c2a4e-8a9b-4c1d-9e2f-0a1b2c3d4e5f',
    client_order_id: 'client-1',
    account_id: 'acct-1',
    symbol: 'AAPL',
    side: 'buy',
    order_type: 'limit',
    quantity: '10',
    limit_price: '187.25',
    accepted_at: '2026-11-25T14:00:00Z',
    accepted_region: 'us-east-1',
    fencing_epoch: 1,
    ...overrides,
  };
}

async function insertOrder(client: Client, row: Record<string, unknown>): Promise<void> {
  const columns = Object.keys(row);
  await client.query(`INSERT INTO orders (${columns.join(', ')}) VALUES (${columns.map((_c, i) => `$${i + 1}`).join(', ')})`, Object.values(row));
}

describe('schema migrations on a real PostgreSQL', () => {
  let database: TestDatabase;
  let client: Client;

  beforeEach(async () => {
    database = await createTestDatabase('migrate');
    client = await database.connect();
  });

  afterEach(async () => {
    await client.end();
    await database.drop();
  });

  it('creates the orders table with its keys, and records the migration', async () => {
    const result = await applyMigrations(client, MIGRATIONS);
    expect(result).toEqual({ applied: ['0001_orders', '0002_fencing_and_conflicts', '0003_account_scoped_key'], skipped: [] });
    const columns = await client.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'orders' ORDER BY ordinal_position",
    );
    expect(columns.rows.map((row) => row.column_name)).toEqual(
      expect.arrayContaining(['order_id', 'client_order_id', 'symbol', 'side', 'quantity', 'limit_price', 'fencing_epoch', 'journal_applied_at']),
    );
    const constraints = await client.query<{ conname: string; contype: string }>(
      "SELECT conname, contype FROM pg_constraint WHERE conrelid = 'orders'::regclass",
    );
    expect(constraints.rows).toEqual(expect.arrayContaining([{ conname: 'orders_pkey', contype: 'p' }]));
    // The idempotency key is the account's client order id (0003), not the client order id alone (0001).
    expect(constraints.rows.map((row) => row.conname)).not.toContain('orders_client_order_id_key');
    const unique = await client.query<{ name: string; definition: string }>(
      "SELECT indexname AS name, indexdef AS definition FROM pg_indexes WHERE tablename = 'orders' AND indexdef LIKE 'CREATE UNIQUE%' ORDER BY 1",
    );
    expect(unique.rows.map((row) => row.name)).toEqual(['orders_account_client_order_id_key', 'orders_pkey']);
    expect(unique.rows[0].definition).toContain('(account_id, client_order_id)');
    const recorded = await client.query('SELECT version FROM schema_migrations');
    expect(recorded.rows).toEqual([{ version: '0001_orders' }, { version: '0002_fencing_and_conflicts' }, { version: '0003_account_scoped_key' }]);
  });

  it('applies nothing and keeps the data when run a second time', async () => {
    await applyMigrations(client, MIGRATIONS);
    await insertOrder(client, orderRow());
    const second = await applyMigrations(client, MIGRATIONS);
    expect(second).toEqual({ applied: [], skipped: ['0001_orders', '0002_fencing_and_conflicts', '0003_account_scoped_key'] });
    const count = await client.query('SELECT count(*)::int AS n FROM orders');
    expect(count.rows[0].n).toBe(1);
  });

  it('keeps the SQL itself idempotent when applied by hand twice', async () => {
    for (const migration of MIGRATIONS) {
      await client.query(migration.sql);
      await client.query(migration.sql);
    }
    await expect(client.query('SELECT count(*) FROM orders')).resolves.toBeDefined();
  });

  it("refuses a second order with the same idempotency key (the account's client order id), and takes another account's", async () => {
    await applyMigrations(client, MIGRATIONS);
    await insertOrder(client, orderRow());
    await expect(insertOrder(client, orderRow({ order_id: '0d6f3a4e-8a9b-4c1d-9e2f-0a1b2c3d4e5f' }))).rejects.toMatchObject({
      code: '23505',
      constraint: 'orders_account_client_order_id_key',
    });
    await insertOrder(client, orderRow({ order_id: '0d6f3a4e-8a9b-4c1d-9e2f-0a1b2c3d4e5f', account_id: 'acct-2' }));
    const count = await client.query('SELECT count(*)::int AS n FROM orders');
    expect(count.rows[0].n).toBe(2);
  });

  it('moves a database migrated before 0003 to the account-scoped key, keeping its orders', async () => {
    await applyMigrations(client, MIGRATIONS.slice(0, 2));
    await insertOrder(client, orderRow());
    await expect(applyMigrations(client, MIGRATIONS)).resolves.toEqual({
      applied: ['0003_account_scoped_key'],
      skipped: ['0001_orders', '0002_fencing_and_conflicts'],
    });
    const constraints = await client.query<{ name: string }>(
      "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'orders' AND indexdef LIKE 'CREATE UNIQUE%' ORDER BY 1",
    );
    expect(constraints.rows.map((row) => row.name)).toEqual(['orders_account_client_order_id_key', 'orders_pkey']);
    const count = await client.query('SELECT count(*)::int AS n FROM orders');
    expect(count.rows[0].n).toBe(1);
  });

  it.each([
    ['a limit order without a price', { limit_price: null }, 'orders_limit_price_matches_type'],
    ['a market order with a price', { order_type: 'market' }, 'orders_limit_price_matches_type'],
    ['a zero quantity', { quantity: '0' }, 'orders_quantity_positive'],
    ['an unknown side', { side: 'short' }, 'orders_side_check'],
    ['an empty client order id', { client_order_id: '' }, 'orders_client_order_id_length'],
  ])('refuses %s', async (_case, overrides, constraint) => {
    await applyMigrations(client, MIGRATIONS);
    await expect(insertOrder(client, orderRow(overrides))).rejects.toMatchObject({ code: '23514', constraint });
  });

  it('refuses to run when a released migration was edited', async () => {
    await applyMigrations(client, MIGRATIONS);
    const edited = [{ version: '0001_orders', sql: `${MIGRATIONS[0].sql}\n-- edited` }];
    await expect(applyMigrations(client, edited)).rejects.toThrow(MigrationChecksumError);
  });

  it('rolls back a failing migration and does not record it', async () => {
    await applyMigrations(client, MIGRATIONS);
    const broken = [...MIGRATIONS, { version: '0099_broken', sql: 'CREATE TABLE half_done (id int); SELECT * FROM missing_table;' }];
    await expect(applyMigrations(client, broken)).rejects.toThrow(/migration 0099_broken failed and was rolled back: relation "missing_table" does not exist/);
    const table = await client.query("SELECT to_regclass('half_done') AS name");
    expect(table.rows[0].name).toBeNull();
    const recorded = await client.query('SELECT version FROM schema_migrations ORDER BY version');
    expect(recorded.rows).toEqual([{ version: '0001_orders' }, { version: '0002_fencing_and_conflicts' }, { version: '0003_account_scoped_key' }]);
  });

  it('applies each migration once when two runs race (advisory lock)', async () => {
    const other = await database.connect();
    try {
      const results = await Promise.all([applyMigrations(client, MIGRATIONS), applyMigrations(other, MIGRATIONS)]);
      expect(results.flatMap((result) => result.applied)).toEqual(['0001_orders', '0002_fencing_and_conflicts', '0003_account_scoped_key']);
      expect(results.flatMap((result) => result.skipped)).toEqual(['0001_orders', '0002_fencing_and_conflicts', '0003_account_scoped_key']);
    } finally {
      await other.end();
    }
  });

  it('refuses versions out of order', async () => {
    await expect(applyMigrations(client, [...MIGRATIONS].reverse().concat({ version: '0000_first', sql: '' }))).rejects.toThrow(
      /unique versions in ascending order/,
    );
  });

  it('lists every .sql file of the migrations folder, in order', () => {
    const files = fs
      .readdirSync(MIGRATIONS_DIRECTORY)
      .filter((name) => name.endsWith('.sql'))
      .sort();
    expect(MIGRATIONS.map((migration) => `${migration.version}.sql`)).toEqual(files);
  });
});
