import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { json } from '../shared/http';
import { journalEntry, readJournalEntry } from '../shared/journal';
import { OrderRequestSchema } from '../contracts/order-request';
import { AcceptedOrder, AcceptedOrderSchema, fieldProblems, requestDigest } from '../shared/order';
import { OrderJournalSchema } from '../contracts/tables';

/** What intake needs; the handler builds it once per container, tests build it against moto_server. */
export interface IntakeDependencies {
  readonly documents: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly journalTable: string;
  readonly queueUrl: string;
  readonly region: string;
  readonly pendingShards: number;
  readonly maxBodyBytes: number;
  readonly logger: Logger;
  /** Called once per outcome, for metrics. */
  readonly record?: (outcome: IntakeOutcome) => void;
  readonly now?: () => Date;
  readonly newOrderId?: () => string;
}

export type IntakeOutcome = 'accepted' | 'duplicate' | 'rejected' | 'conflict' | 'journal_unavailable' | 'not_queued';

/** `application/json`, with parameters (a charset) allowed: the only body intake reads. */
const JSON_MEDIA_TYPE = /^application\/json\s*(;.*)?$/i;

/**
 * 415 unless the request says its body is JSON. API Gateway validates a body against the model
 * only for content types that have one, so without this a `text/plain` body would skip it.
 */
export function refuseContentType(headers: Record<string, string | undefined> | null | undefined): APIGatewayProxyResult | undefined {
  const contentType = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === 'content-type')?.[1];
  if (contentType !== undefined && JSON_MEDIA_TYPE.test(contentType.trim())) return undefined;
  return json(415, {
    error: 'unsupported_media_type',
    message: `Content-Type must be application/json (got ${contentType === undefined ? 'none' : JSON.stringify(contentType.slice(0, 100))})`,
  });
}

/**
 * The first key that appears twice in one object of a JSON text, or undefined. JSON.parse keeps
 * the last value silently, so `"side":"buy", ..., "side":"sell"` would be a sell; refusing it
 * keeps what the client meant from depending on a parser. Expects text JSON.parse accepts.
 */
export function duplicateKey(text: string): string | undefined {
  const objects: Set<string>[] = [];
  /** Whether the next string at this depth is a key (after `{` or `,` inside an object). */
  const expectingKey: boolean[] = [];
  const containers: ('object' | 'array')[] = [];
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char === '"') {
      let end = index + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const depth = containers.length - 1;
      if (containers[depth] === 'object' && expectingKey[depth]) {
        const key = JSON.parse(text.slice(index, end + 1)) as string;
        if (objects[depth].has(key)) return key;
        objects[depth].add(key);
        expectingKey[depth] = false;
      }
      index = end;
    } else if (char === '{' || char === '[') {
      containers.push(char === '{' ? 'object' : 'array');
      objects.push(new Set());
      expectingKey.push(char === '{');
    } else if (char === '}' || char === ']') {
      containers.pop();
      objects.pop();
      expectingKey.pop();
    } else if (char === ',' && containers[containers.length - 1] === 'object') {
      expectingKey[containers.length - 1] = true;
    }
  }
  return undefined;
}

/** The answer for an accepted order, first time or retry. */
function acceptedBody(order: AcceptedOrder) {
  return {
    orderId: order.orderId,
    clientOrderId: order.clientOrderId,
    status: 'accepted',
    acceptedAt: order.acceptedAt,
    acceptedRegion: order.acceptedRegion,
  };
}

function badRequest(statusCode: number, problems: { field: string; rule: string }[]): APIGatewayProxyResult {
  return json(statusCode, { error: 'invalid_order', problems });
}

/**
 * POST /orders. The order is durable in both regions (a strongly consistent conditional put into
 * the journal) before it is acknowledged; the same account's clientOrderId again answers the first
 * result.
 * Bad input writes nothing. A failed journal write answers 503 and enqueues nothing.
 */
