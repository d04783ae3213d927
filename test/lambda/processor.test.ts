import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { processOrders, ProcessorDependencies } from '../../lambda/processor/processor';
import { Database } from '../../lambda/shared/database';
import { ControlTableSchema } from '../../lambda/contracts/tables';
import { createControlTable, createJournalTable, documents, scanAll, silentLogger } from '../helpers/aws';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { injectInsertFailures, journalOrder, migratedDatabase, sqsEvent } from '../helpers/orders';

/** Accepts `count` orders through intake and returns the queue messages' bodies as intake wrote them. */
async function journaledOrders(journalTable: string, count: number): Promise<string[]> {
  const bodies: string[] = [];
  for (let index = 0; index < count; index++) {
    bodies.push(
      await journalOrder(journalTable, {
        clientOrderId: `c-${index}`,
        accountId: 'acct-1',
        symbol: 'MSFT',
        side: 'sell',
        orderType: 'market',
        quantity: `${index + 1}`,
      }),
    );
  }
  return bodies;
}

describe('order processor against PostgreSQL and moto_server', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let deps: ProcessorDependencies;

  beforeEach(async () => {
    testDatabase = await createTestDatabase('processor');
    database = await migratedDatabase(testDatabase);
    const [journalTable, controlTable] = await Promise.all([createJournalTable(), createControlTable()]);
    deps = { database, documents, journalTable, controlTable, region: 'us-east-1', primaryRegion: 'us-east-1', logger: silentLogger };
  });

  afterEach(async () => {
    await database.end();
    await testDatabase.drop();
  });

  const orderCount = async (): Promise<number> => (await database.query<{ n: number }>('count', 'SELECT count(*)::int AS n FROM orders'))[0].n;

  it('commits every valid order, marks it applied, and fails only the poison message', async () => {
    const bodies = await journaledOrders(deps.journalTable, 3);
    const event = sqsEvent([...bodies.map((body, index) => ({ messageId: `m-${index}`, body })), { messageId: 'poison', body: '{"not":"an order"' }]);
    const response = await processOrders(event, deps);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'poison' }]);
    expect(await orderCount()).toBe(3);
    const journal = await scanAll(deps.journalTable);
    // Recorded as committed under the epoch; pending until reconciliation finds it durable.
    expect(journal.every((entry) => entry.pendingShard !== undefined && entry.appliedRegion === 'us-east-1' && entry.appliedEpoch === 0)).toBe(true);
  });

  it('treats a well-formed message that is not an order as poison', async () => {
    const response = await processOrders(sqsEvent([{ messageId: 'not-order', body: JSON.stringify({ orderId: 'x' }) }]), deps);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'not-order' }]);
  });

  it('commits a redelivered message once', async () => {
    const [body] = await journaledOrders(deps.journalTable, 1);
    await processOrders(sqsEvent([{ messageId: 'first', body }]), deps);
    const again = await processOrders(sqsEvent([{ messageId: 'again', body, receiveCount: 2 }]), deps);
    expect(again.batchItemFailures).toEqual([]);
    expect(await orderCount()).toBe(1);
  });

  it('commits an order delivered twice in one batch once', async () => {
    const [body] = await journaledOrders(deps.journalTable, 1);
    const response = await processOrders(
      sqsEvent([
        { messageId: 'a', body },
        { messageId: 'b', body },
      ]),
      deps,
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(await orderCount()).toBe(1);
  });

  it('falls back to one order at a time when the batch insert keeps failing, and fails only what cannot commit', async () => {
    const client = await testDatabase.connect();
    try {
      // A row the database refuses for good (not transient): the batch insert can never succeed.
      await client.query(`CREATE FUNCTION refuse_symbol() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.client_order_id = 'c-1' THEN RAISE EXCEPTION 'refused' USING ERRCODE = '23514'; END IF; RETURN NEW; END $$`);
      await client.query('CREATE TRIGGER refuse BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION refuse_symbol()');
    } finally {
      await client.end();
    }
    const bodies = await journaledOrders(deps.journalTable, 3);
    const response = await processOrders(sqsEvent(bodies.map((body, index) => ({ messageId: `m-${index}`, body }))), deps);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    expect(await orderCount()).toBe(2);
  });

  it('retries transient database failures with backoff and commits everything', async () => {
    await injectInsertFailures(testDatabase, 3);
    const bodies = await journaledOrders(deps.journalTable, 12);
    const response = await processOrders(sqsEvent(bodies.map((body, index) => ({ messageId: `m-${index}`, body }))), deps);
    expect(response.batchItemFailures).toEqual([]);
    expect(await orderCount()).toBe(12);
  });

  const setControl = (activeRegion: string, fencingEpoch: number) =>
    documents.send(
      new PutCommand({
        TableName: deps.controlTable,
        Item: {
          [ControlTableSchema.pk]: ControlTableSchema.activeRegionItem,
          [ControlTableSchema.activeRegion]: activeRegion,
          [ControlTableSchema.fencingEpoch]: fencingEpoch,
        },
      }),
    );

  it('as the standby region, commits nothing and leaves journaled orders to the active region (no retry loop, no dead letter)', async () => {
    await setControl('us-east-2', 2);
    const bodies = await journaledOrders(deps.journalTable, 2);
    const outcomes: string[] = [];
    const response = await processOrders(sqsEvent(bodies.map((body, index) => ({ messageId: `m-${index}`, body }))), {
      ...deps,
      record: (outcome) => outcomes.push(outcome),
    });
    expect(response.batchItemFailures).toEqual([]);
    expect(outcomes).toEqual(['deferred', 'deferred']);
    expect(await orderCount()).toBe(0);
    expect((await scanAll(deps.journalTable)).every((entry) => entry.pendingShard !== undefined && entry.appliedAt === undefined)).toBe(true);
  });

  it('as the standby region, dead-letters a message whose order the journal does not hold', async () => {
    await setControl('us-east-2', 2);
    const [body] = await journaledOrders(deps.journalTable, 1);
    const forged = JSON.stringify({ ...JSON.parse(body), orderId: '00000000-0000-4000-8000-000000000009' });
    const response = await processOrders(sqsEvent([{ messageId: 'forged', body: forged }]), deps);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'forged' }]);
  });

  it('commits nothing under an epoch the cluster has moved past, and leaves the messages for retry', async () => {
    await setControl('us-east-1', 3);
    await database.query('a newer epoch committed here', 'UPDATE fencing_epoch SET epoch = 4');
    const bodies = await journaledOrders(deps.journalTable, 2);
    const response = await processOrders(sqsEvent(bodies.map((body, index) => ({ messageId: `m-${index}`, body }))), deps);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-0' }, { itemIdentifier: 'm-1' }]);
    expect(await orderCount()).toBe(0);
  });

  it('does not record a commit in the journal when the epoch moved while it committed', async () => {
    await setControl('us-east-1', 0);
    const [body] = await journaledOrders(deps.journalTable, 1);
    // The failover happens between the commit and the journal write (the database's own epoch stays 0 here).
    const racing: Database = Object.create(database, {
      transactionInOneTrip: {
        value: async (...args: Parameters<Database['transactionInOneTrip']>) =>
          database.transactionInOneTrip(...args).finally(() => setControl('us-east-2', 1)),
      },
    });
    const outcomes: string[] = [];
    const response = await processOrders(sqsEvent([{ messageId: 'm', body }]), { ...deps, database: racing, record: (outcome) => outcomes.push(outcome) });
    expect(response.batchItemFailures).toEqual([]);
    expect(outcomes).toEqual(['unconfirmed']);
    const [entry] = await scanAll(deps.journalTable);
    expect(entry.appliedAt).toBeUndefined();
    expect(entry.pendingShard).toBeDefined();
  });

  it('never takes another order holding the key as this one: the conflict is recorded, the message is done, the stored row stays', async () => {
    const [body] = await journaledOrders(deps.journalTable, 1);
    const order = JSON.parse(body);
    await database.query(
      'another order under the key',
      `INSERT INTO orders (order_id, client_order_id, account_id, symbol, side, order_type, quantity, accepted_at, accepted_region, fencing_epoch)
      VALUES ('00000000-0000-4000-8000-000000000002', $1, $2, 'AAPL', 'buy', 'market', 5, now(), 'us-east-1', 0)`,
      [order.clientOrderId, order.accountId],
    );
    const outcomes: string[] = [];
    const response = await processOrders(sqsEvent([{ messageId: 'm', body }]), { ...deps, record: (outcome) => outcomes.push(outcome) });
    expect(response.batchItemFailures).toEqual([]);
    expect(outcomes).toEqual(['conflict']);
    expect(await database.query('rows', 'SELECT order_id FROM orders')).toEqual([{ order_id: '00000000-0000-4000-8000-000000000002' }]);
    // The operator's record holds the order as the journal has it, and who found the conflict.
    expect(await database.query('conflicts', 'SELECT order_id, stored_order_id, journal_order, detected_in FROM order_conflicts')).toEqual([
      { order_id: order.orderId, stored_order_id: '00000000-0000-4000-8000-000000000002', journal_order: order, detected_in: deps.region },
    ]);
    const [entry] = await scanAll(deps.journalTable);
    expect(entry.appliedAt).toBeUndefined();
    expect(entry.conflictingOrderId).toBe('00000000-0000-4000-8000-000000000002');
  });

  it("stores an order beside another account's row under the same client order id: the key is the account's", async () => {
    const [body] = await journaledOrders(deps.journalTable, 1);
    const order = JSON.parse(body);
    await database.query(
      'another account under the client order id',
      `INSERT INTO orders (order_id, client_order_id, account_id, symbol, side, order_type, quantity, accepted_at, accepted_region, fencing_epoch)
      VALUES ('00000000-0000-4000-8000-000000000004', $1, 'acct-other', 'AAPL', 'buy', 'market', 5, now(), 'us-east-1', 0)`,
      [order.clientOrderId],
    );
    const outcomes: string[] = [];
    expect((await processOrders(sqsEvent([{ messageId: 'm', body }]), { ...deps, record: (outcome) => outcomes.push(outcome) })).batchItemFailures).toEqual([]);
    expect(outcomes).toEqual(['committed']);
    const rows = await database.query<{ order_id: string; account_id: string }>('rows', 'SELECT order_id, account_id FROM orders ORDER BY account_id');
    expect(rows).toEqual([
      { order_id: order.orderId, account_id: order.accountId },
      { order_id: '00000000-0000-4000-8000-000000000004', account_id: 'acct-other' },
    ]);
    expect(await database.query('conflicts', 'SELECT order_id FROM order_conflicts')).toEqual([]);
  });

  it("gives up a lock wait within the invocation's time, and nothing it started commits after it answered", async () => {
    const [body] = await journaledOrders(deps.journalTable, 1);
    const admin = await testDatabase.connect();
    try {
      await admin.query('BEGIN');
      await admin.query('LOCK TABLE orders IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      const response = await processOrders(sqsEvent([{ messageId: 'm', body }]), { ...deps, remainingMs: () => 2000 - (Date.now() - started), reserveMs: 500 });
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm' }]);
      // Without limits the insert would wait for the lock for ever, and commit once it was released.
      await admin.query('COMMIT');
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      await admin.end();
    }
    expect(await orderCount()).toBe(0);
  });

  it('survives the database dropping its connection mid-query: the process stays up and the batch is retried', async () => {
    const [body] = await journaledOrders(deps.journalTable, 1);
    const admin = await testDatabase.connect();
    try {
      // Every session of this database is killed while the insert waits on a lock.
      await admin.query('BEGIN');
      await admin.query('LOCK TABLE orders IN ACCESS EXCLUSIVE MODE');
      const processing = processOrders(sqsEvent([{ messageId: 'm', body }]), { ...deps, remainingMs: () => 1500, reserveMs: 500 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'trading-dr'",
      );
      const response = await processing;
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm' }]);
      await admin.query('ROLLBACK');
    } finally {
      await admin.end();
    }
    expect(await orderCount()).toBe(0);
  });

  it('records the fencing epoch it committed under', async () => {
    await documents.send(
      new PutCommand({
        TableName: deps.controlTable,
        Item: {
          [ControlTableSchema.pk]: ControlTableSchema.activeRegionItem,
          [ControlTableSchema.activeRegion]: 'us-east-1',
          [ControlTableSchema.fencingEpoch]: 7,
        },
      }),
    );
    const [body] = await journaledOrders(deps.journalTable, 1);
    await processOrders(sqsEvent([{ messageId: 'm', body }]), deps);
    expect(await database.query('epoch', 'SELECT fencing_epoch::int AS epoch FROM orders')).toEqual([{ epoch: 7 }]);
  });
});
