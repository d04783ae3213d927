import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import { escapeLiteral } from 'pg';
import type { Database, PreparedStatement, TimeBudget } from './database';
import { AcceptedOrder, orderKeyOf } from './order';
import { OrderJournalSchema } from '../contracts/tables';

/**
 * Writing accepted orders to their system of record (Aurora) and recording it in the journal:
 * the processor does it for queued orders, reconciliation for journal entries the queue never
 * delivered or a failover lost. Both are idempotent, so they may overlap.
 *
 * A commit is fenced inside the database (migration 0002): in the same transaction as the insert,
 * the cluster's fencing epoch is raised to the committer's and read under a share lock, and a
 * committer whose epoch is lower than the cluster's commits nothing (StaleEpochError). The insert
 * names its conflict target (account_id, client_order_id: the idempotency key, migration 0003),
 * and every order the insert skipped is compared with the row that holds its key: the same
 * orderId and fields is an order already stored; anything else is a conflict, kept in
 * order_conflicts for an operator and never taken as stored. The transaction is two statements
 * sent in one message, so a commit costs one round trip to the writer.
 */

/** A commit under an epoch older than the cluster's: a failover happened since the committer read the control table. */
export class StaleEpochError extends Error {
  constructor(
    public readonly commitEpoch: number,
    public readonly clusterEpoch: number,
  ) {
    super(`commit under fencing epoch ${commitEpoch} refused: this cluster has already committed under epoch ${clusterEpoch}`);
    this.name = 'StaleEpochError';
  }
}

/** An order whose key another row holds. */
export interface OrderConflict {
  readonly order: AcceptedOrder;
  /** The orderId of the row that holds the key. */
  readonly storedOrderId: string;
}

export interface CommitResult {
  /** Orders now in Aurora as the journal has them (inserted now, or found stored already). */
  readonly stored: AcceptedOrder[];
  readonly conflicts: OrderConflict[];
}

/**
 * The committer's epoch raised into the cluster when the cluster is behind it. It comes first,
 * before the insert's share lock: an UPDATE that matches no row locks nothing, and one that does
 * waits only for commits in flight under the older epoch (two committers raising at once queue on
 * the row instead of deadlocking).
 */
function raiseEpoch(fencingEpoch: number): string {
  return `UPDATE fencing_epoch SET epoch = ${fencingEpoch}, advanced_at = now() WHERE singleton AND epoch < ${fencingEpoch}`;
}

/**
 * The fenced insert, its comparison and the conflict record in one statement, prepared once per
 * connection ($1 the orders, $2 the committer's epoch, $3 its region):
 * - `fence` reads the cluster's epoch under a share lock held to the end of the transaction
 *   (commits under one epoch run side by side; an advance waits for them), and nothing is
 *   inserted or recorded when the cluster is past the committer's epoch;
 * - `ins` inserts in key order, so two batches lock keys in the same order and cannot deadlock;
 * - the rest of the statement still sees the table as it was before it, so `o` is the row that
 *   already held each key an insert skipped (none for an order inserted now), and an order whose
 *   key holds another order or other fields is kept in order_conflicts as the journal has it.
 * Each incoming element is an AcceptedOrder (camelCase, as the journal and the queue carry it).
 */
