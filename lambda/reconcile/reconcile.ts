import { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import type { Logger } from '@aws-lambda-powertools/logger';
import { readControlState } from '../shared/control';
import type { Database } from '../shared/database';
import type { ControlSettings } from '../shared/env';
import { AcceptedOrder, AcceptedOrderSchema, orderKeyOf } from '../shared/order';
import {
  commitOrdersOrEach,
  JournalEntryMismatchError,
  markJournalCommitted,
  markJournalConflict,
  markJournalDurable,
  StaleEpochError,
} from '../shared/order-store';
import { replicatedBy, replicationProgress, ReplicationProgress } from '../shared/replication';
import { withRetry } from '../shared/retry';
import { ControlTableSchema, OrderJournalSchema } from '../contracts/tables';
import type { ReconcileResult } from '../contracts/reconcile';

export interface ReconcileDependencies extends ControlSettings {
  readonly database: Database;
  readonly documents: DynamoDBDocumentClient;
  readonly logger: Logger;
  /** Partitions of the journal's pending index (`p#0` .. `p#{n-1}`). */
  readonly pendingShards: number;
  /** Entries read per query page (and committed per statement). */
  readonly pageSize: number;
  /** Milliseconds left before the function must answer; reconciliation stops early and says so. */
  readonly remainingMs: () => number;
  /** Stop when less than this is left, so the answer is never cut off. */
  readonly reserveMs: number;
  /**
   * How long an order must have been in the writer, at least, before its entry leaves the pending
   * index. It leaves only once the writer's replication status also shows the order stored in
   * every secondary (lambda/shared/replication.ts), so a failover allowing data loss cannot drop it.
   */
  readonly durableAfterMs: number;
  /**
   * Allowance for the difference between this function's clock (the entry's `appliedAt`) and the
   * writer's (the lag's calculation time): an order counts as replicated only if the writer had it
   * this much before the point the secondaries are known to have reached.
   */
  readonly replicationMarginMs: number;
  /** An entry acknowledged longer ago than this and not in the writer is overdue (the end-to-end bound). */
  readonly boundMs: number;
  /** Who started the run: a scheduled run in a standby region does nothing; the failover's must be in the active one. */
  readonly trigger: 'schedule' | 'failover';
  readonly now?: () => Date;
}

export type { ReconcileResult };

/** Raised when the failover's reconciliation runs in a region that is not the active one. */
export class NotActiveRegionError extends Error {
  constructor(region: string, activeRegion: string, fencingEpoch: number) {
    super(`region ${region} is not active (active region ${activeRegion}, epoch ${fencingEpoch}): reconciliation commits only in the active region`);
    this.name = 'NotActiveRegionError';
  }
}

interface Tally {
  applied: number;
  durable: number;
  awaitingReplication: number;
  conflicts: number;
  overdue: number;
  skipped: number;
  notCommitted: number;
  unreadable: string[];
}

/** BatchGetItem reads at most this many items per request (DynamoDB API reference, BatchGetItem). */
const BATCH_GET_LIMIT = 100;

/** The entries of a page as they are now, read strongly consistently (the index only finds candidates). */
async function readEntries(keys: string[], deps: ReconcileDependencies): Promise<Map<string, Record<string, unknown>>> {
  const entries = new Map<string, Record<string, unknown>>();
  for (let start = 0; start < keys.length; start += BATCH_GET_LIMIT) {
    for (const [key, entry] of await readBatch(keys.slice(start, start + BATCH_GET_LIMIT), deps)) entries.set(key, entry);
  }
  return entries;
}

/** One BatchGetItem of at most BATCH_GET_LIMIT keys, retrying the keys DynamoDB left unprocessed. */
async function readBatch(keys: string[], deps: ReconcileDependencies): Promise<Map<string, Record<string, unknown>>> {
  const entries = new Map<string, Record<string, unknown>>();
  let pending: Record<string, unknown>[] = keys.map((key) => ({ [OrderJournalSchema.orderKey]: key }));
  await withRetry(
    `read ${keys.length} journal entries`,
    async () => {
      while (pending.length > 0) {
        const response = await deps.documents.send(new BatchGetCommand({ RequestItems: { [deps.journalTable]: { Keys: pending, ConsistentRead: true } } }));
        for (const item of response.Responses?.[deps.journalTable] ?? []) entries.set(String(item[OrderJournalSchema.orderKey]), item);
        pending = response.UnprocessedKeys?.[deps.journalTable]?.Keys ?? [];
        if (pending.length > 0) throw new Error(`${pending.length} keys unprocessed`);
      }
    },
    { attempts: 5, onRetry: (error, attempt) => deps.logger.warn('journal read incomplete; retrying', { attempt, error: (error as Error).message }) },
  );
  return entries;
}

/** The writer's orders under these orders' keys: order key (orderKeyOf) → the stored order's id. */
async function storedOrders(orders: AcceptedOrder[], deps: ReconcileDependencies): Promise<Map<string, string>> {
  const rows = await deps.database.query<{ account_id: string; client_order_id: string; order_id: string }>(
    `look up ${orders.length} orders`,
    `SELECT o.account_id, o.client_order_id, o.order_id FROM orders o
       JOIN unnest($1::text[], $2::text[]) AS k(account_id, client_order_id) USING (account_id, client_order_id)`,
    [orders.map((order) => order.accountId), orders.map((order) => order.clientOrderId)],
  );
  return new Map(rows.map((row) => [orderKeyOf({ accountId: row.account_id, clientOrderId: row.client_order_id }), row.order_id]));
}

/** Runs a journal update; an entry that changed under this run is skipped, not an error. */
async function settle(tally: Tally, order: AcceptedOrder, deps: ReconcileDependencies, update: () => Promise<void>): Promise<boolean> {
  try {
    await withRetry(`update journal entry ${orderKeyOf(order)}`, update, {
      attempts: 5,
      isRetryable: (error) => !(error instanceof JournalEntryMismatchError),
    });
    return true;
  } catch (error) {
    if (!(error instanceof JournalEntryMismatchError)) throw error;
    tally.skipped++;
    deps.logger.warn('journal entry changed while reconciling; skipped', { orderKey: orderKeyOf(order), error: error.message });
    return false;
  }
}

/**
 * One page of pending candidates: read strongly, look them up in the writer, commit the missing
 * ones (fenced), record them, and take out of the pending index those whose order has been in
 * the writer for `durableAfterMs`. Returns false when the epoch moved (this region is no longer
 * the writer's: stop).
 */
async function reconcilePage(
  items: Record<string, unknown>[],
  epoch: number,
  replication: () => Promise<ReplicationProgress>,
  tally: Tally,
  deps: ReconcileDependencies,
): Promise<boolean> {
  const now = (deps.now ?? (() => new Date()))();
  // An entry the index shows committed under this epoch less than `durableAfterMs` ago needs
  // nothing yet: the writer has not changed since, and the index, though it lags, never shows an
  // entry further along than it is. Only the others are read strongly and looked up, so a run's
  // cost grows with the entries that need something, not with everything still pending.
  const actionable = items.filter(
    (item) => !(item.appliedEpoch === epoch && typeof item.appliedAt === 'string' && now.getTime() - Date.parse(item.appliedAt) < deps.durableAfterMs),
  );
  if (actionable.length === 0) return true;
  const entries = await readEntries(
    actionable.map((item) => String(item[OrderJournalSchema.orderKey])),
    deps,
  );
  const candidates: { order: AcceptedOrder; entry: Record<string, unknown> }[] = [];
  for (const [key, entry] of entries) {
    // Settled since the index was read, or flagged for an operator.
    if (entry[OrderJournalSchema.pendingShard] === undefined) continue;
    if (entry.conflictAt !== undefined) {
      tally.conflicts++;
      continue;
    }
    const parsed = AcceptedOrderSchema.safeParse(entry);
    if (!parsed.success) {
      tally.unreadable.push(key);
      deps.logger.error('pending journal entry is not an order; left pending for a person', {
        orderKey: key,
        problems: parsed.error.issues.map((issue) => issue.message),
      });
      continue;
    }
    candidates.push({ order: parsed.data, entry });
  }
  if (candidates.length === 0) return true;
  const stored = await storedOrders(
    candidates.map(({ order }) => order),
    deps,
  );
  // Missing from the writer, or under a key another order holds (the commit reports that as a conflict).
  const toCommit = candidates.filter(({ order }) => stored.get(orderKeyOf(order)) !== order.orderId);
  for (const { order } of toCommit) if (!stored.has(orderKeyOf(order)) && now.getTime() - Date.parse(order.acceptedAt) > deps.boundMs) tally.overdue++;
  const result = await commitOrdersOrEach(
    deps.database,
    toCommit.map(({ order }) => order),
    epoch,
    deps.region,
    deps.logger,
    { remainingMs: deps.remainingMs, reserveMs: deps.reserveMs },
  );
  tally.notCommitted += result.failed.length;
  const after = await readControlState(deps.documents, deps.controlTable, deps.primaryRegion);
  if (after.activeRegion !== deps.region || after.fencingEpoch !== epoch) return false;

  const committedNow = new Set(result.stored.map((order) => order.orderId));
  for (const { order, storedOrderId } of result.conflicts) {
    deps.logger.error("journal order conflicts with a stored row holding its account's client order id; kept in order_conflicts for an operator", {
      orderId: order.orderId,
      storedOrderId,
    });
    if (await settle(tally, order, deps, () => markJournalConflict(deps.documents, deps.journalTable, order, storedOrderId, now))) tally.conflicts++;
  }
  for (const { order, entry } of candidates) {
    const storedId = stored.get(orderKeyOf(order));
    if (committedNow.has(order.orderId)) {
      if (await settle(tally, order, deps, () => markJournalCommitted(deps.documents, deps.journalTable, deps.region, order, epoch, now))) tally.applied++;
    } else if (storedId === order.orderId) {
      // In the writer. The clock for durability runs from when this epoch's writer had it.
      const since = entry.appliedEpoch === epoch && typeof entry.appliedAt === 'string' ? Date.parse(entry.appliedAt) : undefined;
      if (since === undefined) {
        await settle(tally, order, deps, () => markJournalCommitted(deps.documents, deps.journalTable, deps.region, order, epoch, now));
      } else if (now.getTime() - since >= deps.durableAfterMs) {
        // `since` is no earlier than the commit, so the order is in every secondary once the
        // status shows them past it: then no failover can drop it, and it leaves the index.
        if (!replicatedBy(await replication(), since, deps.replicationMarginMs)) tally.awaitingReplication++;
        else if (await settle(tally, order, deps, () => markJournalDurable(deps.documents, deps.journalTable, order, now))) tally.durable++;
      }
    }
  }
  return true;
}

/** Where a run that ran out of time stopped: the next page it would have read. */
interface Cursor {
  readonly epoch: number;
  readonly shard: number;
  readonly startKey?: Record<string, unknown>;
}

const CursorSchema = z.object({
  epoch: z.number().check(z.int(), z.gte(0)),
  shard: z.number().check(z.int(), z.gte(0)),
  startKey: z.optional(z.record(z.string(), z.unknown())),
});

function cursorKey(): Record<string, string> {
  return { [ControlTableSchema.pk]: ControlTableSchema.reconcileCursorItem };
}

/** A control-table call, retried with backoff (4 attempts), each failure logged. */
function controlCall<T>(operation: string, call: () => Promise<T>, deps: ReconcileDependencies): Promise<T> {
  return withRetry(operation, call, {
    attempts: 4,
    onRetry: (error, attempt) => deps.logger.warn(`${operation} failed; retrying`, { attempt, error: (error as Error).message }),
  });
}

/**
 * The cursor a scheduled run resumes from: only one left under the current epoch (a failover
 * starts over). `present` says whether the item exists at all, usable or not, so that only then
 * a completed run deletes it.
 */
async function readCursor(epoch: number, deps: ReconcileDependencies): Promise<{ cursor?: Cursor; present: boolean }> {
  const response = await controlCall(
    'read the reconciliation cursor',
    () => deps.documents.send(new GetCommand({ TableName: deps.controlTable, Key: cursorKey(), ConsistentRead: true })),
    deps,
  );
  if (!response.Item) return { present: false };
  const parsed = CursorSchema.safeParse(response.Item);
  if (!parsed.success || parsed.data.epoch !== epoch || parsed.data.shard >= deps.pendingShards) {
    deps.logger.info('reconciliation cursor not used (another epoch, or not readable); starting from the first shard', { cursor: response.Item });
    return { present: true };
  }
  return { cursor: parsed.data, present: true };
}

async function writeCursor(cursor: Cursor, deps: ReconcileDependencies): Promise<void> {
  await controlCall(
    'record where reconciliation stopped',
    () => deps.documents.send(new PutCommand({ TableName: deps.controlTable, Item: { ...cursorKey(), ...cursor } })),
    deps,
  );
}

async function clearCursor(deps: ReconcileDependencies): Promise<void> {
  await controlCall('clear the reconciliation cursor', () => deps.documents.send(new DeleteCommand({ TableName: deps.controlTable, Key: cursorKey() })), deps);
}

/**
 * The shards a run reads, in order: from the cursor's page to the end of the index, or every
 * shard from the first. A resumed run ends at the last shard: what precedes the cursor was read
 * by the run that stopped there, and the next run starts from the first shard again.
 */
function positions(shards: number, cursor: Cursor | undefined): { shard: number; startKey?: Record<string, unknown> }[] {
  const first = cursor?.shard ?? 0;
  return Array.from({ length: shards - first }, (_, index) => ({ shard: first + index, startKey: index === 0 ? cursor?.startKey : undefined }));
}

/**
 * Makes the journal and Aurora agree, in the active region: every minute on a schedule, and in
 * every failover right after the promotion. An acknowledged order stays in the journal's pending
 * index until it has been in the writer for `durableAfterMs` and the writer's replication status
 * shows it stored in every secondary; so an order that was never queued,
 * that waits in the other region's queue, or that a failover allowing data loss dropped from the
 * writer's last seconds, is still pending, and a run commits it. Decisions come from strongly
 * consistent reads of the journal and from the writer itself: the index only finds candidates,
 * and an entry leaves it only through this function's strongly consistent decision. Bounded by
 * the function's time: a run that stops early says so, and the next one goes on.
 */
export async function reconcileJournal(deps: ReconcileDependencies): Promise<ReconcileResult> {
  const control = await controlCall('read control state', () => readControlState(deps.documents, deps.controlTable, deps.primaryRegion), deps);
  const tally: Tally = { applied: 0, durable: 0, awaitingReplication: 0, conflicts: 0, overdue: 0, skipped: 0, notCommitted: 0, unreadable: [] };
  const result = (complete: boolean, active = true): ReconcileResult => ({ active, ...tally, complete, fencingEpoch: control.fencingEpoch });
  if (control.activeRegion !== deps.region) {
    if (deps.trigger === 'schedule') return result(true, false);
    throw new NotActiveRegionError(deps.region, control.activeRegion, control.fencingEpoch);
  }

  // Read once, when a run first needs it: a secondary that has reached a point keeps it.
  let progress: Promise<ReplicationProgress> | undefined;
  const replication = (): Promise<ReplicationProgress> =>
    (progress ??= replicationProgress(deps.database).then((read) => {
      if (read.kind === 'unknown') deps.logger.error('replication status unknown; entries stay pending until it can be read', { reason: read.reason });
      return read;
    }));
  const { cursor, present } = deps.trigger === 'schedule' ? await readCursor(control.fencingEpoch, deps) : { cursor: undefined, present: false };
  for (const { shard, startKey } of positions(deps.pendingShards, cursor)) {
    const pendingShard = `p#${shard}`;
    let exclusiveStartKey = startKey;
    do {
      if (deps.remainingMs() < deps.reserveMs) {
        deps.logger.warn('time is running out; reconciliation stops here and the next run resumes here', { shard: pendingShard, ...tally });
        await writeCursor({ epoch: control.fencingEpoch, shard, startKey: exclusiveStartKey }, deps);
        return result(false);
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
        {
          attempts: 5,
          onRetry: (error, attempt) => deps.logger.warn('journal query failed; retrying', { pendingShard, attempt, error: (error as Error).message }),
        },
      );
      try {
        if (!(await reconcilePage(page.Items ?? [], control.fencingEpoch, replication, tally, deps))) {
          deps.logger.warn('the fencing epoch moved during reconciliation; this region stops here', { epoch: control.fencingEpoch });
          return result(false);
        }
      } catch (error) {
        if (!(error instanceof StaleEpochError)) throw error;
        deps.logger.warn("commit refused under a stale epoch; this region is no longer the writer's", { error: error.message });
        return result(false);
      }
      exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey);
  }
  // A whole cycle read: the next scheduled run starts from the first shard (a cursor of an older epoch goes too).
  if (present) await clearCursor(deps);
  deps.logger.info('reconciliation complete', { ...tally, unreadable: tally.unreadable.length, fencingEpoch: control.fencingEpoch });
  return result(true);
}
