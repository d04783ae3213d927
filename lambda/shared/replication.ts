import type { Database } from './database';

/**
 * How far the Aurora global database's secondaries have caught up with the writer, from the
 * writer's own view. Aurora User Guide, "aurora_global_db_status": the function returns one row per
 * cluster of the global database; for a secondary, `rpo_lag_in_msec` is "the time it takes for the
 * most recent user transaction COMMIT to be stored on a secondary DB cluster after it's been stored
 * on the primary DB cluster", and `last_lag_calculation_time` is when that lag was calculated; for
 * the primary both lags are -1. So a transaction committed on the writer before
 * `last_lag_calculation_time - rpo_lag_in_msec` is stored in that secondary, and a failover that
 * allows data loss ("Using switchover or failover in Amazon Aurora Global Database") keeps it.
 */
export type ReplicationProgress =
  /** Every transaction the writer committed before `through` is stored in every secondary. */
  | { readonly kind: 'secondaries'; readonly through: Date; readonly secondaries: number }
  /** No secondary: nothing can be promoted with less than the writer has (one that joins later starts from a full copy). */
  | { readonly kind: 'none' }
  /** The status could not be read: nothing is known replicated. */
  | { readonly kind: 'unknown'; readonly reason: string };

interface StatusRow {
  readonly aws_region: string;
  readonly rpo_lag_in_msec: string | number | null;
  readonly last_lag_calculation_time: Date | null;
}

/** Reads the writer's replication status (one statement; an error becomes `unknown`, never a guess). */
export async function replicationProgress(database: Database): Promise<ReplicationProgress> {
  let rows: StatusRow[];
  try {
    rows = await database.query<StatusRow>(
      'read the global database replication status',
      'SELECT aws_region, rpo_lag_in_msec, last_lag_calculation_time FROM aurora_global_db_status()',
    );
  } catch (error) {
    return { kind: 'unknown', reason: `aurora_global_db_status() failed: ${(error as Error).message}` };
  }
  return progressOf(rows);
}

/** The progress the status rows show: the earliest point every secondary has reached. */
export function progressOf(rows: readonly StatusRow[]): ReplicationProgress {
  const secondaries = rows.filter((row) => Number(row.rpo_lag_in_msec) !== -1);
  if (secondaries.length === 0) return { kind: 'none' };
  let through = Number.POSITIVE_INFINITY;
  for (const row of secondaries) {
    const lagMs = Number(row.rpo_lag_in_msec);
    const calculatedAt = row.last_lag_calculation_time?.getTime();
    if (row.rpo_lag_in_msec === null || !Number.isFinite(lagMs) || lagMs < 0 || calculatedAt === undefined || !Number.isFinite(calculatedAt)) {
      return {
        kind: 'unknown',
        reason: `secondary ${row.aws_region} reports no usable lag (rpo_lag_in_msec ${row.rpo_lag_in_msec}, last_lag_calculation_time ${row.last_lag_calculation_time?.toISOString() ?? 'null'})`,
      };
    }
    through = Math.min(through, calculatedAt - lagMs);
  }
  return { kind: 'secondaries', through: new Date(through), secondaries: secondaries.length };
}

/**
 * Whether an order the writer held by `committedBy` is stored in every secondary, allowing
 * `marginMs` for the difference between the function's clock and the database's.
 */
export function replicatedBy(progress: ReplicationProgress, committedBy: number, marginMs: number): boolean {
  if (progress.kind === 'none') return true;
  if (progress.kind === 'unknown') return false;
  return committedBy <= progress.through.getTime() - marginMs;
}
