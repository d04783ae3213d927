import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import { readControlState } from '../shared/control';
import type { Database } from '../shared/database';
import type { ControlSettings } from '../shared/env';
import { AcceptedOrder, AcceptedOrderSchema } from '../shared/order';
import { insertOrders, JournalEntryMismatchError, markJournalApplied } from '../shared/order-store';
import { withRetry } from '../shared/retry';
import { OrderJournalSchema } from '../shared/tables';

export interface ReconcileDependencies extends ControlSettings {
  readonly database: Database;
  readonly documents: DynamoDBDocumentClient;
  readonly logger: Logger;
  /** Partitions of the journal's pending index (`p#0` .. `p#{n-1}`). */
  readonly pendingShards: number;
  /** Entries read per query page (and inserted per statement). */
  readonly pageSize: number;
  /** Milliseconds left before the function must answer; reconciliation stops early and says so. */
  readonly remainingMs: () => number;
  /** Stop when less than this is left, so the answer is never cut off. */
  readonly reserveMs: number;
}

export interface ReconcileResult {
  /** Journal entries found pending and now in Aurora (inserted, or found there already). */
  readonly applied: number;
  /** Entries that are not orders (logged with their keys; they need a person). */
  readonly unreadable: string[];
  /** Entries whose journal item changed under us (another writer applied or replaced them). */
  readonly skipped: number;
  /** False when time ran out before every shard was drained: run again. */
  readonly complete: boolean;
  /** The epoch the orders were committed under. */
  readonly fencingEpoch: number;
}

/** Raised when reconciliation is started in a region that is not the active one. */
export class NotActiveRegionError extends Error {
  constructor(region: string, activeRegion: string, fencingEpoch: number) {
    super(`region ${region} is not active (active region ${activeRegion}, epoch ${fencingEpoch}): reconciliation commits only in the active region`);
    this.name = 'NotActiveRegionError';
  }
}

/**
 * Replays every order-journal entry not yet applied to Aurora: after a failover, the orders the
 * old region acknowledged but never processed (its queue is gone with it) are in the journal's
 * pending index in this region. Each page is inserted in one idempotent statement, then marked
 * applied, under the current fencing epoch; a processor doing the same at once does no harm.
 */
export async function reconcileJournal(deps: ReconcileDependencies): Promise<ReconcileResult> {
  const control = await withRetry('read control state', () => readControlState(deps.documents, deps.controlTable, deps.primaryRegion), {
    attempts: 4,
    onRetry: (error, attempt) => deps.logger.warn('control table read failed; retrying', { attempt, error: (error as Error).message }),
  });
  if (control.activeRegion !== deps.region) throw new NotActiveRegionError(deps.region, control.activeRegion, control.fencingEpoch);

  let applied = 0;
  let skipped = 0;
  const unreadable: string[] = [];
  for (let shard = 0; shard < deps.pendingShards; shard++) {
    const pendingShard = `p#${shard}`;
    let exclusiveStartKey: Record<string, unknown> | undefined;
    do {
      if (deps.remainingMs() < deps.reserveMs) {
        deps.logger.warn('time is running out; reconciliation stops here and must run again', { shard: pendingShard, applied });
        return { applied, unreadable, skipped, complete: false, fencingEpoch: control.fencingEpoch };
      }
      const page = await withRetry(
        `query pending journal entries of ${pendingShard}`,
        () =>
          deps.documents.send(
            new QueryCommand({
              TableName: deps.journalTable,
              IndexName: OrderJournalSchema.pendingIndex,
              KeyConditionExpression: '#shard = :shard',
              ExpressionAttributeNames: { '#shard': OrderJournalSchema.pendingShard },
              ExpressionAttributeValues: { ':shard': pendingShard },
              Limit: deps.pageSize,
              ExclusiveStartKey: exclusiveStartKey,
            }),
          ),
        { attempts: 5, onRetry: (error, attempt) => deps.logger.warn('journal query failed; retrying', { pendingShard, attempt, error: (error as Error).message }) },
      );
      const orders: AcceptedOrder[] = [];
      for (const item of page.Items ?? []) {
        const parsed = AcceptedOrderSchema.safeParse(item);
        if (parsed.success) {
          orders.push(parsed.data);
        } else {
          const key = String(item[OrderJournalSchema.clientOrderId]);
          unreadable.push(key);
          deps.logger.error('pending journal entry is not an order; left pending for a person', { clientOrderId: key, problems: parsed.error.issues.map((issue) => issue.message) });
        }
      }
      await insertOrders(deps.database, orders, control.fencingEpoch);
      for (const order of orders) {
        try {
          await withRetry(`mark ${order.clientOrderId} applied`, () => markJournalApplied(deps.documents, deps.journalTable, deps.region, order), {
            attempts: 5,
            isRetryable: (error) => !(error instanceof JournalEntryMismatchError),
          });
          applied++;
        } catch (error) {
          if (!(error instanceof JournalEntryMismatchError)) throw error;
          skipped++;
          deps.logger.warn('journal entry changed while reconciling; skipped', { clientOrderId: order.clientOrderId, error: error.message });
        }
      }
      exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey);
  }
  deps.logger.info('reconciliation complete', { applied, skipped, unreadable: unreadable.length, fencingEpoch: control.fencingEpoch });
  return { applied, unreadable, skipped, complete: true, fencingEpoch: control.fencingEpoch };
}
