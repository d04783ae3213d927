import { processOrders, ProcessorDependencies } from '../../lambda/processor/processor';
import { Database } from '../../lambda/shared/database';
import { createControlTable, createJournalTable, documents, silentLogger } from '../helpers/aws';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { journalOrder, migratedDatabase, sqsEvent } from '../helpers/orders';
import { RestartingProxy } from '../helpers/tcp-proxy';

/**
 * An in-region writer restart under the processor: every connection drops and the endpoint
 * refuses new ones until the writer is back (about 30 s on Aurora; here 3 s, with the invocation's
 * time scaled alike). The processor rides it out within one invocation when its time allows, and
 * otherwise returns the records for redelivery with nothing committed after it answered.
 */
const DOWN_MS = 3000;

describe('the processor through a writer restart (PostgreSQL behind a loopback proxy)', () => {
  let testDatabase: TestDatabase;
  let proxy: RestartingProxy;
  let database: Database;
  let deps: ProcessorDependencies;

  beforeEach(async () => {
    testDatabase = await createTestDatabase('restart');
    proxy = new RestartingProxy({ host: testDatabase.host, port: testDatabase.port });
    await proxy.start();
    database = await migratedDatabase(testDatabase, 4, proxy.port);
    const [journalTable, controlTable] = await Promise.all([createJournalTable(), createControlTable()]);
    deps = { database, documents, journalTable, controlTable, region: 'us-east-1', primaryRegion: 'us-east-1', logger: silentLogger };
  });

  afterEach(async () => {
    await database.end();
    await proxy.stop();
    await testDatabase.drop();
  });

  /** Orders in the database, counted past the proxy. */
  async function storedCount(): Promise<number> {
    const client = await testDatabase.connect();
    try {
      return (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM orders')).rows[0].n;
    } finally {
      await client.end();
    }
  }

  async function batch(count: number) {
    const bodies: string[] = [];
    for (let index = 0; index < count; index++) {
      bodies.push(
        await journalOrder(deps.journalTable, {
          clientOrderId: `r-${index}`,
          accountId: 'acct-1',
          symbol: 'MSFT',
          side: 'buy',
          orderType: 'market',
          quantity: '1',
        }),
      );
    }
    return sqsEvent(bodies.map((body, index) => ({ messageId: `m-${index}`, body })));
  }

  it('commits the batch within one invocation when its time outlasts the restart', async () => {
    const event = await batch(5);
    // Connections in the pool first, so the restart drops live ones.
    await database.query('warm the pool', 'SELECT 1');
    const restart = proxy.restart(DOWN_MS);
    const started = Date.now();
    const deadline = started + 4 * DOWN_MS;
    const response = await processOrders(event, { ...deps, remainingMs: () => deadline - Date.now(), reserveMs: 500 });
    await restart;
    expect(response.batchItemFailures).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(DOWN_MS - 100);
    expect(await storedCount()).toBe(5);
  });

  it('returns the batch for redelivery when the restart outlasts the invocation, and commits nothing after answering', async () => {
    const event = await batch(5);
    await database.query('warm the pool', 'SELECT 1');
    const restart = proxy.restart(2 * DOWN_MS);
    const deadline = Date.now() + DOWN_MS;
    const response = await processOrders(event, { ...deps, remainingMs: () => deadline - Date.now(), reserveMs: 500 });
    expect(Date.now()).toBeLessThanOrEqual(deadline + 500);
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(['m-0', 'm-1', 'm-2', 'm-3', 'm-4']);
    await restart;
    // The writer is back; nothing the invocation started commits afterwards.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await storedCount()).toBe(0);
  });
});
