import { DATABASE_VARIABLES } from './common';
import { defineEnvironment, FunctionContract, integer, text } from './environment';

/** The order lookup (GET /orders/{id}): lib/order-path/order-api.ts deploys lambda/get-order. */
export const ORDER_LOOKUP = {
  codeFolder: 'get-order',
  service: 'order-lookup',
  environment: defineEnvironment({
    ...DATABASE_VARIABLES,
    JOURNAL_TABLE: text(),
    DB_POOL_SIZE: integer(1),
  }),
} satisfies FunctionContract;
