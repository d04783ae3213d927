/**
 * Aurora's `aurora_global_db_status()` for a PostgreSQL that lacks it: the function as the Aurora
 * User Guide describes it ("aurora_global_db_status": one row per cluster of the global database;
 * `rpo_lag_in_msec` and `durability_lag_in_msec` are -1 for the primary, and its
 * `last_lag_calculation_time` is 1970-01-01 00:00:00+00), answering from a table the test or the
 * simulation's Aurora model sets. The table belongs to the database it is in (a region's own
 * view), and is never replicated.
 */

/** The table the function answers from. */
export const GLOBAL_DB_STATUS_TABLE = 'test_global_db_status';

/** Runs one statement on the database (a pg Client's `query`, or a Database's). */
export type RunStatement = (sql: string, params?: unknown[]) => Promise<unknown>;

/** A secondary's row: how far it trails, as of when. */
export interface SecondaryStatus {
  readonly region: string;
  readonly rpoLagMs: number;
  readonly calculatedAt: Date;
}

/** Creates the table and the function (both empty: a cluster outside any global database). */
export async function installGlobalDbStatus(run: RunStatement): Promise<void> {
  await run(
    `CREATE TABLE ${GLOBAL_DB_STATUS_TABLE} (aws_region text PRIMARY KEY, rpo_lag_in_msec bigint NOT NULL, last_lag_calculation_time timestamptz NOT NULL)`,
  );
  await run(`CREATE FUNCTION aurora_global_db_status()
    RETURNS TABLE (aws_region text, highest_lsn_written bigint, durability_lag_in_msec bigint, rpo_lag_in_msec bigint, last_lag_calculation_time timestamptz, feedback_epoch integer, feedback_xmin bigint)
    LANGUAGE sql STABLE AS $$
      SELECT s.aws_region, 0::bigint, s.rpo_lag_in_msec, s.rpo_lag_in_msec, s.last_lag_calculation_time, 0, 0::bigint FROM ${GLOBAL_DB_STATUS_TABLE} s
    $$`);
}

/** The writer is `primary`; each secondary trails it as given (none: the writer stands alone). */
export async function setGlobalDbStatus(run: RunStatement, primary: string, secondaries: readonly SecondaryStatus[]): Promise<void> {
  await run(`DELETE FROM ${GLOBAL_DB_STATUS_TABLE}`);
  await run(`INSERT INTO ${GLOBAL_DB_STATUS_TABLE} VALUES ($1, -1, '1970-01-01 00:00:00+00')`, [primary]);
  for (const secondary of secondaries) {
    await run(`INSERT INTO ${GLOBAL_DB_STATUS_TABLE} VALUES ($1, $2, $3)`, [secondary.region, secondary.rpoLagMs, secondary.calculatedAt.toISOString()]);
  }
}
