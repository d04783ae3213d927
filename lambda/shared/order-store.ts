import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { PoolClient } from 'pg';
import type { Database, TimeBudget } from './database';
import { AcceptedOrder, orderKeyOf } from './order';
import { OrderJournalSchema } from './tables';

/**
 * Writing accepted orders to their system of record (Aurora) and recording it in the journal:
 * the processor does it for queued orders, reconciliation for journal entries the queue never
 * delivered or a failover lost. Both are idempotent, so they may overlap.
 *
 * A commit is fenced inside the database (migration 0002): in the same transaction as the insert,
 * the cluster's fencing epoch is raised to the committer's and read under a share lock, and a
 * committer whose epoch is lower than the cluster's commits nothing (StaleEpochError). The insert
 * names its conflict target (account_id, client_order_id: the idempotency key, migration 0003),
 * and every order the insert skipped is compared with the row that holds its key: the same orderId and fields is an order already stored; anything
 * else is a conflict, kept in order_conflicts for an operator and never taken as stored.
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

/** The orders as one JSON parameter, in key order (two batches lock keys in the same order, so they cannot deadlock). */
function ordersParameter(orders: readonly AcceptedOrder[]): string {
  const keyed = orders.map((order) => ({ order, key: orderKeyOf(order) }));
  const sorted = keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map(({ order }) => order);
  return JSON.stringify(
    sorted.map((order) => ({
      order_id: order.orderId,
      client_order_id: order.clientOrderId,
      account_id: order.accountId,
      symbol: order.symbol,
      side: order.side,
      order_type: order.orderType,
      quantity: order.quantity,
      limit_price: order.limitPrice ?? null,
      accepted_at: order.acceptedAt,
      accepted_region: order.acceptedRegion,
    })),
  );
}

const INCOMING = `jsonb_to_recordset($1::jsonb) AS i(order_id uuid, client_order_id text, account_id text, symbol text, side text,
  order_type text, quantity numeric, limit_price numeric, accepted_at timestamptz, accepted_region text)`;

/**
 * The insert and the comparison in one statement: `ins` holds the orders inserted now; the main
 * query still sees the table as it was before the statement, so `o` is the row that already held
 * each key an insert skipped (none for an order inserted now).
 */
const INSERT_AND_COMPARE = `WITH i AS (SELECT * FROM ${INCOMING}),
  ins AS (
    INSERT INTO orders (order_id, client_order_id, account_id, symbol, side, order_type, quantity, limit_price,
                        accepted_at, accepted_region, fencing_epoch)
    SELECT i.order_id, i.client_order_id, i.account_id, i.symbol, i.side, i.order_type, i.quantity, i.limit_price,
           i.accepted_at, i.accepted_region, $2
    FROM i
    ON CONFLICT (account_id, client_order_id) DO NOTHING
    RETURNING order_id)
  SELECT i.order_id AS incoming_id, ins.order_id IS NOT NULL AS inserted, o.order_id AS stored_id,
         (o.order_id = i.order_id AND o.symbol = i.symbol AND o.side = i.side
          AND o.order_type = i.order_type AND o.quantity = i.quantity AND o.limit_price IS NOT DISTINCT FROM i.limit_price) AS same
  FROM i
  LEFT JOIN ins ON ins.order_id = i.order_id
  LEFT JOIN orders o ON o.account_id = i.account_id AND o.client_order_id = i.client_order_id`;

const RECORD_CONFLICTS = `INSERT INTO order_conflicts (order_id, client_order_id, account_id, stored_order_id, journal_order, detected_in)
  SELECT c.order_id, c.client_order_id, c.account_id, c.stored_order_id, c.journal_order, $2
  FROM jsonb_to_recordset($1::jsonb) AS c(order_id uuid, client_order_id text, account_id text, stored_order_id uuid, journal_order jsonb)
  ON CONFLICT (order_id) DO NOTHING`;

/**
 * Reads the cluster's epoch under a share lock held to the end of the transaction (commits under
 * one epoch run side by side; an advance waits for them), refuses a committer behind it, and
 * raises it to the committer's when that is newer (once per epoch; two committers raising it at
 * once may deadlock, which PostgreSQL breaks and the retry of the whole unit absorbs).
 */