const FENCED_INSERT: PreparedStatement = {
  name: 'commit_orders_fenced',
  parameterTypes: ['jsonb', 'bigint', 'text'],
  text: `WITH i AS (
    SELECT r.*, e AS journal
    FROM jsonb_array_elements($1) AS e,
         jsonb_to_record(e) AS r("orderId" uuid, "clientOrderId" text, "accountId" text, symbol text, side text, "orderType" text,
                                  quantity numeric, "limitPrice" numeric, "acceptedAt" timestamptz, "acceptedRegion" text)),
  fence AS (SELECT epoch FROM fencing_epoch WHERE singleton FOR SHARE),
  ins AS (
    INSERT INTO orders (order_id, client_order_id, account_id, symbol, side, order_type, quantity, limit_price,
                        accepted_at, accepted_region, fencing_epoch)
    SELECT "orderId", "clientOrderId", "accountId", symbol, side, "orderType", quantity, "limitPrice", "acceptedAt", "acceptedRegion", $2
    FROM i
    WHERE (SELECT epoch FROM fence) <= $2
    ORDER BY "accountId", "clientOrderId"
    ON CONFLICT (account_id, client_order_id) DO NOTHING
    RETURNING order_id),
  compared AS (
    SELECT i.*, ins.order_id IS NOT NULL AS inserted, o.order_id AS stored_id,
           (o.order_id = i."orderId" AND o.symbol = i.symbol AND o.side = i.side AND o.order_type = i."orderType"
            AND o.quantity = i.quantity AND o.limit_price IS NOT DISTINCT FROM i."limitPrice") AS same
    FROM i
    LEFT JOIN ins ON ins.order_id = i."orderId"
    LEFT JOIN orders o ON o.account_id = i."accountId" AND o.client_order_id = i."clientOrderId"),
  recorded AS (
    INSERT INTO order_conflicts (order_id, client_order_id, account_id, stored_order_id, journal_order, detected_in)
    SELECT "orderId", "clientOrderId", "accountId", stored_id, journal, $3
    FROM compared
    WHERE (SELECT epoch FROM fence) <= $2 AND NOT inserted AND stored_id IS NOT NULL AND NOT same
    ON CONFLICT (order_id) DO NOTHING)
  SELECT (SELECT epoch FROM fence) AS cluster_epoch, "orderId" AS incoming_id, inserted, stored_id, same FROM compared`,
};

interface CommitRow {
  readonly cluster_epoch: string | null;
  readonly incoming_id: string;
  readonly inserted: boolean;
  readonly stored_id: string | null;
  readonly same: boolean | null;
}

/**
 * Commits `orders` under `fencingEpoch` in one fenced transaction, sent to the writer in one round
 * trip; `region` names the committer in the conflict record. Throws StaleEpochError (nothing
 * committed) when the cluster is past the epoch.
 */
export async function commitOrders(
  database: Database,
  orders: readonly AcceptedOrder[],
  fencingEpoch: number,
  region: string,
  budget?: TimeBudget,
): Promise<CommitResult> {
  if (orders.length === 0) return { stored: [], conflicts: [] };
  if (!Number.isSafeInteger(fencingEpoch) || fencingEpoch < 0) throw new Error(`fencing epoch must be a whole number of at least 0 (got ${fencingEpoch})`);
  const [, outcome] = await database.transactionInOneTrip<CommitRow>(
    `commit ${orders.length} orders under epoch ${fencingEpoch}`,
    [raiseEpoch(fencingEpoch), `EXECUTE ${FENCED_INSERT.name}(${escapeLiteral(JSON.stringify(orders))}, ${fencingEpoch}, ${escapeLiteral(region)})`],
    budget,
    [FENCED_INSERT],
  );
  const clusterEpoch = outcome[0]?.cluster_epoch;
  if (clusterEpoch === null || clusterEpoch === undefined) throw new Error('fencing_epoch has no row: the schema migration 0002 has not run on this cluster');
  if (Number(clusterEpoch) > fencingEpoch) throw new StaleEpochError(fencingEpoch, Number(clusterEpoch));
  const byId = new Map(orders.map((order) => [order.orderId, order]));
  const skipped = outcome.filter((row) => !row.inserted && row.stored_id !== null);
  const conflicts: OrderConflict[] = skipped.filter((row) => !row.same).map((row) => ({ order: byId.get(row.incoming_id)!, storedOrderId: row.stored_id! }));
  const conflicting = new Set(conflicts.map((conflict) => conflict.order.orderId));
  // An order neither inserted nor found under its key: its orderId is taken by a row with another key.
  const unaccounted = outcome.filter((row) => !row.inserted && row.stored_id === null).map((row) => row.incoming_id);
  if (unaccounted.length > 0) throw new Error(`orders ${unaccounted.join(', ')} were neither stored nor found under their account's client order id`);
  return { stored: orders.filter((order) => !conflicting.has(order.orderId)), conflicts };
}

export interface EachCommitResult extends CommitResult {
  /** Orders that could not be committed even alone (left for a later attempt). */
  readonly failed: AcceptedOrder[];
}

/** The first half of what is left of `budget` (the rest stays for what comes after). */
function firstHalf(budget: TimeBudget): TimeBudget {
  const share = Math.max(0, budget.remainingMs() - budget.reserveMs) / 2;
  return { remainingMs: budget.remainingMs, reserveMs: budget.reserveMs + share };
}

