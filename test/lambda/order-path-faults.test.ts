import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { acceptOrder, IntakeDependencies } from '../../lambda/intake/intake';
import { processOrders } from '../../lambda/processor/processor';
import { reconcileJournal } from '../../lambda/reconcile/reconcile';
import { Database } from '../../lambda/shared/database';
import { orderKeyOf } from '../../lambda/shared/order';
import { ControlTableSchema } from '../../lambda/contracts/tables';
import { atomicPerItem, createControlTable, createJournalTable, createOrderQueues, queueDepth, scanAll, silentLogger } from '../helpers/aws';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { injectInsertFailures, migratedDatabase, sqsEvent } from '../helpers/orders';
import { RunningMoto, startMoto } from '../helpers/services';

/**
 * The whole order path under faults, on real services: 3,000 orders in `npm test` and 10,000 in
 * `npm run faults` (FAULT_TEST_ORDERS sets any other number) through both regions' intake
 * (moto_server's DynamoDB and SQS) and processors, and reconciliation on its schedule, with:
 * - 5% of requests repeated (client retries) and poison messages in the queue;
 * - every 20th database insert failing, and every backend of the database killed every few
 *   seconds (a writer restart, as far as one shared test server allows);
 * - every 97th enqueue failing after the journal write (acknowledged, never queued);
 * - orders arriving in the standby region (clients holding an old DNS answer);
 * - halfway, an unplanned failover to us-east-2 that drops the writer's last 25 commits (Aurora's
 *   lag window), after which a us-east-1 processor with the old control item tries to commit
 *   under the old epoch.
 * Every acknowledged order must end in the writer exactly once with its own orderId, every
 * poison message in a dead-letter queue, and nothing else lost or dead-lettered.
 */
const ORDERS = Number(process.env.FAULT_TEST_ORDERS ?? 3_000);
const DUPLICATE_EVERY = 20; // 5% of requests repeat an earlier order
const POISON_MESSAGES = 40;
const MAX_RECEIVE_COUNT = 4;
const INTAKE_CONCURRENCY = 8;
const MAX_BACKLOG = 60;
const BATCH_SIZE = 10;
const ENQUEUE_FAILS_EVERY = 97;
/** Before the failover, one order in this many reaches us-east-2; after it, one in this many still reaches us-east-1. */
const STRAY_EVERY = 40;
const DROPPED_BY_FAILOVER = 25;
const STALE_BATCHES = 3;
const RESTART_EVERY_MS = 10_000;
/** Reconciliation's schedule, and its page: each run reads the whole pending index, which on moto_server costs a request per page. */
const RECONCILE_EVERY_MS = 10_000;
const RECONCILE_PAGE = 1000;
const PRIMARY = 'us-east-1';
const SECONDARY = 'us-east-2';
type Region = typeof PRIMARY | typeof SECONDARY;

function orderBody(index: number): string {
  const limit = index % 2 === 0;
  return JSON.stringify({
    clientOrderId: `ord-${index}`,
    accountId: `acct-${index % 97}`,
    symbol: ['AAPL', 'MSFT', 'NVDA', 'BRK.B'][index % 4],
    side: index % 3 === 0 ? 'sell' : 'buy',
    orderType: limit ? 'limit' : 'market',
    quantity: `${(index % 500) + 1}`,
    ...(limit ? { limitPrice: `${100 + (index % 50)}.25` } : {}),
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function inParallel<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++];
        await work(item);
      }
    }),
  );
}

