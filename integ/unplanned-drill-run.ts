import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { FisClient, StartExperimentCommand, StopExperimentCommand } from '@aws-sdk/client-fis';
import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DRILL_FORCED_FAILOVER } from '../lambda/contracts/failover-steps';
import { readControlState } from '../lambda/shared/control';
import { withRetry } from '../lambda/shared/retry';
import { parseConfig } from '../lib/core/config';
import { Naming, ParameterKey, Purpose } from '../lib/core/naming';
import {
  ObservedRun,
  PromotionKind,
  promotionForRun,
  UnplannedDrill,
  UnplannedResult,
  UnplannedTargets,
  unplannedFigureTable,
  unplannedTargets,
} from './unplanned-drill';

export { unplannedTargets };

/**
 * The unplanned drill against a deployed test environment (`npm run drill -- --unplanned ...`):
 * sets the drill's switch in the secondary, starts the FIS experiment in the primary, and feeds
 * the monitor (integ/unplanned-drill.ts) what it reads every poll: `api.<domain>`'s answer, both
 * state machines' executions since the drill began, and the control table. It stops the
 * experiment and clears the switch however the drill ends.
 */

export const UNPLANNED_USAGE = [
  'usage: npm run drill -- --unplanned --env <suffix> --api-host <api.domain> [--app <name>] [--account <12 digits>]',
  '         [--promotion switchover|failover] [--build-number <n>] [--<figure>-target-seconds <n> ...]',
  "  Injects Lambda errors into the primary's health and intake functions (the FIS experiment template the test",
  '  environment deploys with faultInjectionDrills=true) and watches detection, the prober, the failover, DNS and the',
  "  failback happen by themselves. --promotion defaults to alternating by --build-number (CodeBuild's build number):",
  '  odd builds force the failover that allows data loss, even ones expect a switchover.',
  '  Targets (seconds): --traffic-target-seconds, --detection-target-seconds, --orders-target-seconds,',
  '  --run-target-seconds, --failback-target-seconds (defaults from the app config).',
].join('\n');

export interface UnplannedOptions {
  readonly appName: string;
  readonly environmentSuffix: string;
  readonly account?: string;
  readonly primaryRegion: string;
  readonly secondaryRegion: string;
  readonly apiHost: string;
  readonly expectedPromotion: PromotionKind;
  readonly targets: UnplannedTargets;
  readonly pollMs: number;
}

const TARGET_FLAGS: Record<string, keyof UnplannedTargets> = {
  '--traffic-target-seconds': 'trafficSeconds',
  '--detection-target-seconds': 'detectionSeconds',
  '--orders-target-seconds': 'ordersAcceptedSeconds',
  '--run-target-seconds': 'failoverRunSeconds',
  '--failback-target-seconds': 'failbackSeconds',
};
const FLAGS = ['--env', '--api-host', '--app', '--account', '--promotion', '--build-number', ...Object.keys(TARGET_FLAGS)];
/** Between two observations: fine enough for figures compared with targets of tens of seconds. */
const POLL_MS = 5000;

export class UnplannedUsageError extends Error {
  constructor(message: string) {
    super(`${message}\n${UNPLANNED_USAGE}`);
    this.name = 'UsageError';
  }
}

