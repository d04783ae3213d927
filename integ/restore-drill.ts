import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { withRetry } from '../lambda/shared/retry';
import { Naming, Purpose } from '../lib/core/naming';
import { DATABASE_NAME } from '../lib/data/global-database';
import {
  deleteScratchCluster,
  makeScratchClusterServe,
  newestCopiedRecoveryPoint,
  snapshotIdentifier,
  sourceSecurityGroups,
  startRestore,
  type RecoveryPointSource,
  type RestoreSource,
  type ScratchClusterDependencies,
  type ScratchClusterNames,
} from './restore-aurora';
import { appliedBefore, checkOrders, checkSchema, expectedSchema, type AppliedEntry, type SqlRunner } from './restore-checks';
import { restoreJournalTable } from './restore-dynamodb';
import type { RestoreOptions } from './restore-options';
import { waitUntil } from './restore-wait';
import { fixedWidthTable } from './drill-figures';

/**
 * The restore drill: proves the backups outside the replication path restore. In one region (the
 * secondary by default) it restores the Aurora cluster into a scratch cluster (from the newest
 * recovery point copied from the other region, or to a point in time of the region's own cluster),
 * makes it answer SQL through the Data API, checks the schema and that every order the journal
 * marked applied before the restore point is there, and deletes it; then restores the order journal
 * (DynamoDB PITR) to the same point into a scratch table, counts it, and deletes it. The figure
 * that has a target is the Aurora restore time: start of the restore until the cluster answers.
 */

/** Without an Aurora restore point, the journal is restored to this long ago (PITR reaches to about five minutes before now). */
const DEFAULT_TABLE_RESTORE_AGE_MS = 5 * 60_000;

/** How long deleting the scratch cluster may take, whatever time the restore used (instance then cluster: typically 5 to 15 minutes). */
const CLUSTER_DELETE_TIMEOUT_MS = 45 * 60_000;

export interface RestoreDrillDependencies extends ScratchClusterDependencies {
  readonly recoveryPoints: RecoveryPointSource;
  readonly secrets: Pick<SecretsManagerClient, 'send'>;
  readonly dynamodb: Pick<DynamoDBClient, 'send'>;
  /** SQL on the scratch cluster (the Data API; tests pass a loopback PostgreSQL). */
  readonly sqlFor: (target: { resourceArn: string; secretArn: string; database: string }) => SqlRunner;
  /** The caller's account, when options.account is absent. */
  readonly callerAccount?: () => Promise<string>;
}

export interface RestoreFigures {
  /** Start of the Aurora restore until the scratch cluster answered SQL. */
  readonly auroraRestoreMinutes: number | null;
  readonly restoredOrders: number | null;
  readonly journalAppliedBeforePoint: number | null;
  readonly missingOrders: number | null;
  readonly journalItemsRestored: number | null;
  readonly tableRestoreSeconds: number | null;
}

export interface RestoreDrillResult {
  readonly ok: boolean;
  readonly problems: string[];
  readonly account: string | undefined;
  readonly figures: RestoreFigures;
  readonly details: {
    readonly source: { kind: string; recoveryPointArn?: string; time: string } | null;
    readonly scratchCluster: string | null;
    readonly scratchTable: string | null;
    readonly missingOrders: AppliedEntry[];
    readonly journalItemsExpected: { low: number; high: number } | null;
  };
}

/** The names the restore drill reads and creates, from lib/core/naming.ts. */
export function restoreNames(
  options: Pick<RestoreOptions, 'appName' | 'environmentSuffix' | 'region'>,
  account: string,
): ScratchClusterNames & { vault: string; secret: string; journalTable: string; scratchTable: string } {
  const naming = Naming.forDeployment({ appName: options.appName, environmentSuffix: options.environmentSuffix, account }, options.region);
  return {
    vault: naming.name('backupVault', Purpose.backup),
    sourceCluster: naming.name('dbCluster', Purpose.orders),
    scratchCluster: naming.name('dbCluster', Purpose.restoreDrill),
    scratchInstance: naming.name('dbInstance', `${Purpose.restoreDrill}-1`),
    subnetGroup: naming.name('dbSubnetGroup', Purpose.orders),
    secret: naming.name('secret', Purpose.database),
    journalTable: naming.name('table', Purpose.orderJournal),
    scratchTable: naming.name('table', Purpose.restoreDrill),
  };
}

const EMPTY_FIGURES: RestoreFigures = {
  auroraRestoreMinutes: null,
  restoredOrders: null,
  journalAppliedBeforePoint: null,
  missingOrders: null,
  journalItemsRestored: null,
  tableRestoreSeconds: null,
};

type Names = ReturnType<typeof restoreNames>;

interface AuroraOutcome {
  readonly figures: Pick<RestoreFigures, 'auroraRestoreMinutes' | 'restoredOrders' | 'journalAppliedBeforePoint' | 'missingOrders'>;
  readonly missing: AppliedEntry[];
}

