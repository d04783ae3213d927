import { randomBytes } from 'crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { ControlTableSchema, OrderJournalSchema } from '../../lambda/contracts/tables';

/** SDK clients against moto_server (AWS_ENDPOINT_URL is set by the global setup). */
export const dynamodb = new DynamoDBClient({});
export const documents = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
export const sqs = new SQSClient({});
export const silentLogger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });

/**
 * DynamoDB applies each write to an item atomically: a conditional write succeeds only if its
 * condition holds when the write is applied (Developer Guide, "Condition expressions"), so of two
 * conditional puts of a new item at once, one fails. moto_server serves requests on threads and
 * checks a condition without a lock, so both can pass. This client sends the process's writes to
 * one item one at a time, which restores that rule for tests whose writers all share a process.
 */
export function atomicPerItem(client: DynamoDBDocumentClient): DynamoDBDocumentClient {
  const tails = new Map<string, Promise<unknown>>();
  const itemOf = (input: Record<string, any>): string | undefined => {
    const key =
      input.Key ??
      (input.Item
        ? { [OrderJournalSchema.orderKey]: input.Item[OrderJournalSchema.orderKey], [ControlTableSchema.pk]: input.Item[ControlTableSchema.pk] }
        : undefined);
    return key === undefined ? undefined : `${input.TableName} ${JSON.stringify(key)}`;
  };
  return {
    send: (command: { input: Record<string, any> }) => {
      const item = command instanceof PutCommand || command instanceof UpdateCommand || command instanceof DeleteCommand ? itemOf(command.input) : undefined;
      if (item === undefined) return client.send(command as never);
      const sent = (tails.get(item) ?? Promise.resolve()).catch(() => undefined).then(() => client.send(command as never));
      tails.set(item, sent);
      void sent.finally(() => tails.get(item) === sent && tails.delete(item)).catch(() => undefined);
      return sent;
    },
    destroy: () => client.destroy(),
  } as unknown as DynamoDBDocumentClient;
}

function unique(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** The order journal with the same keys and index as lib/data/order-journal.ts. */
export async function createJournalTable(client: DynamoDBDocumentClient = documents): Promise<string> {
  const TableName = unique('journal');
  await client.send(
    new CreateTableCommand({
      TableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: OrderJournalSchema.orderKey, AttributeType: 'S' },
        { AttributeName: OrderJournalSchema.pendingShard, AttributeType: 'S' },
        { AttributeName: OrderJournalSchema.acceptedAt, AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: OrderJournalSchema.orderKey, KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: OrderJournalSchema.pendingIndex,
          KeySchema: [
            { AttributeName: OrderJournalSchema.pendingShard, KeyType: 'HASH' },
            { AttributeName: OrderJournalSchema.acceptedAt, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  return TableName;
}

/** The control table with the same key as lib/data/control-table.ts. */
export async function createControlTable(client: DynamoDBDocumentClient = documents): Promise<string> {
  const TableName = unique('control');
  await client.send(
    new CreateTableCommand({
      TableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: ControlTableSchema.pk, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: ControlTableSchema.pk, KeyType: 'HASH' }],
    }),
  );
  return TableName;
}

/** An order queue with a dead-letter queue and redrive, as lib/order-path/order-processing.ts builds them. */
export async function createOrderQueues(
  maxReceiveCount: number,
  visibilityTimeoutSeconds = 0,
  client: SQSClient = sqs,
): Promise<{ queueUrl: string; deadLetterQueueUrl: string }> {
  const name = unique('orders');
  const deadLetter = await client.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const deadLetterArn = (await client.send(new GetQueueAttributesCommand({ QueueUrl: deadLetter.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!
    .QueueArn;
  const queue = await client.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterArn, maxReceiveCount }),
      },
    }),
  );
  return { queueUrl: queue.QueueUrl!, deadLetterQueueUrl: deadLetter.QueueUrl! };
}

/** Every item of a table (paginated). */
export async function scanAll(tableName: string, client: DynamoDBDocumentClient = documents): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey }));
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

/**
 * The bodies of every message the queue holds now, each deleted once read: a message only
 * received comes back after the queue's visibility timeout, and a later read would see it again.
 */
export async function takeAllMessages(queueUrl: string, client: SQSClient = sqs): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (!Messages || Messages.length === 0) return bodies;
    bodies.push(...Messages.map((message) => message.Body!));
    await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
      }),
    );
  }
}

export async function queueDepth(queueUrl: string, client: SQSClient = sqs): Promise<number> {
  const attributes = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(attributes.Attributes!.ApproximateNumberOfMessages) + Number(attributes.Attributes!.ApproximateNumberOfMessagesNotVisible);
}
