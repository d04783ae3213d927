import * as z from 'zod/mini';

/**
 * What a client sends to the order API: the handlers validate requests with these schemas, and
 * lib/order-path/order-api.ts builds the API Gateway request model from the same schema, so the gateway and
 * the handler refuse the same bodies. Written with zod/mini, like every schema a handler bundles.
 */

/** A positive decimal with at most 12 integer and 8 fractional digits, as text (no float rounding). */
export const DECIMAL = /^(?:0|[1-9]\d{0,11})(?:\.\d{1,8})?$/;

function positiveDecimal(field: string) {
  return z
    .pipe(
      z.union([z.string(), z.number()], { error: `${field} must be a number or a decimal string` }),
      z.transform((value: string | number) => (typeof value === 'number' ? String(value) : value.trim())),
    )
    .check(
      z.refine((value: string) => DECIMAL.test(value), { message: `must be a decimal with at most 12 integer and 8 fractional digits` }),
      z.refine((value: string) => Number(value) > 0, { message: 'must be greater than 0' }),
    );
}

/** The idempotency key's two parts (orderKeyOf), as a client gives them: in an order, or to look one up. */
export const OrderKeySchema = z.strictObject({
  clientOrderId: z
    .string({ error: 'is required and must be a string' })
    .check(z.regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1-64 characters of A-Z, a-z, 0-9, ".", "_", ":" or "-"')),
  accountId: z.string({ error: 'is required and must be a string' }).check(z.regex(/^[A-Za-z0-9-]{1,32}$/, 'must be 1-32 characters of A-Z, a-z, 0-9 or "-"')),
});

/** What a client sends to `POST /orders`. Unknown fields are refused, not ignored. */
export const OrderRequestSchema = z
  .strictObject({
    ...OrderKeySchema.shape,
    symbol: z
      .string({ error: 'is required and must be a string' })
      .check(z.regex(/^[A-Z][A-Z0-9.]{0,11}$/, 'must be 1-12 upper-case letters, digits or dots, starting with a letter')),
    side: z.enum(['buy', 'sell'], { error: 'must be "buy" or "sell"' }),
    orderType: z.enum(['market', 'limit'], { error: 'must be "market" or "limit"' }),
    quantity: positiveDecimal('quantity'),
    limitPrice: z.optional(positiveDecimal('limitPrice')),
  })
  .check(
    z.superRefine((order, ctx) => {
      if (order.orderType === 'limit' && order.limitPrice === undefined) {
        ctx.addIssue({ code: 'custom', path: ['limitPrice'], message: 'is required for a limit order' });
      }
      if (order.orderType === 'market' && order.limitPrice !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['limitPrice'], message: 'must be absent for a market order' });
      }
    }),
  );
export type OrderRequest = z.infer<typeof OrderRequestSchema>;
