import { parseConfig } from '../lib/core/config';

/**
 * The restore drill's command line: `npm run drill -- --restore --env <suffix> ...`. Parsed here
 * into RestoreOptions; a bad argument is a RestoreUsageError (the CLI prints it and exits 2).
 */

export const RESTORE_USAGE = [
  'usage: npm run drill -- --restore --env <suffix> [--region <region>] [--point-in-time <ISO time>] [--app <name>] [--account <12 digits>]',
  '         [--restore-target-minutes <n>] [--instance-class <class>] [--timeout-minutes <n>]',
  '  Restores the Aurora cluster and the order journal into scratch copies in --region (default us-east-2), checks them, and deletes them.',
  "  Aurora: by default from the newest recovery point in that region's backup vault that was copied from the other region;",
  "  with --point-in-time, from the region's own cluster's automated backups (RestoreDBClusterToPointInTime works only in the",
  "  cluster's own region, so a point in time restores that region's cluster, not the other region's).",
  '  DynamoDB: the journal table restored (PITR) to the same point, or to five minutes ago.',
].join('\n');

const REGIONS: Record<string, string> = { 'us-east-1': 'us-east-2', 'us-east-2': 'us-east-1' };

/** The restore drill's default region: the secondary, where copies of the primary's backups land. */
const DEFAULT_RESTORE_REGION = 'us-east-2';

/**
 * How long the whole restore may take before the drill stops waiting (and deletes what it made),
 * unless --timeout-minutes says otherwise: twice the target, so a slow restore is measured as
 * over target rather than cut off.
 */
const TIMEOUT_TARGET_FACTOR = 2;

/** Thrown for bad or missing arguments of the restore drill. */
export class RestoreUsageError extends Error {
  constructor(message: string) {
    super(`${message}\n${RESTORE_USAGE}`);
    this.name = 'UsageError';
  }
}

export interface RestoreOptions {
  readonly appName: string;
  readonly environmentSuffix: string;
  /** The deployment's account; the caller's when absent. */
  readonly account?: string;
  /** Where the scratch cluster and table are made. */
  readonly region: string;
  readonly otherRegion: string;
  /** Restore to this time from the region's own cluster (automated backups) instead of a copied recovery point. */
  readonly pointInTime?: Date;
  /** Config `restoreTargetMinutes`: start of the restore until the cluster answers. */
  readonly restoreTargetMinutes: number;
  /** The scratch instance's class (`db.` + config's dbInstanceClass by default). */
  readonly instanceClass: string;
  /** How long the drill waits for the restore before giving up. */
  readonly timeoutMs: number;
  /** First pause between status polls; grows to 4 times this. */
  readonly pollMs: number;
}

const FLAGS = ['--env', '--region', '--point-in-time', '--app', '--account', '--restore-target-minutes', '--instance-class', '--timeout-minutes'] as const;

/** First pause between polls of a restoring cluster (RDS restores take minutes; a minute's poll costs little). */
const RESTORE_POLL_MS = 15_000;

function positiveMinutes(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) <= 0) throw new RestoreUsageError(`${flag} must be a positive whole number of minutes, not '${value}'`);
  return Number(value);
}

function flagValues(argv: readonly string[]): Map<string, string> {
  const values = new Map<string, string>();
  for (let index = 0; index < argv.length; index += 2) {
    const flag = argv[index];
    if (!(FLAGS as readonly string[]).includes(flag)) throw new RestoreUsageError(`unknown argument '${flag}'`);
    const value = argv[index + 1];
    if (value === undefined || value.startsWith('--')) throw new RestoreUsageError(`${flag} needs a value`);
    if (values.has(flag)) throw new RestoreUsageError(`${flag} given twice`);
    values.set(flag, value);
  }
  return values;
}

function parsePointInTime(value: string | undefined, now: Date): Date | undefined {
  if (value === undefined) return undefined;
  const time = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(time.getTime())) {
    throw new RestoreUsageError(`--point-in-time must be an ISO time with a zone, such as 2026-11-25T14:00:00Z, not '${value}'`);
  }
  if (time.getTime() >= now.getTime()) throw new RestoreUsageError(`--point-in-time must be in the past, not '${value}'`);
  return time;
}

function parseInstanceClass(value: string | undefined): string {
  try {
    // The same rule as config's dbInstanceClass: memory-optimized only, which also keeps out the
    // T classes the Data API does not support (Aurora User Guide, "Limitations for the Amazon RDS Data API").
    return `db.${parseConfig(value === undefined ? {} : { dbInstanceClass: value.replace(/^db\./, '') }).dbInstanceClass}`;
  } catch {
    throw new RestoreUsageError(`--instance-class must be a memory-optimized class such as db.r6g.large, not '${value}'`);
  }
}

/** Parses the restore drill's arguments (without `--restore`). */
export function parseRestoreArgs(argv: readonly string[], now: Date = new Date()): RestoreOptions {
  const values = flagValues(argv);
  const env = values.get('--env');
  if (!env) throw new RestoreUsageError('--env <suffix> is required');
  if (!/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$/.test(env))
    throw new RestoreUsageError(`--env must be lower-case letters, digits and single hyphens, not '${env}'`);
  const region = values.get('--region') ?? DEFAULT_RESTORE_REGION;
  const otherRegion = REGIONS[region];
  if (!otherRegion) throw new RestoreUsageError(`--region must be one of ${Object.keys(REGIONS).join(', ')}, not '${region}'`);
  const appName = values.get('--app') ?? 'trading-dr';
  if (!/^[a-z][a-z0-9-]*[a-z0-9]$/.test(appName)) throw new RestoreUsageError(`--app must be lower-case letters, digits and hyphens, not '${appName}'`);
  const account = values.get('--account');
  if (account !== undefined && !/^\d{12}$/.test(account)) throw new RestoreUsageError(`--account must be 12 digits, not '${account}'`);
  const targetFlag = values.get('--restore-target-minutes');
  const restoreTargetMinutes = targetFlag === undefined ? parseConfig({}).restoreTargetMinutes : positiveMinutes('--restore-target-minutes', targetFlag);
  const timeoutFlag = values.get('--timeout-minutes');
  const timeoutMinutes = timeoutFlag === undefined ? restoreTargetMinutes * TIMEOUT_TARGET_FACTOR : positiveMinutes('--timeout-minutes', timeoutFlag);
  return {
    appName,
    environmentSuffix: env,
    account,
    region,
    otherRegion,
    pointInTime: parsePointInTime(values.get('--point-in-time'), now),
    restoreTargetMinutes,
    instanceClass: parseInstanceClass(values.get('--instance-class')),
    timeoutMs: timeoutMinutes * 60_000,
    pollMs: RESTORE_POLL_MS,
  };
}
