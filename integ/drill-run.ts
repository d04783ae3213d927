import { promises as dns } from 'dns';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseConfig } from '../lib/core/config';
import { Naming, ParameterKey } from '../lib/core/naming';
import { withRetry } from '../lambda/shared/retry';
import { BackupClient } from '@aws-sdk/client-backup';
import { RDSClient } from '@aws-sdk/client-rds';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DrillOptions, runDrill, sfnExecutionApi } from './drill';
import { elapsedPrinter, failureLines } from './drill-cli';
import { assumedRoleCredentials, CredentialsProvider, takeRoleArn } from './drill-credentials';
import { plannedReportDocument, recordEvidence, restoreReportDocument, unplannedReportDocument } from './drill-evidence';
import { drillProvenance, gitHead } from './drill-report';
import { backupRecoveryPoints } from './restore-aurora';
import { dataApiRunner } from './restore-checks';
import { runRestoreDrill } from './restore-drill';
import { parseRestoreArgs, RESTORE_USAGE, RestoreOptions } from './restore-options';
import { FisClient } from '@aws-sdk/client-fis';
import { parseUnplannedArgs, runUnplannedDrill, UNPLANNED_USAGE, UnplannedOptions } from './unplanned-drill-run';

/**
 * `npm run drill -- --env <suffix> [--target us-east-2] [--reason "..."] [--app trading-dr]
 *   [--account 123456789012] [--traffic-target-seconds N] [--total-target-seconds N]`
 * `npm run drill -- --restore --env <suffix> [--region us-east-2] [--point-in-time <ISO>] ...`
 * `npm run drill -- --unplanned --env <suffix> --api-host <api.domain> ...` (integ/unplanned-drill-run.ts)
 * Any of them with `--role-arn <arn>`: drill as that role (integ/drill-credentials.ts).
 *
 * Runs a planned failover drill (integ/drill.ts) or the restore drill (integ/restore-drill.ts)
 * against a deployed environment, prints its progress and figures, and writes its report to the
 * audit bucket and drill-reports/ (integ/drill-report.ts). Exit codes: 0 the drill passed, 1 it
 * failed (every problem printed) or could not run (one line saying why), 2 bad arguments.
 */

export const USAGE =
  'usage: npm run drill -- --env <suffix> [--target <region>] [--reason <text>] [--app <name>] [--account <12 digits>] ' +
  '[--traffic-target-seconds <n>] [--total-target-seconds <n>] [--timeout-seconds <n>] [--api-host <api.domain>] [--role-arn <role to drill as>]';

const REGIONS: Record<string, string> = { 'us-east-1': 'us-east-2', 'us-east-2': 'us-east-1' };

/** Thrown for bad or missing arguments; the CLI prints it with the usage and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(`${message}\n${USAGE}`);
    this.name = 'UsageError';
  }
}

const FLAGS = [
  '--env',
  '--target',
  '--reason',
  '--app',
  '--account',
  '--traffic-target-seconds',
  '--total-target-seconds',
  '--timeout-seconds',
  '--api-host',
] as const;

function positiveInteger(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) <= 0) throw new UsageError(`${flag} must be a positive whole number of seconds, not '${value}'`);
  return Number(value);
}

/** Parses the command line (without `node` and the script) into the drill's options. */
export function parseDrillArgs(argv: readonly string[], today: Date = new Date()): DrillOptions {
  const values = new Map<string, string>();
  for (let index = 0; index < argv.length; index += 2) {
    const flag = argv[index];
    if (!(FLAGS as readonly string[]).includes(flag)) throw new UsageError(`unknown argument '${flag}'`);
    const value = argv[index + 1];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    if (values.has(flag)) throw new UsageError(`${flag} given twice`);
    values.set(flag, value);
  }
  const env = values.get('--env');
  if (!env) throw new UsageError('--env <suffix> is required');
  if (!/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$/.test(env)) throw new UsageError(`--env must be lower-case letters, digits and single hyphens, not '${env}'`);
  const target = values.get('--target') ?? 'us-east-2';
  const other = REGIONS[target];
  if (!other) throw new UsageError(`--target must be one of ${Object.keys(REGIONS).join(', ')}, not '${target}'`);
  const app = values.get('--app') ?? 'trading-dr';
  if (!/^[a-z][a-z0-9-]*[a-z0-9]$/.test(app)) throw new UsageError(`--app must be lower-case letters, digits and hyphens, not '${app}'`);
  const account = values.get('--account');
  if (account !== undefined && !/^\d{12}$/.test(account)) throw new UsageError(`--account must be 12 digits, not '${account}'`);
  const reason = values.get('--reason') ?? `drill ${today.toISOString().slice(0, 10)}`;
  if (reason.trim() === '' || reason.length > 500) throw new UsageError('--reason must be 1 to 500 characters');
  const trafficSeconds = values.has('--traffic-target-seconds')
    ? positiveInteger('--traffic-target-seconds', values.get('--traffic-target-seconds')!)
    : parseConfig({}).failoverTargetSeconds;
  const totalSeconds = values.has('--total-target-seconds') ? positiveInteger('--total-target-seconds', values.get('--total-target-seconds')!) : 900;
  const timeoutSeconds = values.has('--timeout-seconds')
    ? positiveInteger('--timeout-seconds', values.get('--timeout-seconds')!)
    : Math.max(totalSeconds * 2, 1800);
  const apiHost = values.get('--api-host');
  if (apiHost !== undefined && !/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(apiHost))
    throw new UsageError(`--api-host must be a DNS name such as api.trading.example.com, not '${apiHost}'`);
  return {
    ...(apiHost ? { dns: { hostName: apiHost, targetName: '' } } : {}),
    appName: app,
    environmentSuffix: env,
    account,
    targetRegion: target,
    otherRegion: other,
    mode: 'planned',
    reason,
    targets: { trafficSeconds, totalSeconds },
    pollMs: 5000,
    timeoutMs: timeoutSeconds * 1000,
  };
}

