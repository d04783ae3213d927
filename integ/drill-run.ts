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
import { DrillOptions, runDrill, sfnExecutionApi } from './drill';

/**
 * `npm run drill -- --env <suffix> [--target us-east-2] [--reason "..."] [--app trading-dr]
 *   [--account 123456789012] [--traffic-target-seconds N] [--total-target-seconds N]`
 *
 * Runs a planned failover drill against a deployed environment (integ/drill.ts). Exit codes:
 * 0 the drill passed, 1 it failed (every problem printed), 2 bad arguments.
 */

export const USAGE =
  'usage: npm run drill -- --env <suffix> [--target <region>] [--reason <text>] [--app <name>] [--account <12 digits>] ' +
  '[--traffic-target-seconds <n>] [--total-target-seconds <n>] [--timeout-seconds <n>] [--api-host <api.domain>]';

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

/** The account the credentials belong to (the state machine's ARN needs it). */
async function callerAccount(region: string): Promise<string> {
  const identity = await withRetry('read the caller identity', () => new STSClient({ region, maxAttempts: 3 }).send(new GetCallerIdentityCommand({})), {
    attempts: 2,
  });
  if (!identity.Account) throw new Error('STS returned no account');
  return identity.Account;
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

export async function main(argv: readonly string[]): Promise<number> {
  let options: DrillOptions;
  try {
    options = parseDrillArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      printer.err(error.message);
      return 2;
    }
    throw error;
  }
  if (options.dns) {
    // The target region's API target, as its stage published it: what api.<domain> must resolve to.
    // Parameter names do not contain the account.
    const naming = Naming.forDeployment(
      { appName: options.appName, environmentSuffix: options.environmentSuffix, account: options.account ?? '000000000000' },
      options.targetRegion,
    );
    const parameter = naming.parameterName(ParameterKey.apiRegionalDomainName);
    const ssm = new SSMClient({ region: options.targetRegion, maxAttempts: 3 });
    const targetName = (await ssm.send(new GetParameterCommand({ Name: parameter }))).Parameter?.Value;
    if (!targetName) {
      printer.err(`${parameter} in ${options.targetRegion} has no value: is the environment deployed?`);
      return 1;
    }
    options = { ...options, dns: { hostName: options.dns.hostName, targetName } };
  }
  const sfn = new SFNClient({ region: options.targetRegion });
  const report = await runDrill(options, {
    executions: sfnExecutionApi(sfn),
    documents: DynamoDBDocumentClient.from(new DynamoDBClient({ region: options.targetRegion })),
    cloudwatch: new CloudWatchClient({ region: options.targetRegion }),
    callerAccount: () => callerAccount(options.targetRegion),
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    print: printer.out,
    resolveCname: (name) => dns.resolveCname(name),
  });
  if (!report.ok) {
    printer.err(`drill failed (${report.executionArn || 'no execution'}):`);
    for (const problem of report.problems) printer.err(`  - ${problem}`);
    return 1;
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: Error) => {
      printer.err(`drill crashed: ${error.stack ?? error.message}`);
      process.exitCode = 1;
    },
  );
}
