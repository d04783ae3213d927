import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { readControlState } from '../shared/control';
import type { Database } from '../shared/database';
import type { ControlSettings } from '../shared/env';
import { AcceptedOrder, AcceptedOrderSchema, fieldProblems, orderKeyOf } from '../shared/order';
import { readJournalEntry } from '../shared/journal';
import { commitOrdersOrEach, markJournalCommitted, markJournalConflict, OrderConflict, StaleEpochError } from '../shared/order-store';

export interface ProcessorDependencies extends ControlSettings {
  readonly database: Database;
  readonly documents: DynamoDBDocumentClient;
  readonly logger: Logger;
  readonly record?: (outcome: ProcessorOutcome, count?: number) => void;
  /** The invocation's time left; database retries and statement limits fit in it. @default unlimited */
  readonly remainingMs?: () => number;
  /** Kept back from the invocation's time for the journal writes and the answer. @default 5000 */
  readonly reserveMs?: number;
  readonly now?: () => Date;
}

/**
 * - committed: in the writer under the current epoch, recorded in the journal;
 * - deferred: a standby region's message whose order the journal holds (the active region applies it);
 * - unconfirmed: committed, but the epoch moved before it could be recorded (reconciliation checks it);
 * - conflict: another row holds its key (kept for an operator, never taken as stored);
 * - poison: not an order, or not the order the journal acknowledged (dead-lettered after the receive limit);
 * - failed: to be retried.
 */
export type ProcessorOutcome = 'committed' | 'deferred' | 'unconfirmed' | 'conflict' | 'poison' | 'failed';

/** A message that can never be processed; it fails until the queue moves it to the dead-letter queue. */
export class PoisonMessageError extends Error {
  constructor(messageId: string, reason: string) {
    super(`message ${messageId} is not an order and goes to the dead-letter queue after the receive limit: ${reason}`);
    this.name = 'PoisonMessageError';
  }
}

function parseOrder(record: SQSRecord): AcceptedOrder {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    throw new PoisonMessageError(record.messageId, 'body is not JSON');
  }
  const parsed = AcceptedOrderSchema.safeParse(body);
  if (!parsed.success) {
    throw new PoisonMessageError(
      record.messageId,
      fieldProblems(parsed.error)
        .map((problem) => `${problem.field} ${problem.rule}`)
        .join('; '),
    );
  }
  return parsed.data;
}

/** What happened to each order of the batch, by orderId (absent: to be retried; mismatch: the journal does not hold this order). */
type Settled = Map<string, Exclude<ProcessorOutcome, 'poison' | 'failed'> | 'mismatch'>;

/**
 * The active region's path: commit the batch in one fenced statement (each order alone if that
 * fails; an order that fails alone is retried through its message), then re-read the control
 * table, and record the commits in the journal only if the epoch they were made under is still
 * current. A stale epoch commits nothing; the messages are retried and, once this region reads
 * itself standby, deferred to the active one.
 */
async function commitBatch(orders: AcceptedOrder[], epoch: number, deps: ProcessorDependencies): Promise<Settled> {
  const settled: Settled = new Map();
  if (orders.length === 0) return settled;
  const remainingMs = deps.remainingMs;
  const budget = remainingMs ? { remainingMs, reserveMs: deps.reserveMs ?? 5000 } : undefined;
  let stored: AcceptedOrder[];
  let conflicts: OrderConflict[];
  try {
    ({ stored, conflicts } = await commitOrdersOrEach(deps.database, orders, epoch, deps.region, deps.logger, budget));
  } catch (error) {
    if (!(error instanceof StaleEpochError)) throw error;
    deps.logger.warn('commit refused: a failover has happened since this batch read the control table; the messages will be retried', { error: error.message });
    return settled;
  }
  const after = await readControlState(deps.documents, deps.controlTable, deps.primaryRegion);
  const current = after.activeRegion === deps.region && after.fencingEpoch === epoch;
  const now = (deps.now ?? (() => new Date()))();
  for (const order of stored) {
    if (!current) {
      settled.set(order.orderId, 'unconfirmed');
      continue;
    }
    await markJournalCommitted(deps.documents, deps.journalTable, deps.region, order, epoch, now);
    settled.set(order.orderId, 'committed');
  }
  for (const { order, storedOrderId } of conflicts) {
    deps.logger.error("order conflicts with a stored row holding its account's client order id; kept in order_conflicts for an operator", {
      orderId: order.orderId,
      accountId: order.accountId,
      clientOrderId: order.clientOrderId,
      storedOrderId,
    });
    await markJournalConflict(deps.documents, deps.journalTable, order, storedOrderId, now);
    settled.set(order.orderId, 'conflict');
  }
  if (!current && stored.length > 0) {
    deps.logger.warn('the fencing epoch moved after the commit; journal left pending for reconciliation', {
      epoch,
      now: after.fencingEpoch,
      activeRegion: after.activeRegion,
    });
  }
  return settled;
}

