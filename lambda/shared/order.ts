import { createHash } from 'crypto';
import * as z from 'zod/mini';
import { DECIMAL, type OrderRequest } from '../contracts/order-request';

/** An accepted order as the journal holds it and the queue carries it. */
export const AcceptedOrderSchema = z.object({
  orderId: z.uuid(),
  clientOrderId: z.string().check(z.minLength(1), z.maxLength(64)),
  accountId: z.string().check(z.minLength(1)),
  symbol: z.string().check(z.minLength(1)),
  side: z.enum(['buy', 'sell']),
  orderType: z.enum(['market', 'limit']),
  quantity: z.string().check(z.regex(DECIMAL)),
  limitPrice: z.optional(z.string().check(z.regex(DECIMAL))),
  acceptedAt: z.iso.datetime(),
  acceptedRegion: z.string().check(z.minLength(1)),
  /** Digest of the client's request, to tell a retry from a different order reusing the key. */
  requestDigest: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
});
export type AcceptedOrder = z.infer<typeof AcceptedOrderSchema>;

/** One problem with a request: the field and the rule it broke. */
export interface FieldProblem {
  readonly field: string;
  readonly rule: string;
}

export function fieldProblems(error: z.core.$ZodError): FieldProblem[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return { field: issue.keys.join(', '), rule: 'is not a field of an order' };
    }
    return { field: issue.path.join('.') || '(body)', rule: issue.message };
  });
}

/** Digest of the order fields a client chose: a retry has the same, a different order does not. */
export function requestDigest(order: OrderRequest): string {
  const canonical = [order.clientOrderId, order.accountId, order.symbol, order.side, order.orderType, order.quantity, order.limitPrice ?? ''].join('\u0000');
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * The idempotency key: an account's client order id. Two accounts may use the same client order
 * id for different orders. `/` is allowed in neither part, so the key is unambiguous; it is the
 * journal's partition key (one partition per order, so a busy account is not a hot partition).
 */
export function orderKeyOf(order: { readonly accountId: string; readonly clientOrderId: string }): string {
  return `${order.accountId}/${order.clientOrderId}`;
}

/** The journal's pending-index partition for an order: stable per key, spread over `shards`. */
export function pendingShardFor(orderKey: string, shards: number): string {
  const bucket = createHash('sha256').update(orderKey).digest().readUInt32BE(0) % shards;
  return `p#${bucket}`;
}