async function fence(client: PoolClient, fencingEpoch: number): Promise<void> {
  const { rows } = await client.query<{ epoch: string }>('SELECT epoch FROM fencing_epoch WHERE singleton FOR SHARE');
  if (rows.length !== 1) throw new Error('fencing_epoch has no row: the schema migration 0002 has not run on this cluster');
  const clusterEpoch = Number(rows[0].epoch);
  if (clusterEpoch > fencingEpoch) throw new StaleEpochError(fencingEpoch, clusterEpoch);
  if (clusterEpoch < fencingEpoch) await client.query('UPDATE fencing_epoch SET epoch = $1, advanced_at = now() WHERE singleton AND epoch < $1', [fencingEpoch]);
}

/**
 * Commits `orders` under `fencingEpoch` in one fenced transaction; `region` names the committer in
 * the conflict record. Throws StaleEpochError (nothing committed) when the cluster is past the epoch.
 */
export async function commitOrders(database: Database, orders: readonly AcceptedOrder[], fencingEpoch: number, region: string, budget?: TimeBudget): Promise<CommitResult> {
  if (orders.length === 0) return { stored: [], conflicts: [] };
  const incoming = ordersParameter(orders);
  return database.transaction(
    `commit ${orders.length} orders under epoch ${fencingEpoch}`,
    async (client) => {
      await fence(client, fencingEpoch);
      const outcome = (await client.query<{ incoming_id: string; inserted: boolean; stored_id: string | null; same: boolean | null }>(INSERT_AND_COMPARE, [incoming, fencingEpoch])).rows;
      const inserted = outcome.filter((row) => row.inserted).map((row) => row.incoming_id);
      const skipped = outcome.filter((row) => !row.inserted && row.stored_id !== null) as { incoming_id: string; stored_id: string; same: boolean }[];
      const byId = new Map(orders.map((order) => [order.orderId, order]));
      const conflicts: OrderConflict[] = skipped.filter((row) => !row.same).map((row) => ({ order: byId.get(row.incoming_id)!, storedOrderId: row.stored_id }));
      if (conflicts.length > 0) {
        const records = conflicts.map(({ order, storedOrderId }) => ({
          order_id: order.orderId,
          client_order_id: order.clientOrderId,
          account_id: order.accountId,
          stored_order_id: storedOrderId,
          journal_order: order,
        }));
        await client.query(RECORD_CONFLICTS, [JSON.stringify(records), region]);
      }
      const conflicting = new Set(conflicts.map((conflict) => conflict.order.orderId));
      const accounted = new Set([...inserted, ...skipped.map((row) => row.incoming_id)]);
      const unaccounted = orders.filter((order) => !accounted.has(order.orderId));
      // An order neither inserted nor found under its key: its orderId is taken by a row with another key.
      if (unaccounted.length > 0) throw new Error(`orders ${unaccounted.map((order) => order.orderId).join(', ')} were neither stored nor found under their account's client order id`);
      return { stored: orders.filter((order) => !conflicting.has(order.orderId)), conflicts };
    },
    budget,
  );
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
export async function markJournalCommitted(documents: DynamoDBDocumentClient, journalTable: string, region: string, order: AcceptedOrder, fencingEpoch: number, at: Date): Promise<void> {
  await updateEntry(documents, journalTable, order, 'SET appliedAt = :at, appliedRegion = :region, appliedEpoch = :epoch', { ':at': at.toISOString(), ':region': region, ':epoch': fencingEpoch });
}

/** Takes the entry out of the pending index: its order has been in the writer long enough to have replicated. */
export async function markJournalDurable(documents: DynamoDBDocumentClient, journalTable: string, order: AcceptedOrder, at: Date): Promise<void> {
  await updateEntry(documents, journalTable, order, 'REMOVE #pending SET durableAt = :at', { ':at': at.toISOString() }, { '#pending': OrderJournalSchema.pendingShard });
}

/** Marks the entry as conflicting with a stored row (it stays pending and is reported until an operator resolves it). */
export async function markJournalConflict(documents: DynamoDBDocumentClient, journalTable: string, order: AcceptedOrder, storedOrderId: string, at: Date): Promise<void> {
  await updateEntry(documents, journalTable, order, 'SET conflictAt = :at, conflictingOrderId = :stored', { ':at': at.toISOString(), ':stored': storedOrderId });
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