/** The standby region's path: a message whose order the journal holds is done here (the active region applies the journal). */
async function deferBatch(orders: AcceptedOrder[], deps: ProcessorDependencies): Promise<Settled> {
  const settled: Settled = new Map();
  for (const order of orders) {
    const entry = await readJournalEntry(deps.documents, deps.journalTable, order);
    settled.set(order.orderId, entry?.orderId === order.orderId ? 'deferred' : 'mismatch');
  }
  return settled;
}

/**
 * SQS batch handler: partial batch responses through Powertools, so a failing record is retried
 * (and after the receive limit dead-lettered) while the rest of the batch is done. The active
 * region commits (fenced in the database); a standby region leaves orders to the active one once
 * it has checked the journal holds them, so nothing valid loops or dead-letters there.
 */
export async function processOrders(event: SQSEvent, deps: ProcessorDependencies): Promise<SQSBatchResponse> {
  const record = deps.record ?? (() => undefined);
  const control = await readControlState(deps.documents, deps.controlTable, deps.primaryRegion);
  const active = control.activeRegion === deps.region;

  // Parse first, so the valid orders can be committed in one statement.
  const parsed = new Map<string, AcceptedOrder | PoisonMessageError>();
  for (const message of event.Records) {
    try {
      parsed.set(message.messageId, parseOrder(message));
    } catch (error) {
      parsed.set(message.messageId, error as PoisonMessageError);
    }
  }
  const valid = [
    ...new Map(
      [...parsed.values()].filter((entry): entry is AcceptedOrder => !(entry instanceof PoisonMessageError)).map((order) => [order.orderId, order]),
    ).values(),
  ];
  let settled: Settled;
  try {
    settled = active ? await commitBatch(valid, control.fencingEpoch, deps) : await deferBatch(valid, deps);
  } catch (error) {
    deps.logger.error('batch not settled; its messages will be retried', { active, error: (error as Error).message });
    settled = new Map();
  }
  if (!active)
    deps.logger.info('standby region: orders the journal holds are left to the active region', {
      activeRegion: control.activeRegion,
      deferred: [...settled.values()].filter((outcome) => outcome === 'deferred').length,
    });

  const processor = new BatchProcessor(EventType.SQS);
  return processPartialResponse(
    event,
    async (message: SQSRecord) => {
      const order = parsed.get(message.messageId);
      try {
        if (order === undefined || order instanceof PoisonMessageError) throw order ?? new PoisonMessageError(message.messageId, 'not parsed');
        const outcome = settled.get(order.orderId);
        if (outcome === 'mismatch')
          throw new PoisonMessageError(message.messageId, `the journal holds no entry for ${orderKeyOf(order)} with order id ${order.orderId}`);
        if (outcome === undefined) throw new Error(`order ${order.orderId} not settled; it will be retried`);
        record(outcome);
      } catch (error) {
        const poison = error instanceof PoisonMessageError;
        record(poison ? 'poison' : 'failed');
        deps.logger.error(poison ? 'poison message' : 'order not done; it will be retried', {
          messageId: message.messageId,
          receiveCount: message.attributes?.ApproximateReceiveCount,
          error: (error as Error).message,
        });
        throw error;
      }
    },
    processor,
    // Batch failures are reported per record; an all-failed batch is not an invocation error.
    { throwOnFullBatchFailure: false },
  );
}
