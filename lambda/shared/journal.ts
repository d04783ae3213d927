import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { AcceptedOrder, orderKeyOf, pendingShardFor } from './order';
import { OrderJournalSchema } from '../contracts/tables';

/**
 * The journal entry under an account's client order id, read strongly consistently (the journal
 * is MRSC, so this sees every write acknowledged in either region); undefined when there is none.
 */
export async function readJournalEntry(
  documents: DynamoDBDocumentClient,
  journalTable: string,
  key: { readonly accountId: string; readonly clientOrderId: string },
): Promise<Record<string, unknown> | undefined> {
  const response = await documents.send(
    new GetCommand({ TableName: journalTable, Key: { [OrderJournalSchema.orderKey]: orderKeyOf(key) }, ConsistentRead: true }),
  );
  return response.Item;
}

/** The journal entry intake writes for an accepted order: keyed by its idempotency key, pending in its shard of `pendingShards`. */
export function journalEntry(order: AcceptedOrder, pendingShards: number): Record<string, unknown> {
  const orderKey = orderKeyOf(order);
  return { ...order, [OrderJournalSchema.orderKey]: orderKey, [OrderJournalSchema.pendingShard]: pendingShardFor(orderKey, pendingShards) };
}
