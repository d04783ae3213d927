import type { Datapoint } from '@aws-sdk/client-cloudwatch';

/** The newest of CloudWatch's datapoints (GetMetricStatistics returns them in no order); undefined when there are none. */
export function latestDatapoint(datapoints: readonly Datapoint[] | undefined): Datapoint | undefined {
  return [...(datapoints ?? [])].sort((a, b) => (b.Timestamp?.getTime() ?? 0) - (a.Timestamp?.getTime() ?? 0))[0];
}

/** The metrics journal reconciliation publishes (service `failover-reconcile`), shared with the alarms that watch them (lib/). */
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

/** The logger and metric service name of journal reconciliation. */
export const RECONCILE_SERVICE = 'failover-reconcile';

/** The metrics order intake publishes, by outcome (service `order-intake`), shared with the alarms that watch them (lib/). */
export const INTAKE_METRICS = {
  accepted: 'OrdersAccepted',
  duplicate: 'OrdersDuplicate',
  rejected: 'OrdersRejected',
  conflict: 'OrdersConflicting',
  journal_unavailable: 'JournalWriteFailures',
  /** Journaled and acknowledged, but not queued: reconciliation applies them. */
  not_queued: 'OrdersNotQueued',
} as const;

/** The logger and metric service name of order intake. */
export const INTAKE_SERVICE = 'order-intake';
