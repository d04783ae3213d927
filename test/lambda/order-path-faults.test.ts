import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { acceptOrder, IntakeDependencies } from '../../lambda/intake/intake';
import { processOrders } from '../../lambda/processor/processor';
import { Database } from '../../lambda/shared/database';
import { createControlTable, createJournalTable, createOrderQueues, queueDepth, scanAll, silentLogger } from '../helpers/aws';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { injectInsertFailures, migratedDatabase, sqsEvent } from '../helpers/orders';
import { RunningMoto, startMoto } from '../helpers/services';

/**
 * The whole order path under faults, on real services: 10,000 orders through intake (moto_server's
 * DynamoDB and SQS) with 5% of requests repeated, poison messages in the queue, and every 20th
 * database insert failing; the processor drains the queue as Lambda's SQS poller would (batches,
 * partial failures, redrive after the receive limit). Every valid order must be in PostgreSQL
 * exactly once, every poison message in the dead-letter queue, and nothing lost.
 */
const ORDERS = Number(process.env.FAULT_TEST_ORDERS ?? 10_000);
const DUPLICATE_EVERY = 20; // 5% of requests repeat an earlier order
const POISON_MESSAGES = 40;
const MAX_RECEIVE_COUNT = 3;
const INTAKE_CONCURRENCY = 8;
const MAX_BACKLOG = 60;
const BATCH_SIZE = 10;
const POLLERS = 1;

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

describe('order path under faults (10,000 orders)', () => {
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
    documents = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: dynamodbServer.url }), { marshallOptions: { removeUndefinedValues: true } });
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

  it('stores every valid order exactly once and dead-letters every poison message', async () => {
    const [journalTable, controlTable, queues] = await Promise.all([
      createJournalTable(documents),
      createControlTable(documents),
      createOrderQueues(MAX_RECEIVE_COUNT, 0, sqs),
    ]);
    const intake: IntakeDependencies = { documents, sqs, journalTable, queueUrl: queues.queueUrl, region: 'us-east-1', pendingShards: 8, maxBodyBytes: 4096, logger: silentLogger };

    // Poison: messages no intake would write, put straight into the queue.
    for (let batch = 0; batch < POISON_MESSAGES / 10; batch++) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queues.queueUrl,
          Entries: Array.from({ length: 10 }, (_unused, index) => ({ Id: `p${index}`, MessageBody: index % 2 ? '{"broken": ' : JSON.stringify({ orderId: 'not-a-uuid' }) })),
        }),
      );
    }

    // Intake: each order once, and every 20th request repeats an earlier order (a client retry).
    const requests: number[] = [];
    for (let index = 0; index < ORDERS; index++) {
      requests.push(index);
      if (index % DUPLICATE_EVERY === DUPLICATE_EVERY - 1) requests.push(index - 7);
    }
    const statuses = new Map<number, number>();
    let intakeDone = false;
    let sent = 0;
    let deleted = 0;
    const intakeRun = inParallel(requests, INTAKE_CONCURRENCY, async (index) => {
      // Back-pressure, as in production the processor keeps pace: moto_server's SQS slows down
      // with every message the queue holds, so the test keeps the backlog short.
      while (sent - deleted > MAX_BACKLOG) await new Promise((resolve) => setTimeout(resolve, 5));
      sent++;
      const response = await acceptOrder(orderBody(index), false, intake);
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
    }).finally(() => {
      intakeDone = true;
    });

    // Processor: polls while intake runs, as Lambda's SQS event source does; deletes what
    // succeeded and leaves failures to be received again, up to the redrive limit. One poller:
    // moto_server answers concurrent receives and deletes on one queue with internal errors.
    const poll = async (): Promise<void> => {
      let emptyPolls = 0;
      while (!intakeDone || emptyPolls < 3) {
        const received = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, MaxNumberOfMessages: BATCH_SIZE, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
        );
        const messages = received.Messages ?? [];
        if (messages.length === 0) {
          emptyPolls = intakeDone ? emptyPolls + 1 : 0;
          await new Promise((resolve) => setTimeout(resolve, 20));
          continue;
        }
        emptyPolls = 0;
        const response = await processOrders(
          sqsEvent(messages.map((message) => ({ messageId: message.MessageId!, body: message.Body!, receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1) }))),
          { database, documents, journalTable, controlTable, region: 'us-east-1', primaryRegion: 'us-east-1', logger: silentLogger },
        );
        const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
        const done = messages.filter((message) => !failed.has(message.MessageId!));
        if (done.length > 0) {
          await sqs.send(
            new DeleteMessageBatchCommand({ QueueUrl: queues.queueUrl, Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })) }),
          );
          deleted += done.length;
        }
      }
    };
    await Promise.all([intakeRun, ...Array.from({ length: POLLERS }, poll)]);
    const duplicates = requests.length - ORDERS;
    expect(Object.fromEntries(statuses)).toEqual({ 201: ORDERS, 200: duplicates });

    const stored = await database.query<{ total: number; distinct_keys: number }>(
      'count orders',
      'SELECT count(*)::int AS total, count(DISTINCT client_order_id)::int AS distinct_keys FROM orders',
    );
    expect(stored).toEqual([{ total: ORDERS, distinct_keys: ORDERS }]);
    const missing = await database.query<{ n: number }>(
      'find missing',
      `SELECT count(*)::int AS n FROM generate_series(0, ${ORDERS - 1}) AS i WHERE NOT EXISTS (SELECT 1 FROM orders WHERE client_order_id = 'ord-' || i)`,
    );
    expect(missing).toEqual([{ n: 0 }]);
    expect(await queueDepth(queues.deadLetterQueueUrl, sqs)).toBe(POISON_MESSAGES);
    expect(await queueDepth(queues.queueUrl, sqs)).toBe(0);
    // Every entry is recorded as committed under the epoch (it leaves the pending index once reconciliation finds it durable).
    const unrecorded = (await scanAll(journalTable, documents)).filter((entry) => entry.appliedAt === undefined || entry.appliedEpoch !== 0);
    expect(unrecorded).toEqual([]);
  }, 900_000);
});