/** The restore point: the newest copied recovery point, or the time the user named. */
async function chooseSource(
  options: RestoreOptions,
  names: Names,
  deps: RestoreDrillDependencies,
): Promise<{ source: RestoreSource; cutoff: Date } | { problem: string }> {
  if (options.pointInTime) return { source: { kind: 'point-in-time', time: options.pointInTime }, cutoff: options.pointInTime };
  const point = await newestCopiedRecoveryPoint(deps.recoveryPoints, names.vault, options.region, deps.sleep);
  if ('problem' in point) return point;
  deps.print(`recovery point: ${point.recoveryPointArn} (created ${point.creationDate.toISOString()}, copied from ${point.sourceBackupVaultArn})`);
  return {
    source: {
      kind: 'recovery-point',
      recoveryPointArn: point.recoveryPointArn,
      snapshotIdentifier: snapshotIdentifier(point.recoveryPointArn, options.region)!,
    },
    // Every order applied before the recovery point was created must be in it.
    cutoff: point.creationDate,
  };
}

/** The scratch cluster's checks once it answers; adds its problems, returns its figures. */
async function checkRestoredCluster(
  sql: SqlRunner,
  cutoff: Date,
  names: Names,
  deps: RestoreDrillDependencies,
  problems: string[],
): Promise<Omit<AuroraOutcome['figures'], 'auroraRestoreMinutes'> & { missing: AppliedEntry[] }> {
  problems.push(...(await checkSchema(sql, expectedSchema())));
  const applied = await appliedBefore(deps.dynamodb, names.journalTable, cutoff, deps.sleep);
  const orders = await checkOrders(sql, applied);
  if (orders.missingCount > 0) {
    const listed = orders.missing.map((entry) => `${entry.orderId} (${entry.orderKey})`).join(', ');
    problems.push(
      `${orders.missingCount} order(s) the journal marked applied before ${cutoff.toISOString()} are missing from the restored orders table: ${listed}${orders.missingCount > orders.missing.length ? ', ...' : ''}`,
    );
  }
  return {
    restoredOrders: orders.restoredOrders,
    journalAppliedBeforePoint: orders.journalApplied,
    missingOrders: orders.missingCount,
    missing: orders.missing,
  };
}

/** Restores, checks and deletes the scratch cluster; whatever fails after the restore started, the cluster is deleted. */
async function auroraPart(
  options: RestoreOptions,
  names: Names,
  chosen: { source: RestoreSource; cutoff: Date },
  deps: RestoreDrillDependencies,
  problems: string[],
): Promise<AuroraOutcome> {
  const none: AuroraOutcome = {
    figures: { auroraRestoreMinutes: null, restoredOrders: null, journalAppliedBeforePoint: null, missingOrders: null },
    missing: [],
  };
  let securityGroups: string[];
  try {
    securityGroups = await sourceSecurityGroups(names, deps);
  } catch (error) {
    problems.push(`Aurora restore not started: ${(error as Error).message}`);
    return none;
  }
  const started = deps.now();
  const deadline = started + options.timeoutMs;
  deps.print(
    `restoring ${names.scratchCluster} from ${chosen.source.kind === 'recovery-point' ? chosen.source.recoveryPointArn : `${names.sourceCluster} at ${chosen.source.time.toISOString()}`}`,
  );
  const before = problems.length;
  let outcome = none;
  try {
    await startRestore(chosen.source, names, securityGroups, deps);
    const clusterArn = await makeScratchClusterServe(names, options.instanceClass, deadline, options.pollMs, deps);
    const checked = await answerAndCheck(clusterArn, chosen.cutoff, names, deps, deadline, options.pollMs, problems);
    const minutes = Math.round((checked.answeredAt - started) / 6_000) / 10;
    if (minutes > options.restoreTargetMinutes) {
      problems.push(`Aurora restore took ${minutes} min (start -> cluster answers), over the target restoreTargetMinutes ${options.restoreTargetMinutes} min`);
    }
    outcome = { figures: { ...checked.figures, auroraRestoreMinutes: minutes }, missing: checked.figures.missing };
  } catch (error) {
    problems.push(`Aurora restore drill failed: ${(error as Error).message}`);
  } finally {
    deps.print(`deleting scratch cluster ${names.scratchCluster}${problems.length > before ? ' (after a failure)' : ''}`);
    problems.push(...(await deleteScratchCluster(names, deps.now() + CLUSTER_DELETE_TIMEOUT_MS, options.pollMs, deps)));
  }
  return outcome;
}

