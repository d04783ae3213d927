import { CONTROL_VARIABLES, DATABASE_VARIABLES } from './common';
import { defineEnvironment, FunctionContract, integer } from './environment';

/** The regional health check (GET /health): lib/order-path/order-api.ts deploys lambda/health. */
export const HEALTH = {
  codeFolder: 'health',
  service: 'regional-health',
  environment: defineEnvironment({
    ...DATABASE_VARIABLES,
    ...CONTROL_VARIABLES,
    CHECK_TIMEOUT_MS: integer(1),
  }),
} satisfies FunctionContract;