export async function acceptOrder(rawBody: string | null | undefined, isBase64Encoded: boolean, deps: IntakeDependencies): Promise<APIGatewayProxyResult> {
  const record = deps.record ?? (() => undefined);
  if (rawBody === null || rawBody === undefined || rawBody === '') {
    record('rejected');
    return badRequest(400, [{ field: '(body)', rule: 'is required: a JSON order' }]);
  }
  const body = isBase64Encoded ? Buffer.from(rawBody, 'base64').toString('utf8') : rawBody;
  if (Buffer.byteLength(body, 'utf8') > deps.maxBodyBytes) {
    record('rejected');
    return badRequest(413, [{ field: '(body)', rule: `must be at most ${deps.maxBodyBytes} bytes` }]);
  }
  let parsedJson: unknown;
  try {
    parsedJson = JSON.parse(body);
  } catch (error) {
    deps.logger.info('order rejected: body is not JSON', { error: (error as Error).message });
    record('rejected');
    return badRequest(400, [{ field: '(body)', rule: 'must be valid JSON' }]);
  }
  const repeated = duplicateKey(body);
  if (repeated !== undefined) {
    deps.logger.info('order rejected: a key appears twice', { key: repeated });
    record('rejected');
    return badRequest(400, [{ field: repeated, rule: 'appears more than once in the body' }]);
  }
  const parsed = OrderRequestSchema.safeParse(parsedJson);
  if (!parsed.success) {
    const problems = fieldProblems(parsed.error);
    deps.logger.info('order rejected: invalid fields', { problems });
    record('rejected');
    return badRequest(400, problems);
  }
  const request = parsed.data;
  const order: AcceptedOrder = AcceptedOrderSchema.parse({
    orderId: (deps.newOrderId ?? (() => crypto.randomUUID()))(),
    clientOrderId: request.clientOrderId,
    accountId: request.accountId,
    symbol: request.symbol,
    side: request.side,
    orderType: request.orderType,
    quantity: request.quantity,
    limitPrice: request.limitPrice,
    acceptedAt: (deps.now ?? (() => new Date()))().toISOString(),
    acceptedRegion: deps.region,
    requestDigest: requestDigest(request),
  });
  deps.logger.appendKeys({ accountId: order.accountId, clientOrderId: order.clientOrderId });

  let existing: Record<string, unknown> | undefined;
  try {
    await deps.documents.send(
      new PutCommand({
        TableName: deps.journalTable,
        Item: journalEntry(order, deps.pendingShards),
        ConditionExpression: 'attribute_not_exists(#key)',
        ExpressionAttributeNames: { '#key': OrderJournalSchema.orderKey },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) {
      deps.logger.error('journal write failed; nothing enqueued', { error: (error as Error).message, name: (error as Error).name });
      record('journal_unavailable');
      return json(503, { error: 'journal_unavailable', message: 'the order was not accepted; retry with the same accountId and clientOrderId' });
    }
    // The exception carries the existing item in DynamoDB's wire format (the document client
    // does not convert exceptions); without it, read the entry.
    existing = error.Item ? unmarshall(error.Item) : await readJournalEntry(deps.documents, deps.journalTable, order);
  }

  if (existing) {
    return answerRetry(existing, order, deps);
  }

  const queued = await enqueue(order, deps);
  record(queued ? 'accepted' : 'not_queued');
  deps.logger.info('order accepted', { orderId: order.orderId, queued });
  return json(201, acceptedBody(order));
}

/**
 * The first order under this account's key: the same request again gets the first answer; a
 * different one is refused. The key includes the account, so the first order is always this
 * account's own and the 409 may name it.
 */
async function answerRetry(existing: Record<string, unknown>, order: AcceptedOrder, deps: IntakeDependencies): Promise<APIGatewayProxyResult> {
  const record = deps.record ?? (() => undefined);
  const first = AcceptedOrderSchema.safeParse(existing);
  if (!first.success) {
    deps.logger.error('journal entry under this key is malformed', { problems: fieldProblems(first.error) });
    record('journal_unavailable');
    return json(503, { error: 'journal_unavailable', message: "the account's existing order under this clientOrderId could not be read" });
  }
  if (first.data.requestDigest !== order.requestDigest) {
    record('conflict');
    return json(409, {
      error: 'idempotency_key_reused',
      message: 'this account already used clientOrderId for a different order',
      orderId: first.data.orderId,
    });
  }
  // A retry may follow an enqueue that failed: while the entry is unapplied, queue it again
  // (processing is idempotent by orderId).
  if (existing[OrderJournalSchema.pendingShard] !== undefined) {
    await enqueue(first.data, deps);
  }
  record('duplicate');
  deps.logger.info('order already accepted; answering the first result', { orderId: first.data.orderId });
  return json(200, acceptedBody(first.data));
}

/**
 * Sends the order to this region's queue. The order is already durable and acknowledged by then,
 * so a failure here is logged and counted, not returned to the client: the entry stays pending in
 * the journal, where a retry of the request or reconciliation queues it again.
 */
async function enqueue(order: AcceptedOrder, deps: IntakeDependencies): Promise<boolean> {
  try {
    await deps.sqs.send(new SendMessageCommand({ QueueUrl: deps.queueUrl, MessageBody: JSON.stringify(order) }));
    return true;
  } catch (error) {
    deps.logger.error('order journaled but not queued; it stays pending in the journal', { orderId: order.orderId, error: (error as Error).message });
    return false;
  }
}
