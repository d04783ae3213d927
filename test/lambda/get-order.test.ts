import { lookupOrder, LookupDependencies } from '../../lambda/get-order/lookup';
import { processOrders } from '../../lambda/processor/processor';
import { Database } from '../../lambda/shared/database';
import { createControlTable, createJournalTable, documents, silentLogger } from '../helpers/aws';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { journalOrder, migratedDatabase, sqsEvent, unreachableDatabase } from '../helpers/orders';

describe('order lookup against PostgreSQL and moto_server', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let deps: LookupDependencies;
  let controlTable: string;

  beforeAll(async () => {
    testDatabase = await createTestDatabase('lookup');
    database = await migratedDatabase(testDatabase, 2);
  });

  afterAll(async () => {
    await database.end();
    await testDatabase.drop();
  });

  beforeEach(async () => {
    const [journalTable, control] = await Promise.all([createJournalTable(), createControlTable()]);
    controlTable = control;
    deps = { database, documents, journalTable, logger: silentLogger };
  });

  const accept = (clientOrderId: string): Promise<string> =>
    journalOrder(deps.journalTable, {
      clientOrderId,
      accountId: 'acct-1',
      symbol: 'NVDA',
      side: 'buy',
      orderType: 'limit',
      quantity: '5',
      limitPrice: '120.5',
    });

  it('answers from the journal while the order is not in Aurora yet', async () => {
    await accept('look-1');
    const response = await lookupOrder('look-1', 'acct-1', deps);
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ clientOrderId: 'look-1', status: 'accepted', source: 'journal', limitPrice: '120.5' });
    expect(JSON.parse(response.body).requestDigest).toBeUndefined();
  });

  it('answers from Aurora once the order is committed', async () => {
    const body = await accept('look-2');
    await processOrders(sqsEvent([{ messageId: 'm', body }]), {
      database,
      documents,
      journalTable: deps.journalTable,
      controlTable,
      region: 'us-east-1',
      primaryRegion: 'us-east-1',
      logger: silentLogger,
    });
    const response = await lookupOrder('look-2', 'acct-1', deps);
    expect(JSON.parse(response.body)).toMatchObject({ clientOrderId: 'look-2', source: 'database', quantity: '5.00000000', symbol: 'NVDA' });
  });

  it('falls back to the journal when Aurora cannot answer', async () => {
    await accept('look-3');
    const down = await unreachableDatabase(200);
    const response = await lookupOrder('look-3', 'acct-1', { ...deps, database: down });
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ source: 'journal' });
    await down.end();
  });

  it("never answers another order stored under the key: the journal's order, with status conflict", async () => {
    const body = JSON.parse(await accept('look-c'));
    await database.query(
      'another order under the key',
      `INSERT INTO orders (order_id, client_order_id, account_id, symbol, side, order_type, quantity, accepted_at, accepted_region, fencing_epoch)
      VALUES ('00000000-0000-4000-8000-000000000003', 'look-c', 'acct-1', 'AAPL', 'sell', 'market', 9, now(), 'us-east-1', 0)`,
    );
    await processOrders(sqsEvent([{ messageId: 'm', body: JSON.stringify(body) }]), {
      database,
      documents,
      journalTable: deps.journalTable,
      controlTable,
      region: 'us-east-1',
      primaryRegion: 'us-east-1',
      logger: silentLogger,
    });
    const answer = JSON.parse((await lookupOrder('look-c', 'acct-1', deps)).body);
    expect(answer).toMatchObject({ orderId: body.orderId, clientOrderId: 'look-c', status: 'conflict', source: 'journal' });
  });

  it("answers each account's own order under a client order id two accounts used", async () => {
    const mine = JSON.parse(await accept('look-shared'));
    const theirs = JSON.parse(
      await journalOrder(deps.journalTable, {
        clientOrderId: 'look-shared',
        accountId: 'acct-2',
        symbol: 'AAPL',
        side: 'sell',
        orderType: 'market',
        quantity: '9',
      }),
    );
    expect(theirs.orderId).not.toBe(mine.orderId);
    await processOrders(sqsEvent([{ messageId: 'm', body: JSON.stringify(mine) }]), {
      database,
      documents,
      journalTable: deps.journalTable,
      controlTable,
      region: 'us-east-1',
      primaryRegion: 'us-east-1',
      logger: silentLogger,
    });
    expect(JSON.parse((await lookupOrder('look-shared', 'acct-1', deps)).body)).toMatchObject({ orderId: mine.orderId, symbol: 'NVDA', source: 'database' });
    expect(JSON.parse((await lookupOrder('look-shared', 'acct-2', deps)).body)).toMatchObject({ orderId: theirs.orderId, symbol: 'AAPL', source: 'journal' });
    expect((await lookupOrder('look-shared', 'acct-3', deps)).statusCode).toBe(404);
  });

  it('answers 404 for an unknown order and 400 for a malformed id or a missing account', async () => {
    expect((await lookupOrder('nobody', 'acct-1', deps)).statusCode).toBe(404);
    const bad = await lookupOrder('has spaces', 'acct-1', deps);
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body).problems.map((problem: { field: string }) => problem.field)).toEqual(['id']);
    const noAccount = await lookupOrder('look-1', undefined, deps);
    expect(noAccount.statusCode).toBe(400);
    expect(JSON.parse(noAccount.body).problems.map((problem: { field: string }) => problem.field)).toEqual(['accountId']);
  });
});