/** The caller's account and ARN (the state machine's ARN needs the account; the report, who ran it). */
async function callerIdentity(region: string): Promise<{ account: string; arn: string }> {
  const identity = await withRetry('read the caller identity', () => new STSClient({ ...on(region), maxAttempts: 3 }).send(new GetCallerIdentityCommand({})), {
    attempts: 2,
    // Missing or expired credentials do not come back by asking again.
    isRetryable: (error) => !/^(CredentialsProviderError|ExpiredToken|ExpiredTokenException)$/.test((error as Error).name),
  });
  if (!identity.Account || !identity.Arn) throw new Error('STS GetCallerIdentity returned no account or ARN');
  return { account: identity.Account, arn: identity.Arn };
}

/** The credentials every client uses: the role of `--role-arn`, else the SDK's default chain. */
let credentials: CredentialsProvider | undefined;

/** A client's settings in `region`, with the drill's credentials. */
function on(region: string): { region: string; credentials?: CredentialsProvider } {
  return credentials ? { region, credentials } : { region };
}

/** The one place the CLI writes. */
const printer = {
  out: (line: string): void => {
    process.stdout.write(`${line}\n`);
  },
  err: (line: string): void => {
    process.stderr.write(`${line}\n`);
  },
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Who runs the drill, from what commit, and the account (STS first: missing credentials end the command here, in one line). */
async function runRecordStart(region: string, account: string | undefined): Promise<{ account: string; commit: string; startedBy: string; startedAt: Date }> {
  const startedAt = new Date();
  const identity = await callerIdentity(region);
  const provenance = await drillProvenance({ env: process.env, gitHead, callerArn: async () => identity.arn });
  return { account: account ?? identity.account, ...provenance, startedAt };
}

/** The planned drill: the target's state machine, watched, its figures checked, its report written. */
async function plannedDrill(parsed: DrillOptions, print: (line: string) => void): Promise<number> {
  let options = parsed;
  const run = await runRecordStart(options.targetRegion, options.account);
  options = { ...options, account: run.account };
  if (options.dns) {
    // The target region's API target, as its stage published it: what api.<domain> must resolve to.
    const naming = Naming.forDeployment({ appName: options.appName, environmentSuffix: options.environmentSuffix, account: run.account }, options.targetRegion);
    const parameter = naming.parameterName(ParameterKey.apiRegionalDomainName);
    const ssm = new SSMClient({ ...on(options.targetRegion), maxAttempts: 3 });
    const targetName = (await withRetry(`read ${parameter}`, () => ssm.send(new GetParameterCommand({ Name: parameter })))).Parameter?.Value;
    if (!targetName) {
      printer.err(`${parameter} in ${options.targetRegion} has no value: is the environment deployed?`);
      return 1;
    }
    options = { ...options, dns: { hostName: options.dns.hostName, targetName } };
  }
  const sfn = new SFNClient(on(options.targetRegion));
  const report = await runDrill(options, {
    executions: sfnExecutionApi(sfn),
    documents: DynamoDBDocumentClient.from(new DynamoDBClient(on(options.targetRegion))),
    cloudwatch: new CloudWatchClient(on(options.targetRegion)),
    now: () => Date.now(),
    sleep,
    print,
    resolveCname: (name) => dns.resolveCname(name),
  });
  const document = plannedReportDocument(options, report, { ...run, endedAt: new Date() });
  await recordEvidence(document, { s3: new S3Client(on(options.targetRegion)) }, printer.out, printer.err);
  if (!report.ok) {
    printer.err(`drill failed (${report.executionArn || 'no execution'}):`);
    for (const problem of report.problems) printer.err(`  - ${problem}`);
    return 1;
  }
  return 0;
}

/** The restore drill: scratch cluster and table restored, checked and deleted, its report written. */
async function restoreDrill(options: RestoreOptions, print: (line: string) => void): Promise<number> {
  const run = await runRecordStart(options.region, options.account);
  const region = options.region;
  const result = await runRestoreDrill(
    { ...options, account: run.account },
    {
      rds: new RDSClient(on(region)),
      recoveryPoints: backupRecoveryPoints(new BackupClient(on(region))),
      secrets: new SecretsManagerClient(on(region)),
      dynamodb: new DynamoDBClient(on(region)),
      sqlFor: (target) => dataApiRunner(new RDSDataClient(on(region)), target),
      now: () => Date.now(),
      sleep,
      print,
    },
  );
  const document = restoreReportDocument(options, result, { ...run, endedAt: new Date() });
  await recordEvidence(document, { s3: new S3Client(on(region)) }, printer.out, printer.err);
  return result.ok ? 0 : 1;
}

/** The unplanned drill: a FIS fault in the primary, the automatic failover and failback watched, its report written. */
async function unplannedDrill(options: UnplannedOptions, print: (line: string) => void): Promise<number> {
  const run = await runRecordStart(options.secondaryRegion, options.account);
  const regions = [options.primaryRegion, options.secondaryRegion];
  const result = await runUnplannedDrill(options, run.account, {
    sfn: Object.fromEntries(regions.map((region) => [region, new SFNClient(on(region))])),
    ssm: Object.fromEntries(regions.map((region) => [region, new SSMClient({ ...on(region), maxAttempts: 3 })])),
    fis: new FisClient(on(options.primaryRegion)),
    documents: DynamoDBDocumentClient.from(new DynamoDBClient(on(options.secondaryRegion))),
    resolveCname: (name) => dns.resolveCname(name),
    now: () => Date.now(),
    sleep,
    print,
  });
  const document = unplannedReportDocument(options, result, { ...run, endedAt: new Date() });
  await recordEvidence(document, { s3: new S3Client(on(options.secondaryRegion)) }, printer.out, printer.err);
  if (!result.ok) {
    printer.err('unplanned drill failed:');
    for (const problem of result.problems) printer.err(`  - ${problem}`);
    return 1;
  }
  return 0;
}

/** The command: `--help`, the restore drill (`--restore`) or the planned drill. Exit codes: 0 passed, 1 failed, 2 bad arguments. */
export async function main(args: readonly string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    printer.out(`${USAGE}\n${RESTORE_USAGE}\n${UNPLANNED_USAGE}`);
    return 0;
  }
  const taken = takeRoleArn(args);
  if (taken.problem !== undefined) {
    printer.err(`drill: ${taken.problem}\n${USAGE}`);
    return 2;
  }
  const argv = taken.rest;
  const restore = argv.includes('--restore');
  const unplanned = argv.includes('--unplanned');
  let parsed: { kind: 'planned'; options: DrillOptions } | { kind: 'restore'; options: RestoreOptions } | { kind: 'unplanned'; options: UnplannedOptions };
  try {
    if (restore && unplanned) throw Object.assign(new Error(`--restore and --unplanned are two drills: give one\n${USAGE}`), { name: 'UsageError' });
    parsed = restore
      ? { kind: 'restore', options: parseRestoreArgs(argv.filter((each) => each !== '--restore')) }
      : unplanned
        ? { kind: 'unplanned', options: parseUnplannedArgs(argv.filter((each) => each !== '--unplanned')) }
        : { kind: 'planned', options: parseDrillArgs(argv) };
  } catch (error) {
    if ((error as Error).name === 'UsageError') {
      printer.err(`drill: ${(error as Error).message}`);
      return 2;
    }
    throw error;
  }
  if (taken.roleArn !== undefined) {
    const region =
      parsed.kind === 'restore' ? parsed.options.region : parsed.kind === 'unplanned' ? parsed.options.secondaryRegion : parsed.options.targetRegion;
    credentials = assumedRoleCredentials(taken.roleArn, `drill-${parsed.options.environmentSuffix}`, region);
  }
  const print = elapsedPrinter(printer.out, () => Date.now());
  if (parsed.kind === 'restore') return restoreDrill(parsed.options, print);
  if (parsed.kind === 'unplanned') return unplannedDrill(parsed.options, print);
  return plannedDrill(parsed.options, print);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      for (const line of failureLines(error, process.env.DRILL_DEBUG === '1')) printer.err(line);
      process.exitCode = 1;
    },
  );
}
