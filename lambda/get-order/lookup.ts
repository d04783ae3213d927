import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { Database } from '../shared/database';
import { json } from '../shared/http';
import { readJournalEntry } from '../shared/journal';
import { AcceptedOrderSchema } from '../shared/order';
import { OrderJournalSchema } from '../shared/tables';

export interface LookupDependencies {
  readonly database: Database;
  readonly documents: DynamoDBDocumentClient;
  readonly journalTable: string;
  readonly logger: Logger;
}

const CLIENT_ORDER_ID = /^[A-Za-z0-9._:-]{1,64}$/;

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
 * GET /orders/{id}, where id is the client order id (the key clients hold). Aurora first (the
 * system of record); the journal when Aurora has no row yet or cannot answer, since every
 * acknowledged order is in the journal. A row that another order's conflict names is not answered
 * as that order: the journal's order is, with status `conflict` (an operator decides).
 */
export async function lookupOrder(id: string | undefined, deps: LookupDependencies): Promise<APIGatewayProxyResult> {
  if (!id || !CLIENT_ORDER_ID.test(id)) {
    return json(400, { error: 'invalid_order_id', problems: [{ field: 'id', rule: 'must be a client order id: 1-64 characters of A-Z, a-z, 0-9, ".", "_", ":" or "-"' }] });
  }
  try {
    // A row is the order only if no journal order under the same key was found to conflict with it
    // (order_conflicts): then the journal's order is the one the client was acknowledged.
    const rows = await deps.database.query<OrderRow & { conflicted: boolean }>(
      'read order',
      'SELECT o.*, EXISTS (SELECT 1 FROM order_conflicts c WHERE c.client_order_id = o.client_order_id) AS conflicted FROM orders o WHERE o.client_order_id = $1',
      [id],
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
  const item = await readJournalEntry(deps.documents, deps.journalTable, id);
  if (!item) return json(404, { error: 'order_not_found', clientOrderId: id });
  const entry = AcceptedOrderSchema.safeParse(item);
  if (!entry.success) {
    deps.logger.error('journal entry is malformed', { clientOrderId: id });
    return json(500, { error: 'order_unreadable', clientOrderId: id });
  }
  const { requestDigest: _digest, ...order } = entry.data;
  const status = item.conflictingOrderId !== undefined ? 'conflict' : item.appliedAt !== undefined || item[OrderJournalSchema.pendingShard] === undefined ? 'applied' : 'accepted';
  return json(200, { ...order, status, source: 'journal' });
}
