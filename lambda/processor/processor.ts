import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { readControlState } from '../shared/control';
import type { Database } from '../shared/database';
import type { ControlSettings } from '../shared/env';
import { AcceptedOrder, AcceptedOrderSchema, fieldProblems } from '../shared/order';
import { insertOrders, JournalEntryMismatchError, markJournalApplied } from '../shared/order-store';

export interface ProcessorDependencies extends ControlSettings {
  readonly database: Database;
  readonly documents: DynamoDBDocumentClient;
  readonly logger: Logger;
  readonly record?: (outcome: ProcessorOutcome, count?: number) => void;
}

export type ProcessorOutcome = 'committed' | 'poison' | 'fenced' | 'failed';

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
    throw new PoisonMessageError(record.messageId, fieldProblems(parsed.error).map((problem) => `${problem.field} ${problem.rule}`).join('; '));
  }
  return parsed.data;
}

/**
 * Commits every valid order of the batch in one statement (the fast path). Returns false when that
 * fails even after retries, so each record is then committed on its own and only the ones that
 * really cannot be committed fail.
 */
async function commitTogether(orders: AcceptedOrder[], fencingEpoch: number, deps: ProcessorDependencies): Promise<boolean> {
  if (orders.length === 0) return true;
  try {
    await insertOrders(deps.database, orders, fencingEpoch);
    return true;
  } catch (error) {
    deps.logger.warn('batch insert failed; committing the orders one by one', { orders: orders.length, error: (error as Error).message });
    return false;
  }
}

/** Marks an order's journal entry applied; a mismatch makes the message poison. */
async function markApplied(order: AcceptedOrder, deps: ProcessorDependencies): Promise<void> {
  try {
    await markJournalApplied(deps.documents, deps.journalTable, deps.region, order);
  } catch (error) {
    if (error instanceof JournalEntryMismatchError) throw new PoisonMessageError(order.orderId, error.message);
    throw error;
  }
}

/** Commits one order to Aurora, then marks its journal entry applied. */
async function commitOrder(order: AcceptedOrder, fencingEpoch: number, deps: ProcessorDependencies): Promise<void> {
  await insertOrders(deps.database, [order], fencingEpoch);
  await markApplied(order, deps);
}

/**
 * SQS batch handler: partial batch responses through Powertools, so a failing record is retried
 * (and after the receive limit dead-lettered) while the rest of the batch is committed. Nothing
 * is committed unless the control table names this region active; a demoted writer refuses
 * writes as well (read-only errors are retried, and the message waits).
 */
export async function processOrders(event: SQSEvent, deps: ProcessorDependencies): Promise<SQSBatchResponse> {
  const record = deps.record ?? (() => undefined);
  const control = await readControlState(deps.documents, deps.controlTable, deps.primaryRegion);
  if (control.activeRegion !== deps.region) {
    deps.logger.warn('region is not active: committing nothing, messages stay queued', {
      activeRegion: control.activeRegion,
      fencingEpoch: control.fencingEpoch,
      messages: event.Records.length,
    });
    record('fenced', event.Records.length);
    return { batchItemFailures: event.Records.map((each) => ({ itemIdentifier: each.messageId })) };
  }

  // Parse first, so the valid orders can be inserted in one statement.
  const parsed = new Map<string, AcceptedOrder | PoisonMessageError>();
  for (const message of event.Records) {
    try {
      parsed.set(message.messageId, parseOrder(message));
    } catch (error) {
      parsed.set(message.messageId, error as PoisonMessageError);
    }
  }
  const valid = [...parsed.values()].filter((entry): entry is AcceptedOrder => !(entry instanceof PoisonMessageError));
  const committedTogether = await commitTogether(valid, control.fencingEpoch, deps);

  const processor = new BatchProcessor(EventType.SQS);
  const response = await processPartialResponse(
    event,
    async (message: SQSRecord) => {
      try {
        const order = parsed.get(message.messageId);
        if (order === undefined || order instanceof PoisonMessageError) throw order ?? new PoisonMessageError(message.messageId, 'not parsed');
        if (committedTogether) {
          await markApplied(order, deps);
        } else {
          await commitOrder(order, control.fencingEpoch, deps);
        }
        record('committed');
      } catch (error) {
        const poison = error instanceof PoisonMessageError;
        record(poison ? 'poison' : 'failed');
        deps.logger.error(poison ? 'poison message' : 'order not committed; it will be retried', {
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
  return response;
}
