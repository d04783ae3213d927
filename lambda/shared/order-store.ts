import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Database } from './database';
import type { AcceptedOrder } from './order';
import { OrderJournalSchema } from './tables';

/**
 * Writing accepted orders to their system of record (Aurora) and marking their journal entries
 * applied: the processor does it for queued orders, reconciliation for journal entries the queue
 * never delivered (a failed region's queue). Both are idempotent, so they may overlap.
 */

const ORDER_COLUMNS = 11;

/** `INSERT ... ON CONFLICT DO NOTHING` of `count` orders in one statement: a redelivered order is a no-op. */
function upsertStatement(count: number): string {
  const tuples = Array.from({ length: count }, (_unused, row) => `(${Array.from({ length: ORDER_COLUMNS }, (_v, column) => `$${row * ORDER_COLUMNS + column + 1}`).join(', ')})`);
  return `INSERT INTO orders (order_id, client_order_id, account_id, symbol, side, order_type, quantity, limit_price,
                      accepted_at, accepted_region, fencing_epoch)
  VALUES ${tuples.join(', ')}
  ON CONFLICT DO NOTHING`;
}

function orderValues(order: AcceptedOrder, fencingEpoch: number): unknown[] {
  return [
    order.orderId,
    order.clientOrderId,
    order.accountId,
    order.symbol,
    order.side,
    order.orderType,
    order.quantity,
    order.limitPrice ?? null,
    order.acceptedAt,
    order.acceptedRegion,
    fencingEpoch,
  ];
}

/** Inserts the orders in one statement under the fencing epoch they are committed with; already present ones are skipped. */
export async function insertOrders(database: Database, orders: readonly AcceptedOrder[], fencingEpoch: number): Promise<void> {
  if (orders.length === 0) return;
  await database.query(`upsert ${orders.length} orders`, upsertStatement(orders.length), orders.flatMap((order) => orderValues(order, fencingEpoch)));
}

/** The journal has no entry for the order's key with this order id: the message does not match what was acknowledged. */
export class JournalEntryMismatchError extends Error {
  constructor(public readonly order: AcceptedOrder) {
    super(`no journal entry for ${order.clientOrderId} with order id ${order.orderId}`);
    this.name = 'JournalEntryMismatchError';
  }
}

/** Marks an order's journal entry applied (it leaves the pending index). */
export async function markJournalApplied(documents: DynamoDBDocumentClient, journalTable: string, region: string, order: AcceptedOrder): Promise<void> {
  try {
    await documents.send(
      new UpdateCommand({
        TableName: journalTable,
        Key: { [OrderJournalSchema.clientOrderId]: order.clientOrderId },
        UpdateExpression: 'REMOVE #pending SET appliedAt = :now, appliedRegion = :region',
        ConditionExpression: 'attribute_exists(#key) AND orderId = :orderId',
        ExpressionAttributeNames: { '#pending': OrderJournalSchema.pendingShard, '#key': OrderJournalSchema.clientOrderId },
        ExpressionAttributeValues: { ':now': new Date().toISOString(), ':region': region, ':orderId': order.orderId },
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw new JournalEntryMismatchError(order);
    throw error;
  }
}