/** Parses `--unplanned`'s arguments (without `--unplanned`). */
export function parseUnplannedArgs(argv: readonly string[], env: Record<string, string | undefined> = process.env): UnplannedOptions {
  const values = new Map<string, string>();
  for (let index = 0; index < argv.length; index += 2) {
    const [flag, value] = [argv[index], argv[index + 1]];
    if (!FLAGS.includes(flag)) throw new UnplannedUsageError(`unknown argument '${flag}'`);
    if (value === undefined || value.startsWith('--')) throw new UnplannedUsageError(`${flag} needs a value`);
    values.set(flag, value);
  }
  const environmentSuffix = values.get('--env');
  const apiHost = values.get('--api-host');
  if (!environmentSuffix || !/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$/.test(environmentSuffix)) throw new UnplannedUsageError('--env <suffix> is required');
  if (!apiHost || !/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(apiHost))
    throw new UnplannedUsageError('--api-host <api.domain> is required');
  const account = values.get('--account');
  if (account !== undefined && !/^\d{12}$/.test(account)) throw new UnplannedUsageError(`--account must be 12 digits, not '${account}'`);
  const whole = (flag: string, text: string): number => {
    if (!/^\d+$/.test(text)) throw new UnplannedUsageError(`${flag} must be a whole number, not '${text}'`);
    return Number(text);
  };
  const promotion = values.get('--promotion');
  if (promotion !== undefined && promotion !== 'switchover' && promotion !== 'failover')
    throw new UnplannedUsageError('--promotion must be switchover or failover');
  const buildNumber = whole('--build-number', values.get('--build-number') ?? env.CODEBUILD_BUILD_NUMBER ?? '0');
  const config = parseConfig({});
  const targets = { ...unplannedTargets(config) };
  for (const [flag, key] of Object.entries(TARGET_FLAGS)) if (values.has(flag)) targets[key] = whole(flag, values.get(flag)!);
  return {
    appName: values.get('--app') ?? config.appName,
    environmentSuffix,
    account,
    primaryRegion: config.primaryRegion,
    secondaryRegion: config.secondaryRegion,
    apiHost,
    expectedPromotion: (promotion as PromotionKind | undefined) ?? promotionForRun(buildNumber),
    targets,
    pollMs: POLL_MS,
  };
}

export interface UnplannedClients {
  readonly sfn: Record<string, SFNClient>;
  readonly ssm: Record<string, SSMClient>;
  /** FIS in the primary region, where the experiment runs. */
  readonly fis: FisClient;
  /** DynamoDB in the secondary (the control table). */
  readonly documents: DynamoDBDocumentClient;
  readonly resolveCname: (name: string) => Promise<string[]>;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly print: (line: string) => void;
}

export interface UnplannedRun extends UnplannedResult {
  readonly experimentId: string | null;
}

/** Runs the unplanned drill; the experiment is stopped and the switch cleared however it ends. */
export async function runUnplannedDrill(options: UnplannedOptions, account: string, clients: UnplannedClients): Promise<UnplannedRun> {
  const regions = [options.primaryRegion, options.secondaryRegion];
  const naming = (region: string) => Naming.forDeployment({ appName: options.appName, environmentSuffix: options.environmentSuffix, account }, region);
  const read = async (region: string, key: string) =>
    (await withRetry(`read ${key} in ${region}`, () => clients.ssm[region].send(new GetParameterCommand({ Name: key })))).Parameter?.Value ?? '';
  const switchName = naming(options.secondaryRegion).parameterName(ParameterKey.drillForcedPromotion);
  const templateId = await read(options.primaryRegion, naming(options.primaryRegion).parameterName(ParameterKey.faultInjectionTemplateId));
  const targetsByRegion = new Map<string, string>();
  for (const region of regions)
    targetsByRegion.set((await read(region, naming(region).parameterName(ParameterKey.apiRegionalDomainName))).toLowerCase(), region);
  const stateMachines = Object.fromEntries(
    regions.map((region) => [region, `arn:aws:states:${region}:${account}:stateMachine:${naming(region).name('stateMachine', Purpose.failover)}`]),
  );
  const controlTable = naming(options.secondaryRegion).name('table', Purpose.control);
  const monitor = new UnplannedDrill(
    { primaryRegion: options.primaryRegion, secondaryRegion: options.secondaryRegion, expectedPromotion: options.expectedPromotion, targets: options.targets },
    clients.print,
  );
  const began = clients.now();
  const finished = new Map<string, ObservedRun>();
  let experimentId: string | null = null;
  clients.print(`drill: unplanned, expecting a ${options.expectedPromotion}; FIS template ${templateId}`);
  await clients.ssm[options.secondaryRegion].send(
    new PutParameterCommand({
      Name: switchName,
      Value: options.expectedPromotion === 'failover' ? DRILL_FORCED_FAILOVER : 'off',
      Type: 'String',
      Overwrite: true,
    }),
  );
  try {
    while (!monitor.done) {
      const observation = {
        at: clients.now(),
        dnsRegion: await dnsRegion(options.apiHost, targetsByRegion, clients),
        activeRegion: (
          await withRetry(`read the control item of ${controlTable}`, () => readControlState(clients.documents, controlTable, options.primaryRegion))
        ).activeRegion,
        runs: await observeRuns(stateMachines, began, finished, clients),
      };
      for (const action of monitor.observe(observation)) {
        if (action.kind === 'start-fault') {
          // The client token makes a repeated start the same experiment.
          const started = await withRetry(`start FIS experiment from ${templateId}`, () =>
            clients.fis.send(new StartExperimentCommand({ experimentTemplateId: templateId, clientToken: `drill-${began}` })),
          );
          experimentId = started.experiment?.id ?? null;
        } else if (experimentId) {
          await stopExperiment(clients.fis, experimentId);
        }
      }
      if (!monitor.done) await clients.sleep(options.pollMs);
    }
  } finally {
    if (experimentId && monitor.current !== 'done') await stopExperiment(clients.fis, experimentId).catch(() => undefined);
    await clients.ssm[options.secondaryRegion].send(new DeleteParameterCommand({ Name: switchName })).catch(() => undefined);
  }
  const result = monitor.result();
  for (const line of unplannedFigureTable(result.figures, options.targets)) clients.print(line);
  return { ...result, experimentId };
}

