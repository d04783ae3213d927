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

/** One check of a /health body, as the health function reports it. */
export interface HealthCheckReport {
  readonly name: string;
  readonly ok: boolean;
  readonly detail?: string;
}

/** A region's /health as seen from outside it (the orchestrator's preflight, the prober). */
export interface HealthProbe {
  /** An HTTP response arrived within the timeout. */
  readonly answered: boolean;
  /** Its status, when it answered. */
  readonly status?: number;
  /** The checks the body reported (empty when it had none). */
  readonly checks: readonly HealthCheckReport[];
  /** Why it did not answer, or which checks failed. */
  readonly detail: string;
  readonly ms: number;
}
