import { CONTROL_VARIABLES, DATABASE_VARIABLES } from './common';
import { defineEnvironment, FunctionContract, integer } from './environment';

/** Journal reconciliation (schedule and failover): lib/failover/failover-orchestrator.ts deploys lambda/reconcile. */
export const RECONCILE = {
  codeFolder: 'reconcile',
  service: 'failover-reconcile',
  environment: defineEnvironment({
    ...DATABASE_VARIABLES,
    ...CONTROL_VARIABLES,
    PENDING_SHARDS: integer(1),
    DB_POOL_SIZE: integer(1),
    DURABLE_AFTER_SECONDS: integer(1),
    REPLICATION_MARGIN_SECONDS: integer(1),
    ORDER_BOUND_SECONDS: integer(1),
  }),
} satisfies FunctionContract;

/** Reconciliation's metrics (service `failover-reconcile`), shared with the alarms that watch them. */
export const RECONCILE_METRICS = {
  /** Journal orders a run committed that the processor had not. */
  applied: 'OrdersReconciled',
  /** Entries acknowledged longer ago than the bound and not in the writer when the run looked. */
  overdue: 'OrdersOverdue',
  /** Entries whose key another stored order holds (an operator decides). */
  conflicts: 'OrderConflictsPending',
  /** Entries the writer refused to commit even alone (they stay pending; past the bound they count as overdue too, which alarms). */
  notCommitted: 'OrdersNotCommitted',
  /** Entries kept pending because the writer's replication status did not show them in the secondary (or could not be read). */
  awaitingReplication: 'OrdersAwaitingReplication',
  /** Runs that stopped before reading every shard (time ran out, or the epoch moved). */
  incomplete: 'ReconcileIncomplete',
} as const;

/** What a reconciliation run returns (the failover's replay step reads `complete`). */
export interface ReconcileResult {
  /** False in a standby region (a scheduled run there does nothing). */
  readonly active: boolean;
  /** Journal orders this run committed to the writer (not there before). */
  readonly applied: number;
  /** Entries whose order had been in the writer long enough, taken out of the pending index. */
  readonly durable: number;
  /**
   * Entries in the writer long enough that stay pending because the writer's replication status
   * does not yet show them in every secondary (or could not be read).
   */
  readonly awaitingReplication: number;
  /** Entries whose key another stored row holds (kept for an operator). */
  readonly conflicts: number;
  /** Entries acknowledged longer ago than the bound that were not in the writer when this run looked. */
  readonly overdue: number;
  /** Entries that are not orders (logged with their keys; they need a person). */
  readonly unreadable: string[];
  /** Entries that changed under this run (another writer settled them first). */
  readonly skipped: number;
  /** Entries the writer refused to commit even alone this run (they stay pending for the next). */
  readonly notCommitted: number;
  /**
   * False when time ran out (or the epoch moved) before every shard was read: run again. A run
   * that ran out of time records where it stopped, and the next scheduled run under the same epoch
   * resumes there and reads on to the last shard.
   */
  readonly complete: boolean;
  /** The epoch the orders were committed under. */
  readonly fencingEpoch: number;
}