async function stopExperiment(fis: FisClient, id: string): Promise<void> {
  await withRetry(`stop FIS experiment ${id}`, () => fis.send(new StopExperimentCommand({ id })));
}

/** Which region `api.<domain>` answers with now, by the regional targets the stages published. */
async function dnsRegion(apiHost: string, targets: Map<string, string>, clients: UnplannedClients): Promise<string | undefined> {
  const names = await clients.resolveCname(apiHost).catch(() => [] as string[]);
  for (const name of names) {
    const region = targets.get(name.toLowerCase().replace(/\.$/, ''));
    if (region) return region;
  }
  return undefined;
}

/** Both state machines' executions since the drill began; a finished one is described once. */
async function observeRuns(
  stateMachines: Record<string, string>,
  began: number,
  finished: Map<string, ObservedRun>,
  clients: UnplannedClients,
): Promise<ObservedRun[]> {
  const runs: ObservedRun[] = [];
  for (const [region, stateMachineArn] of Object.entries(stateMachines)) {
    const listed = await withRetry(`list executions of ${stateMachineArn}`, () =>
      clients.sfn[region].send(new ListExecutionsCommand({ stateMachineArn, maxResults: 20 })),
    );
    for (const execution of listed.executions ?? []) {
      if (!execution.executionArn || !execution.startDate || execution.startDate.getTime() < began) continue;
      const known = finished.get(execution.executionArn);
      if (known) {
        runs.push(known);
        continue;
      }
      const described = await withRetry(`describe ${execution.executionArn}`, () =>
        clients.sfn[region].send(new DescribeExecutionCommand({ executionArn: execution.executionArn })),
      );
      const input = JSON.parse(described.input ?? '{}') as { mode?: string };
      const output = JSON.parse(described.output ?? '{}') as { preflight?: { promotion?: { kind?: string } }; validation?: unknown };
      const run: ObservedRun = {
        region,
        executionArn: execution.executionArn,
        mode: input.mode ?? 'unknown',
        status: described.status ?? 'UNKNOWN',
        startedAt: execution.startDate.getTime(),
        stoppedAt: described.stopDate?.getTime(),
        promotion: output.preflight?.promotion?.kind,
        // An upper bound: the canary was accepted before the run that validated with it stopped.
        canaryAcceptedAt: output.validation ? described.stopDate?.getTime() : undefined,
        ...(described.error === undefined ? {} : { error: [described.error, described.cause].filter(Boolean).join(': ').slice(0, 300) }),
      };
      if (run.status !== 'RUNNING') finished.set(run.executionArn, run);
      runs.push(run);
    }
  }
  return runs;
}
