import { createHash } from 'crypto';
import { z } from 'zod';

/** A positive decimal with at most 12 integer and 8 fractional digits, as text (no float rounding). */
const DECIMAL = /^(?:0|[1-9]\d{0,11})(?:\.\d{1,8})?$/;

function positiveDecimal(field: string) {
  return z
    .union([z.string(), z.number()], { error: `${field} must be a number or a decimal string` })
    .transform((value) => (typeof value === 'number' ? String(value) : value.trim()))
    .refine((value) => DECIMAL.test(value), { message: `must be a decimal with at most 12 integer and 8 fractional digits` })
    .refine((value) => Number(value) > 0, { message: 'must be greater than 0' });
}

/** The idempotency key's two parts (orderKeyOf), as a client gives them: in an order, or to look one up. */
export const OrderKeySchema = z.strictObject({
  clientOrderId: z.string({ error: 'is required and must be a string' }).regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1-64 characters of A-Z, a-z, 0-9, ".", "_", ":" or "-"'),
  accountId: z.string({ error: 'is required and must be a string' }).regex(/^[A-Za-z0-9-]{1,32}$/, 'must be 1-32 characters of A-Z, a-z, 0-9 or "-"'),
});

/** What a client sends to `POST /orders`. Unknown fields are refused, not ignored. */
export const OrderRequestSchema = z
  .strictObject({
    ...OrderKeySchema.shape,
    symbol: z.string({ error: 'is required and must be a string' }).regex(/^[A-Z][A-Z0-9.]{0,11}$/, 'must be 1-12 upper-case letters, digits or dots, starting with a letter'),
    side: z.enum(['buy', 'sell'], { error: 'must be "buy" or "sell"' }),
    orderType: z.enum(['market', 'limit'], { error: 'must be "market" or "limit"' }),
    quantity: positiveDecimal('quantity'),
    limitPrice: positiveDecimal('limitPrice').optional(),
  })
  .superRefine((order, ctx) => {
    if (order.orderType === 'limit' && order.limitPrice === undefined) {
      ctx.addIssue({ code: 'custom', path: ['limitPrice'], message: 'is required for a limit order' });
    }
    if (order.orderType === 'market' && order.limitPrice !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['limitPrice'], message: 'must be absent for a market order' });
    }
  });
export type OrderRequest = z.infer<typeof OrderRequestSchema>;

/** An accepted order as the journal holds it and the queue carries it. */
export const AcceptedOrderSchema = z.object({
  orderId: z.uuid(),
  clientOrderId: z.string().min(1).max(64),
  accountId: z.string().min(1),
  symbol: z.string().min(1),
  side: z.enum(['buy', 'sell']),
  orderType: z.enum(['market', 'limit']),
  quantity: z.string().regex(DECIMAL),
  limitPrice: z.string().regex(DECIMAL).optional(),
  acceptedAt: z.iso.datetime(),
  acceptedRegion: z.string().min(1),
  /** Digest of the client's request, to tell a retry from a different order reusing the key. */
  requestDigest: z.string().regex(/^[0-9a-f]{64}$/),
});
export type AcceptedOrder = z.infer<typeof AcceptedOrderSchema>;

/** One problem with a request: the field and the rule it broke. */
export interface FieldProblem {
  readonly field: string;
  readonly rule: string;
}

export function fieldProblems(error: z.ZodError): FieldProblem[] {
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