describe(`order path under faults (${ORDERS.toLocaleString('en-US')} orders)`, () => {
  let testDatabase: TestDatabase;
  let database: Database;
  // moto_server serves about a hundred requests a second per process: this test gets its own two,
  // one for DynamoDB and one for SQS, so it neither waits on nor slows the other test files.
  let dynamodbServer: RunningMoto;
  let sqsServer: RunningMoto;
  let documents: DynamoDBDocumentClient;
  let sqs: SQSClient;

  beforeAll(async () => {
    [dynamodbServer, sqsServer] = await Promise.all([startMoto(), startMoto()]);
    // Requests for one key overlap here (a client retrying while its first request is in flight).
    documents = atomicPerItem(
      DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: dynamodbServer.url }), { marshallOptions: { removeUndefinedValues: true } }),
    );
    sqs = new SQSClient({ endpoint: sqsServer.url });
    testDatabase = await createTestDatabase('faults');
    database = await migratedDatabase(testDatabase, 8);
    await injectInsertFailures(testDatabase, 20);
  });

  afterAll(async () => {
    await database.end();
    await testDatabase.drop();
    // The clients' keep-alive sockets would otherwise hold the worker open after the servers go.
    documents.destroy();
    sqs.destroy();
    await Promise.all([dynamodbServer.stop(), sqsServer.stop()]);
  });

  it('stores every acknowledged order exactly once and dead-letters only poison messages', async () => {
    const [journalTable, controlTable, primaryQueues, secondaryQueues] = await Promise.all([
      createJournalTable(documents),
      createControlTable(documents),
      createOrderQueues(MAX_RECEIVE_COUNT, 0, sqs),
      createOrderQueues(MAX_RECEIVE_COUNT, 0, sqs),
    ]);
    const queues: Record<Region, { queueUrl: string; deadLetterQueueUrl: string }> = { [PRIMARY]: primaryQueues, [SECONDARY]: secondaryQueues };

    // us-east-1's intake loses every 97th enqueue after the journal write.
    let sends = 0;
    const flakySqs = {
      send: (command: object) => {
        if (command instanceof SendMessageCommand && ++sends % ENQUEUE_FAILS_EVERY === 0)
          return Promise.reject(Object.assign(new Error('injected: SQS did not answer'), { name: 'TimeoutError' }));
        return sqs.send(command as never);
      },
    } as unknown as SQSClient;
    const intake = (region: Region): IntakeDependencies => ({
      documents,
      sqs: region === PRIMARY ? flakySqs : sqs,
      journalTable,
      queueUrl: queues[region].queueUrl,
      region,
      pendingShards: 8,
      maxBodyBytes: 4096,
      logger: silentLogger,
    });

    // Poison: messages no intake would write, put straight into us-east-1's queue.
    for (let batch = 0; batch < POISON_MESSAGES / 10; batch++) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: primaryQueues.queueUrl,
          Entries: Array.from({ length: 10 }, (_unused, index) => ({
            Id: `p${index}`,
            MessageBody: index % 2 ? '{"broken": ' : JSON.stringify({ orderId: 'not-a-uuid' }),
          })),
        }),
      );
    }

    const staleOutcomes: string[] = [];
    const state = { active: PRIMARY as Region, failedOver: false, intakeDone: false, drained: false, staleBatchesLeft: 0, restarts: 0, reconcileRuns: 0 };
    const reconcile = (trigger: 'schedule' | 'failover') =>
      reconcileJournal({
        database,
        documents,
        journalTable,
        controlTable,
        region: state.active,
        primaryRegion: PRIMARY,
        logger: silentLogger,
        pendingShards: 8,
        pageSize: RECONCILE_PAGE,
        remainingMs: () => 60_000,
        reserveMs: 1000,
        durableAfterMs: 300_000,
        replicationMarginMs: 5000,
        boundMs: 120_000,
        trigger,
      });

    // Halfway: a failover allowing data loss. The writer's last commits are gone, the control
    // table names us-east-2 at epoch 1, and the failover's reconciliation runs there.
    const failover = async (): Promise<void> => {
      await database.query(
        'drop the last commits',
        'DELETE FROM orders WHERE order_id IN (SELECT order_id FROM orders ORDER BY journal_applied_at DESC LIMIT $1)',
        [DROPPED_BY_FAILOVER],
      );
      await documents.send(
        new PutCommand({
          TableName: controlTable,
          Item: {
            [ControlTableSchema.pk]: ControlTableSchema.activeRegionItem,
            [ControlTableSchema.activeRegion]: SECONDARY,
            [ControlTableSchema.fencingEpoch]: 1,
          },
        }),
      );
      state.active = SECONDARY;
      const reconciled = (async () => {
        while (!(await reconcile('failover')).complete);
        state.failedOver = true;
      })();
      // Once the failover's reconciliation has committed under epoch 1 (the dropped orders), the
      // cluster is fenced at 1: from then on the stale processor's commits must be refused.
      while ((await database.query<{ epoch: string }>('read the fence', 'SELECT epoch FROM fencing_epoch'))[0].epoch === '0') await sleep(50);
      state.staleBatchesLeft = STALE_BATCHES;
      await reconciled;
    };

    // Intake: each order once, every 20th request repeating an earlier one; clients reach the
    // active region, and one in STRAY_EVERY the other one.
    const requests: number[] = [];
    for (let index = 0; index < ORDERS; index++) {
      requests.push(index);
      if (index % DUPLICATE_EVERY === DUPLICATE_EVERY - 1) requests.push(index - 7);
    }
    const statuses = new Map<number, number>();
    let started = 0;
    let failoverRun: Promise<void> | undefined;
    const backlog = { sent: 0, deleted: 0 };
    const intakeRun = inParallel(requests, INTAKE_CONCURRENCY, async (index) => {
      // Back-pressure, as in production the processors keep pace: moto_server's SQS slows down
      // with every message a queue holds, so the test keeps the backlog short.
      while (backlog.sent - backlog.deleted > MAX_BACKLOG) await sleep(5);
      if (++started === Math.floor(requests.length / 2)) failoverRun = failover();
      backlog.sent++;
      const stray = index % STRAY_EVERY === 0;
      const region: Region = (state.active === PRIMARY) !== stray ? PRIMARY : SECONDARY;
      const response = await acceptOrder(orderBody(index), false, intake(region));
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
    }).finally(() => {
      state.intakeDone = true;
    });

    // A us-east-1 processor that read the control table before the failover: for a few batches
    // after it, it still believes us-east-1 active at epoch 0.
    const staleControl = {
      send: (command: object) => {
        if (command instanceof GetCommand && command.input.TableName === controlTable && state.staleBatchesLeft > 0) {
          return Promise.resolve({
            Item: {
              [ControlTableSchema.pk]: ControlTableSchema.activeRegionItem,
              [ControlTableSchema.activeRegion]: PRIMARY,
              [ControlTableSchema.fencingEpoch]: 0,
            },
          });
        }
        return documents.send(command as never);
      },
    } as unknown as DynamoDBDocumentClient;

    // Each region's processor polls its queue, as Lambda's SQS event source does: deletes what
    // succeeded and leaves failures to be received again, up to the redrive limit. One poller per
    // queue: moto_server answers concurrent receives and deletes on one queue with internal errors.
    const poll = async (region: Region): Promise<void> => {
      let emptyPolls = 0;
      while (!state.intakeDone || emptyPolls < 3) {
        const received = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queues[region].queueUrl,
            MaxNumberOfMessages: BATCH_SIZE,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
        );
        const messages = received.Messages ?? [];
        if (messages.length === 0) {
          emptyPolls = state.intakeDone ? emptyPolls + 1 : 0;
          await sleep(20);
          continue;
        }
        emptyPolls = 0;
        const stale = region === PRIMARY && state.staleBatchesLeft > 0;
        const response = await processOrders(
          sqsEvent(
            messages.map((message) => ({
              messageId: message.MessageId!,
              body: message.Body!,
              receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
            })),
          ),
          {
            database,
            documents: stale ? staleControl : documents,
            journalTable,
            controlTable,
            region,
            primaryRegion: PRIMARY,
            logger: silentLogger,
            record: stale ? (outcome) => staleOutcomes.push(outcome) : undefined,
          },
        );
        if (stale) state.staleBatchesLeft--;
        const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
        const done = messages.filter((message) => !failed.has(message.MessageId!));
        if (done.length > 0) {
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queues[region].queueUrl,
              Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
            }),
          );
          backlog.deleted += done.length;
        }
      }
    };

    // Every few seconds, every backend of the database is killed mid-work, as a writer restart does.
    const admin = await testDatabase.connect();
    // Dropping the database at the end ends this session too (if the test failed before it did).
    admin.on('error', () => undefined);
    const restarts = (async () => {
      while (!state.drained) {
        await sleep(RESTART_EVERY_MS);
        await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
        state.restarts++;
      }
    })();
    // Reconciliation on its schedule, in whichever region is active.
    const schedule = (async () => {
      while (!state.drained) {
        await sleep(RECONCILE_EVERY_MS);
        if (state.active === SECONDARY && !state.failedOver) continue;
        await reconcile('schedule').catch(() => undefined);
        state.reconcileRuns++;
      }
    })();

    await Promise.all([intakeRun, poll(PRIMARY), poll(SECONDARY)]);
    await failoverRun;
    state.drained = true;
    await Promise.all([restarts, schedule]);
    await admin.end();
    // The last scheduled run, after everything has settled.
    while (!(await reconcile('schedule')).complete);

    const duplicates = requests.length - ORDERS;
    expect(Object.fromEntries(statuses)).toEqual({ 201: ORDERS, 200: duplicates });
    expect(state.restarts).toBeGreaterThan(0);
    // The stale processor's valid orders were all refused by the fence, none committed.
    expect(staleOutcomes.filter((outcome) => outcome !== 'poison').length).toBeGreaterThan(0);
    expect(staleOutcomes.filter((outcome) => outcome !== 'failed' && outcome !== 'poison')).toEqual([]);

    // Every acknowledged order, exactly once, with the orderId its acknowledgement named.
    const journal = await scanAll(journalTable, documents);
    expect(journal).toHaveLength(ORDERS);
    const stored = await database.query<{ order_id: string; account_id: string; client_order_id: string }>(
      'read orders',
      'SELECT order_id, account_id, client_order_id FROM orders',
    );
    expect(stored).toHaveLength(ORDERS);
    const storedIds = new Map(stored.map((row) => [orderKeyOf({ accountId: row.account_id, clientOrderId: row.client_order_id }), row.order_id]));
    const wrong = journal.filter((entry) => storedIds.get(String(entry.orderKey)) !== entry.orderId).map((entry) => entry.orderKey);
    expect(wrong).toEqual([]);
    expect(await database.query('conflicts', 'SELECT order_id FROM order_conflicts')).toEqual([]);
    // Every entry's commit is recorded, under the epoch whose writer holds it.
    expect(journal.filter((entry) => entry.appliedAt === undefined || entry.appliedEpoch !== 1).map((entry) => entry.orderKey)).toEqual([]);

    expect(await queueDepth(primaryQueues.deadLetterQueueUrl, sqs)).toBe(POISON_MESSAGES);
    expect(await queueDepth(secondaryQueues.deadLetterQueueUrl, sqs)).toBe(0);
    expect(await queueDepth(primaryQueues.queueUrl, sqs)).toBe(0);
    expect(await queueDepth(secondaryQueues.queueUrl, sqs)).toBe(0);
  }, 1_200_000);
});
