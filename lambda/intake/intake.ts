import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { json } from '../shared/http';
import { readJournalEntry } from '../shared/journal';
import { AcceptedOrder, AcceptedOrderSchema, fieldProblems, OrderRequestSchema, pendingShardFor, requestDigest } from '../shared/order';
import { OrderJournalSchema } from '../shared/tables';

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
 * the journal) before it is acknowledged; the same clientOrderId again answers the first result.
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
  deps.logger.appendKeys({ clientOrderId: order.clientOrderId });

  let existing: Record<string, unknown> | undefined;
  try {
    await deps.documents.send(
      new PutCommand({
        TableName: deps.journalTable,
        Item: { ...order, [OrderJournalSchema.pendingShard]: pendingShardFor(order.clientOrderId, deps.pendingShards) },
        ConditionExpression: 'attribute_not_exists(#key)',
        ExpressionAttributeNames: { '#key': OrderJournalSchema.clientOrderId },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) {
      deps.logger.error('journal write failed; nothing enqueued', { error: (error as Error).message, name: (error as Error).name });
      record('journal_unavailable');
      return json(503, { error: 'journal_unavailable', message: 'the order was not accepted; retry with the same clientOrderId' });
    }
    // The exception carries the existing item in DynamoDB's wire format (the document client
    // does not convert exceptions); without it, read the entry.
    existing = error.Item ? unmarshall(error.Item) : await readJournalEntry(deps.documents, deps.journalTable, order.clientOrderId);
  }

  if (existing) {
    return answerRetry(existing, order, deps);
  }

  const queued = await enqueue(order, deps);
  record(queued ? 'accepted' : 'not_queued');
  deps.logger.info('order accepted', { orderId: order.orderId, queued });
  return json(201, acceptedBody(order));
}

/** The first order under this key: the same request again gets the first answer; a different one is refused. */
async function answerRetry(existing: Record<string, unknown>, order: AcceptedOrder, deps: IntakeDependencies): Promise<APIGatewayProxyResult> {
  const record = deps.record ?? (() => undefined);
  const first = AcceptedOrderSchema.safeParse(existing);
  if (!first.success) {
    deps.logger.error('journal entry under this key is malformed', { problems: fieldProblems(first.error) });
    record('journal_unavailable');
    return json(503, { error: 'journal_unavailable', message: 'the existing order under this clientOrderId could not be read' });
  }
  if (first.data.requestDigest !== order.requestDigest) {
    record('conflict');
    return json(409, { error: 'idempotency_key_reused', message: 'clientOrderId was already used for a different order', orderId: first.data.orderId });
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
