import type { FailoverInput, PreflightResult } from './failover-steps';
import type { ReconcileResult } from './reconcile';

/**
 * The failover state machine's state: the execution's input, and what each state puts at its
 * result path as the run goes on. lib/failover/ names every JSONPath it reads or writes through
 * `executionPath`, so a path that is not in this shape (a misspelt field, a field the preflight
 * step no longer returns) does not compile. The steps function's results are the handlers' own
 * types; the rest are what the state machine's own states write.
 */
export interface FailoverExecution extends FailoverInput {
  /** The preflight step's result. */
  readonly preflight: PreflightResult;
  /** The lock's conditional write (its DynamoDB result). */
  readonly locked: unknown;
  /** The lock was held by another run. */
  readonly lockError: CaughtError;
  /** The fence's conditional write. */
  readonly fence: unknown;
  /** The evacuation switches after the fence, and after a rollback. */
  readonly switches: unknown;
  readonly rollbackSwitches: unknown;
  /** The promote step's request and the answer that it must wait. */
  readonly promotionRequest: unknown;
  readonly promotionBusy: CaughtError;
  /** A person's answer to a failover that allows data loss. */
  readonly approval: unknown;
  /** Checks of the promotion so far. */
  readonly promotion: { readonly polls: number };
  /** The global cluster as the last check saw it (a ResultSelector over DescribeGlobalClusters). */
  readonly cluster: { readonly status: string; readonly writers: readonly string[] };
  /** The promotion is done: this region's cluster is the writer. */
  readonly promoted: { readonly writer: string };
  /** The journal replay's result. */
  readonly reconcile: ReconcileResult;
  /** The canary order's client order id. */
  readonly canary: { readonly orderId: string };
  /** The validate and record steps' results. */
  readonly validation: unknown;
  readonly figures: unknown;
  /** The rollback's write of the control table. */
  readonly rollback: unknown;
  /** The error that sent the run down the failure path. */
  readonly failure: CaughtError;
  /** Errors caught on the way that do not stop the run (an event, an alert, a metric, a record, the lock's release, a rollback step). */
  readonly eventError: CaughtError;
  readonly alertError: CaughtError;
  readonly metricError: CaughtError;
  readonly recordError: CaughtError;
  readonly unlockError: CaughtError;
  readonly rollbackError: CaughtError;
}

/** What a Catch puts at its result path. */
export interface CaughtError {
  readonly Error: string;
  readonly Cause: string;
}

/** Every JSONPath into `T`, from `$`: objects are walked, arrays and primitives end a path. */
type PathsOf<T, Prefix extends string> = T extends readonly unknown[]
  ? never
  : T extends object
    ? { [K in keyof T & string]-?: `${Prefix}.${K}` | PathsOf<NonNullable<T[K]>, `${Prefix}.${K}`> }[keyof T & string]
    : never;

/** A JSONPath the failover state machine may read or write. */
export type ExecutionPath = PathsOf<FailoverExecution, '$'>;

/** The path itself, checked against FailoverExecution when it compiles. */
export function executionPath<P extends ExecutionPath>(path: P): P {
  return path;
}