/**
 * commitOrders for a batch, or, if that fails for any reason but a stale epoch, for each order
 * alone: one order that cannot be committed (a row the database keeps refusing) does not hold
 * back the others. The batch gets half the time left, the orders alone share the rest. Throws
 * StaleEpochError as commitOrders does (nothing more is committed).
 */
export async function commitOrdersOrEach(
  database: Database,
  orders: readonly AcceptedOrder[],
  fencingEpoch: number,
  region: string,
  logger: Logger,
  budget?: TimeBudget,
): Promise<EachCommitResult> {
  try {
    return { ...(await commitOrders(database, orders, fencingEpoch, region, budget && firstHalf(budget))), failed: [] };
  } catch (error) {
    if (error instanceof StaleEpochError) throw error;
    if (orders.length === 1) {
      logger.error('order not committed; it will be retried', { orderId: orders[0].orderId, error: (error as Error).message });
      return { stored: [], conflicts: [], failed: [...orders] };
    }
    logger.warn('batch commit failed; committing the orders one by one', { orders: orders.length, error: (error as Error).message });
  }
  const stored: AcceptedOrder[] = [];
  const conflicts: OrderConflict[] = [];
  const failed: AcceptedOrder[] = [];
  for (const order of orders) {
    try {
      const result = await commitOrders(database, [order], fencingEpoch, region, budget);
      stored.push(...result.stored);
      conflicts.push(...result.conflicts);
    } catch (error) {
      if (error instanceof StaleEpochError) throw error;
      logger.error('order not committed; it will be retried', { orderId: order.orderId, error: (error as Error).message });
      failed.push(order);
    }
  }
  return { stored, conflicts, failed };
}

/** The journal has no entry for the order's key with this order id: the message does not match what was acknowledged. */
export class JournalEntryMismatchError extends Error {
  constructor(public readonly order: AcceptedOrder) {
    super(`no journal entry for ${orderKeyOf(order)} with order id ${order.orderId}`);
    this.name = 'JournalEntryMismatchError';
  }
}

/**
 * Records in the journal that the order was committed to the writer under `fencingEpoch`. The
 * entry stays in the pending index: a commit is safe from a failover only once it has had time
 * to replicate, and reconciliation takes it out of the index after that (lambda/reconcile/).
 */
export async function markJournalCommitted(
  documents: DynamoDBDocumentClient,
  journalTable: string,
  region: string,
  order: AcceptedOrder,
  fencingEpoch: number,
  at: Date,
): Promise<void> {
  await updateEntry(documents, journalTable, order, 'SET appliedAt = :at, appliedRegion = :region, appliedEpoch = :epoch', {
    ':at': at.toISOString(),
    ':region': region,
    ':epoch': fencingEpoch,
  });
}

/** Takes the entry out of the pending index: its order has been in the writer long enough to have replicated. */
export async function markJournalDurable(documents: DynamoDBDocumentClient, journalTable: string, order: AcceptedOrder, at: Date): Promise<void> {
  await updateEntry(
    documents,
    journalTable,
    order,
    'REMOVE #pending SET durableAt = :at',
    { ':at': at.toISOString() },
    { '#pending': OrderJournalSchema.pendingShard },
  );
}

/** Marks the entry as conflicting with a stored row (it stays pending and is reported until an operator resolves it). */
export async function markJournalConflict(
  documents: DynamoDBDocumentClient,
  journalTable: string,
  order: AcceptedOrder,
  storedOrderId: string,
  at: Date,
): Promise<void> {
  await updateEntry(documents, journalTable, order, 'SET conflictAt = :at, conflictingOrderId = :stored', {
    ':at': at.toISOString(),
    ':stored': storedOrderId,
  });
}

async function updateEntry(
  documents: DynamoDBDocumentClient,
  journalTable: string,
  order: AcceptedOrder,
  update: string,
  values: Record<string, unknown>,
  names: Record<string, string> = {},
): Promise<void> {
  try {
    await documents.send(
      new UpdateCommand({
        TableName: journalTable,
        Key: { [OrderJournalSchema.orderKey]: orderKeyOf(order) },
        UpdateExpression: update,
        ConditionExpression: 'attribute_exists(#key) AND orderId = :orderId',
        ExpressionAttributeNames: { ...names, '#key': OrderJournalSchema.orderKey },
        ExpressionAttributeValues: { ...values, ':orderId': order.orderId },
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw new JournalEntryMismatchError(order);
    throw error;
  }
}
