import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { Database } from '../shared/database';
import { json } from '../shared/http';
import { readJournalEntry } from '../shared/journal';
import { OrderKeySchema } from '../contracts/order-request';
import { AcceptedOrderSchema, fieldProblems } from '../shared/order';
import { OrderJournalSchema } from '../contracts/tables';

export interface LookupDependencies {
  readonly database: Database;
  readonly documents: DynamoDBDocumentClient;
  readonly journalTable: string;
  readonly logger: Logger;
}

interface OrderRow {
  order_id: string;
  client_order_id: string;
  account_id: string;
  symbol: string;
  side: string;
  order_type: string;
  quantity: string;
  limit_price: string | null;
  status: string;
  accepted_at: Date;
  accepted_region: string;
  journal_applied_at: Date;
}

/**
 * GET /orders/{id}?accountId=A, where id is the client order id: the account's idempotency key,
 * which clients hold (two accounts may use the same client order id). Aurora first (the
 * system of record); the journal when Aurora has no row yet or cannot answer, since every
 * acknowledged order is in the journal. A row that another order's conflict names is not answered
 * as that order: the journal's order is, with status `conflict` (an operator decides).
 */
export async function lookupOrder(id: string | undefined, accountId: string | undefined, deps: LookupDependencies): Promise<APIGatewayProxyResult> {
  const key = OrderKeySchema.safeParse({ accountId, clientOrderId: id });
  if (!key.success) {
    const problems = fieldProblems(key.error).map(({ field, rule }) => ({ field: field === 'clientOrderId' ? 'id' : field, rule }));
    return json(400, { error: 'invalid_order_key', problems });
  }
  const { clientOrderId } = key.data;
  try {
    // A row is the order only if no journal order under the same key was found to conflict with it
    // (order_conflicts): then the journal's order is the one the client was acknowledged.
    const rows = await deps.database.query<OrderRow & { conflicted: boolean }>(
      'read order',
      `SELECT o.*, EXISTS (SELECT 1 FROM order_conflicts c WHERE c.account_id = o.account_id AND c.client_order_id = o.client_order_id) AS conflicted
         FROM orders o WHERE o.account_id = $1 AND o.client_order_id = $2`,
      [key.data.accountId, clientOrderId],
    );
    const row = rows[0];
    if (row && !row.conflicted) {
      return json(200, {
        orderId: row.order_id,
        clientOrderId: row.client_order_id,
        accountId: row.account_id,
        symbol: row.symbol,
        side: row.side,
        orderType: row.order_type,
        quantity: row.quantity,
        limitPrice: row.limit_price ?? undefined,
        status: row.status,
        acceptedAt: row.accepted_at.toISOString(),
        acceptedRegion: row.accepted_region,
        appliedAt: row.journal_applied_at.toISOString(),
        source: 'database',
      });
    }
  } catch (error) {
    deps.logger.warn('database read failed; answering from the journal', { error: (error as Error).message });
  }
  const item = await readJournalEntry(deps.documents, deps.journalTable, key.data);
  if (!item) return json(404, { error: 'order_not_found', accountId: key.data.accountId, clientOrderId });
  const entry = AcceptedOrderSchema.safeParse(item);
  if (!entry.success) {
    deps.logger.error('journal entry is malformed', { accountId: key.data.accountId, clientOrderId });
    return json(500, { error: 'order_unreadable', accountId: key.data.accountId, clientOrderId });
  }
  const { requestDigest: _digest, ...order } = entry.data;
  const status =
    item.conflictingOrderId !== undefined
      ? 'conflict'
      : item.appliedAt !== undefined || item[OrderJournalSchema.pendingShard] === undefined
        ? 'applied'
        : 'accepted';
  return json(200, { ...order, status, source: 'journal' });
}
