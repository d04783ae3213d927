import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { processOrders, ProcessorDependencies } from '../../lambda/processor/processor';
import { Database } from '../../lambda/shared/database';
import { ControlTableSchema } from '../../lambda/shared/tables';
import { createControlTable, createJournalTable, documents, scanAll, silentLogger } from '../helpers/aws';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { injectInsertFailures, journalOrder, migratedDatabase, sqsEvent } from '../helpers/orders';

/** Accepts `count` orders through intake and returns the queue messages' bodies as intake wrote them. */
async function journaledOrders(journalTable: string, count: number): Promise<string[]> {
  const bodies: string[] = [];
  for (let index = 0; index < count; index++) {
    bodies.push(await journalOrder(journalTable, { clientOrderId: `c-${index}`, accountId: 'acct-1', symbol: 'MSFT', side: 'sell', orderType: 'market', quantity: `${index + 1}` }));
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
    expect(journal.every((entry) => entry.pendingShard === undefined && entry.appliedRegion === 'us-east-1')).toBe(true);
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
    const response = await processOrders(sqsEvent([{ messageId: 'a', body }, { messageId: 'b', body }]), deps);
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

  it('commits nothing while the control table names another region active (fencing)', async () => {
    await documents.send(
      new PutCommand({
        TableName: deps.controlTable,
        Item: { [ControlTableSchema.pk]: ControlTableSchema.activeRegionItem, [ControlTableSchema.activeRegion]: 'us-east-2', [ControlTableSchema.fencingEpoch]: 2 },
      }),
    );
    const bodies = await journaledOrders(deps.journalTable, 2);
    const response = await processOrders(sqsEvent(bodies.map((body, index) => ({ messageId: `m-${index}`, body }))), deps);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-0' }, { itemIdentifier: 'm-1' }]);
    expect(await orderCount()).toBe(0);
    expect((await scanAll(deps.journalTable)).every((entry) => entry.pendingShard !== undefined)).toBe(true);
  });

  it('records the fencing epoch it committed under', async () => {
    await documents.send(
      new PutCommand({
        TableName: deps.controlTable,
        Item: { [ControlTableSchema.pk]: ControlTableSchema.activeRegionItem, [ControlTableSchema.activeRegion]: 'us-east-1', [ControlTableSchema.fencingEpoch]: 7 },
      }),
    );
    const [body] = await journaledOrders(deps.journalTable, 1);
    await processOrders(sqsEvent([{ messageId: 'm', body }]), deps);
    expect(await database.query('epoch', 'SELECT fencing_epoch::int AS epoch FROM orders')).toEqual([{ epoch: 7 }]);
  });
});