/** Waits until the scratch cluster answers SQL (the restore's end), then checks it. */
async function answerAndCheck(
  clusterArn: string,
  cutoff: Date,
  names: Names,
  deps: RestoreDrillDependencies,
  deadline: number,
  pollMs: number,
  problems: string[],
): Promise<{ answeredAt: number; figures: Awaited<ReturnType<typeof checkRestoredCluster>> }> {
  // The restored cluster keeps the source's master credentials, so the database secret opens it.
  const secret = await withRetry(`describe secret ${names.secret}`, () => deps.secrets.send(new DescribeSecretCommand({ SecretId: names.secret })), {
    sleep: deps.sleep,
  });
  if (!secret.ARN) throw new Error(`secret ${names.secret} has no ARN`);
  const sql = deps.sqlFor({ resourceArn: clusterArn, secretArn: secret.ARN, database: DATABASE_NAME });
  await waitUntil(
    `scratch cluster ${names.scratchCluster} over the Data API`,
    async () => {
      try {
        await sql.query('SELECT 1 AS answer');
        return { done: true, status: 'answers SQL' };
      } catch (error) {
        return { done: false, status: `not answering yet (${(error as Error).message})` };
      }
    },
    deadline,
    pollMs,
    deps,
  );
  const answeredAt = deps.now();
  return { answeredAt, figures: await checkRestoredCluster(sql, cutoff, names, deps, problems) };
}

/** Runs the restore drill; never throws for a failed drill (the result says why). */
export async function runRestoreDrill(options: RestoreOptions, deps: RestoreDrillDependencies): Promise<RestoreDrillResult> {
  const problems: string[] = [];
  let account = options.account;
  if (!account) {
    try {
      account = deps.callerAccount ? await deps.callerAccount() : undefined;
    } catch (error) {
      problems.push(`could not read the account from STS GetCallerIdentity: ${(error as Error).message}`);
    }
  }
  if (!account) {
    if (problems.length === 0) problems.push('no account given and no way to read it (STS GetCallerIdentity)');
    return {
      ok: false,
      problems,
      account,
      figures: EMPTY_FIGURES,
      details: { source: null, scratchCluster: null, scratchTable: null, missingOrders: [], journalItemsExpected: null },
    };
  }
  const names = restoreNames(options, account);
  const chosen = await chooseSource(options, names, deps);
  let aurora: AuroraOutcome | undefined;
  if ('problem' in chosen) problems.push(`Aurora restore not started: ${chosen.problem}`);
  else aurora = await auroraPart(options, names, chosen, deps, problems);

  const tablePoint = 'problem' in chosen ? new Date(deps.now() - DEFAULT_TABLE_RESTORE_AGE_MS) : chosen.cutoff;
  deps.print(`restoring ${names.journalTable} to ${tablePoint.toISOString()} as ${names.scratchTable}`);
  const table = await restoreJournalTable(names, tablePoint, deps.now() + options.timeoutMs, options.pollMs, deps);
  problems.push(...table.problems);

  const figures: RestoreFigures = {
    ...EMPTY_FIGURES,
    ...aurora?.figures,
    journalItemsRestored: table.restoredItems,
    tableRestoreSeconds: table.restoreSeconds,
  };
  for (const line of restoreFigureTable(figures, options.restoreTargetMinutes)) deps.print(line);
  const ok = problems.length === 0;
  deps.print(ok ? 'restore drill passed' : `restore drill FAILED (${problems.length} problem(s)):`);
  for (const problem of problems) deps.print(`  - ${problem}`);
  const source =
    'problem' in chosen
      ? null
      : chosen.source.kind === 'recovery-point'
        ? { kind: chosen.source.kind, recoveryPointArn: chosen.source.recoveryPointArn, time: chosen.cutoff.toISOString() }
        : { kind: chosen.source.kind, time: chosen.cutoff.toISOString() };
  return {
    ok,
    problems,
    account,
    figures,
    details: {
      source,
      scratchCluster: aurora ? names.scratchCluster : null,
      scratchTable: names.scratchTable,
      missingOrders: aurora?.missing ?? [],
      journalItemsExpected: table.sourceItemsBefore,
    },
  };
}

/** The restore figures as a fixed-width table. */
export function restoreFigureTable(figures: RestoreFigures, restoreTargetMinutes: number): string[] {
  const show = (value: number | null, unit = ''): string => (value === null ? 'unknown' : `${value}${unit}`);
  const verdict = figures.auroraRestoreMinutes === null ? 'UNKNOWN' : figures.auroraRestoreMinutes <= restoreTargetMinutes ? 'ok' : 'OVER';
  const rows: [string, string, string, string][] = [
    ['figure', 'value', 'target', ''],
    ['Aurora restore (start -> answers SQL)', show(figures.auroraRestoreMinutes, ' min'), `${restoreTargetMinutes} min`, verdict],
    ['orders in the restored cluster', show(figures.restoredOrders), '', ''],
    ['journal entries applied before the point', show(figures.journalAppliedBeforePoint), '', ''],
    [
      'of them missing from the restore',
      show(figures.missingOrders),
      '0',
      figures.missingOrders === null ? 'UNKNOWN' : figures.missingOrders === 0 ? 'ok' : 'MISSING',
    ],
    ['journal items restored (PITR)', show(figures.journalItemsRestored), '', ''],
    ['journal table restore', show(figures.tableRestoreSeconds, ' s'), '', ''],
  ];
  return fixedWidthTable(rows);
}
