import { z } from 'zod';

/**
 * What a client sends to the order API: the handlers validate requests with these schemas, and
 * lib/order-path/order-api.ts builds the API Gateway request model from the same schema, so the gateway and
 * the handler refuse the same bodies. Classic zod still: the handlers' move to zod/mini (for
 * bundle size) converts these with the rest of their validation.
 */

/** A positive decimal with at most 12 integer and 8 fractional digits, as text (no float rounding). */
export const DECIMAL = /^(?:0|[1-9]\d{0,11})(?:\.\d{1,8})?$/;

function positiveDecimal(field: string) {
  return z
    .union([z.string(), z.number()], { error: `${field} must be a number or a decimal string` })
    .transform((value) => (typeof value === 'number' ? String(value) : value.trim()))
    .refine((value) => DECIMAL.test(value), { message: `must be a decimal with at most 12 integer and 8 fractional digits` })
    .refine((value) => Number(value) > 0, { message: 'must be greater than 0' });
}

/** The idempotency key's two parts (orderKeyOf), as a client gives them: in an order, or to look one up. */
export const OrderKeySchema = z.strictObject({
  clientOrderId: z
    .string({ error: 'is required and must be a string' })
    .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1-64 characters of A-Z, a-z, 0-9, ".", "_", ":" or "-"'),
  accountId: z.string({ error: 'is required and must be a string' }).regex(/^[A-Za-z0-9-]{1,32}$/, 'must be 1-32 characters of A-Z, a-z, 0-9 or "-"'),
});

/** What a client sends to `POST /orders`. Unknown fields are refused, not ignored. */
export const OrderRequestSchema = z
  .strictObject({
    ...OrderKeySchema.shape,
    symbol: z
      .string({ error: 'is required and must be a string' })
      .regex(/^[A-Z][A-Z0-9.]{0,11}$/, 'must be 1-12 upper-case letters, digits or dots, starting with a letter'),
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
