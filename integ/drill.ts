import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  HistoryEvent,
  paginateGetExecutionHistory,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { readControlState } from '../lambda/shared/control';
import { latestDatapoint } from '../lambda/shared/metrics';
import { withRetry } from '../lambda/shared/retry';
import { Naming, Purpose, regionCode } from '../lib/core/naming';
import {
  DrillTargets,
  DrillFigures,
  DrillReport,
  EMPTY_FIGURES,
  VALIDATE_STATE,
  validationOf,
  validationEnd,
  reconciledFromHistory,
  seconds,
  figureTable,
} from './drill-figures';

/**
 * The failover drill: runs the target region's failover state machine (`planned`) against a
 * deployed environment, waits for it, checks what it claims (control table, validation, the
 * metric it records) and compares the figures with the targets.
 *
 * What the figures measure (all from the execution's own clocks, never the drill's):
 * - `trafficSeconds`: execution start until `api.<domain>` first resolved to the target region's
 *   API target, as the drill's own DNS watch saw it (`options.dns`, every `pollMs` while the
 *   execution runs). Without the watch, or when it never saw the answer, the validation step's
 *   figure `validationStart + validation.dnsMs` stands in: an upper bound that includes the
 *   promotion and reconciliation before validation, so it rarely meets a 60 s target.
 * - `canaryAcceptedSeconds` / `canaryProcessedSeconds`: execution start until the canary order
 *   was accepted through the target region's API / read back from its Aurora writer.
 * - `validationStart` is the start of the validate Lambda's run, which the history does not
 *   record. It is taken as the timestamp of the successful `Validate: region serves` task
 *   (TaskSucceeded, else the state's exit) minus `validation.canaryProcessedMs`: the Lambda
 *   ends after its last check, so this is the latest moment validation can have started, and
 *   every figure above is an upper bound (too high by the Lambda's return latency, milliseconds)
 *   — the conservative side for a gate. DNS is measured by the Lambda's resolver in the target
 *   region, not by clients elsewhere (their resolvers may cache the old answer up to the TTL).
 * - `replicationLagMs`: `preflight.replicationLagMs`, the newest AuroraGlobalDBReplicationLag
 *   datapoint the preflight read; null (reported "unknown") when it had none.
 * - `ordersReconciled`: the sum of `reconcile.applied` over every pass of `Reconcile: replay
 *   journal` in the history; the final output's `reconcile.applied` when the history has none.
 * - `totalSeconds`: execution `startDate` to `stopDate`.
 * - `recordedFailoverSeconds`: the `FailoverDuration` datapoint the execution published.
 */

export interface DrillOptions {
  readonly appName: string;
  readonly environmentSuffix: string;
  /** The account of the deployment; read from STS (deps.callerAccount) when absent. */
  readonly account?: string;
  /** The region the active role moves to (its state machine runs). */
  readonly targetRegion: string;
  /** The region the active role moves away from. */
  readonly otherRegion: string;
  readonly mode: 'planned';
  readonly reason: string;
  readonly targets: DrillTargets;
  /** First pause between DescribeExecution calls; doubles up to 8 times this. */
  readonly pollMs: number;
  /** How long the execution may run before the drill gives up (it is not stopped). */
  readonly timeoutMs: number;
  /** How many times the FailoverDuration metric is looked for (it may arrive late). @default 5 */
  readonly metricAttempts?: number;
  /**
   * Watch DNS while the execution runs: `api.<domain>` and the target region's API target it must
   * resolve to. Without it the traffic figure is the validation step's upper bound (below).
   */
  readonly dns?: { readonly hostName: string; readonly targetName: string };
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE' | string;

export interface ExecutionDescription {
  readonly status: ExecutionStatus;
  readonly startDate: Date;
  readonly stopDate?: Date;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
}

/** The three Step Functions calls the drill makes, so tests can feed executions (see the test). */
export interface ExecutionApi {
  start(stateMachineArn: string, name: string, input: string): Promise<{ executionArn: string }>;
  describe(executionArn: string): Promise<ExecutionDescription>;
  history(executionArn: string): Promise<HistoryEvent[]>;
  /** The state the execution entered last, for progress lines (optional: the drill's figures do not use it). */
  currentState?(executionArn: string): Promise<string | undefined>;
}

/** How many of the newest history events are read to find the current state (one page, newest first). */
const CURRENT_STATE_EVENTS = 20;

/** The ExecutionApi over a real SFN client. */
export function sfnExecutionApi(client: SFNClient): ExecutionApi {
  return {
    start: async (stateMachineArn, name, input) => {
      const response = await client.send(new StartExecutionCommand({ stateMachineArn, name, input }));
      return { executionArn: response.executionArn! };
    },
    describe: async (executionArn) => {
      const response = await client.send(new DescribeExecutionCommand({ executionArn }));
      return {
        status: response.status ?? 'UNKNOWN',
        startDate: response.startDate!,
        stopDate: response.stopDate,
        output: response.output,
        error: response.error,
        cause: response.cause,
      };
    },
    history: async (executionArn) => {
      const events: HistoryEvent[] = [];
      for await (const page of paginateGetExecutionHistory({ client }, { executionArn, includeExecutionData: true })) {
        events.push(...(page.events ?? []));
      }
      return events;
    },
    currentState: async (executionArn) => {
      const page = await client.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: CURRENT_STATE_EVENTS }));
      return page.events?.find((event) => event.stateEnteredEventDetails?.name)?.stateEnteredEventDetails?.name;
    },
  };
}

export interface DrillDependencies {
  /** Step Functions in the target region. */
  readonly executions: ExecutionApi;
  readonly documents: DynamoDBDocumentClient;
  /** CloudWatch in the target region. */
  readonly cloudwatch: CloudWatchClient;
  /** The caller's account, when options.account is absent. */
  readonly callerAccount?: () => Promise<string>;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** One line of output for the operator. */
  readonly print: (line: string) => void;
  /** A CNAME lookup (the drill's own resolver), for `options.dns`. */
  readonly resolveCname?: (name: string) => Promise<string[]>;
}

/** The physical names the drill touches, from lib/core/naming.ts. */
export function drillNames(
  options: Pick<DrillOptions, 'appName' | 'environmentSuffix' | 'targetRegion'>,
  account: string,
): { stateMachineArn: string; controlTable: string; namespace: string } {
  const naming = Naming.forDeployment({ appName: options.appName, environmentSuffix: options.environmentSuffix, account }, options.targetRegion);
  const stateMachine = naming.name('stateMachine', Purpose.failover);
  return {
    stateMachineArn: `arn:aws:states:${options.targetRegion}:${account}:stateMachine:${stateMachine}`,
    controlTable: naming.name('table', Purpose.control),
    namespace: naming.metricNamespace(),
  };
}

async function readMetric(options: DrillOptions, deps: DrillDependencies, namespace: string, from: Date, to: Date): Promise<number | undefined> {
  const attempts = options.metricAttempts ?? 5;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const response = await withRetry(
      'read the FailoverDuration metric',
      () =>
        deps.cloudwatch.send(
          new GetMetricStatisticsCommand({
            Namespace: namespace,
            MetricName: 'FailoverDuration',
            Dimensions: [
              { Name: 'service', Value: Purpose.failoverSteps },
              { Name: 'Outcome', Value: 'succeeded' },
            ],
            StartTime: from,
            EndTime: to,
            Period: 60,
            Statistics: ['Maximum'],
          }),
        ),
      { attempts: 3, sleep: deps.sleep },
    );
    const latest = latestDatapoint(response.Datapoints);
    if (latest?.Maximum !== undefined) return latest.Maximum;
    if (attempt < attempts - 1) await deps.sleep(options.pollMs * 2);
  }
  return undefined;
}

/** The account to drill in: the option, else the caller's (STS GetCallerIdentity). A string that is not an account id is the problem. */
async function drillAccount(options: DrillOptions, deps: DrillDependencies): Promise<{ account: string } | { problem: string }> {
  if (options.account) return { account: options.account };
  if (!deps.callerAccount) return { problem: 'no account given and no way to read it (STS GetCallerIdentity)' };
  try {
    return { account: await deps.callerAccount() };
  } catch (error) {
    return { problem: `could not read the account from STS GetCallerIdentity: ${(error as Error).message}` };
  }
}

/**
 * Prints a line whenever the execution's status or current state changes while the drill polls.
 * The state comes from the newest history events; a failure to read it costs only the line.
 */
function progressReporter(executionArn: string, deps: DrillDependencies): (status: string) => Promise<void> {
  let last = '';
  return async (status) => {
    const state = status === 'RUNNING' && deps.executions.currentState ? await deps.executions.currentState(executionArn).catch(() => undefined) : undefined;
    const line = state ? `execution ${status}: state '${state}'` : `execution ${status}`;
    if (line !== last) deps.print(line);
    last = line;
  };
}

interface WatchedExecution {
  readonly description: ExecutionDescription;
  /** When DNS first answered with the target region (the drill's own watch), if it did. */
  readonly dnsAnsweredAt?: number;
  readonly watchStarted: number;
}

/**
 * Polls with backoff until the execution ends or the drill's timeout. While DNS is watched, the
 * pause stays at pollMs: the traffic figure is only as fine as the watch.
 */
async function watchExecution(executionArn: string, options: DrillOptions, deps: DrillDependencies): Promise<WatchedExecution | { problem: string }> {
  const deadline = deps.now() + options.timeoutMs;
  const watchStarted = deps.now();
  let delay = options.pollMs;
  let description: ExecutionDescription;
  let dnsAnsweredAt: number | undefined;
  const watchDns = async (): Promise<void> => {
    if (!options.dns || !deps.resolveCname || dnsAnsweredAt !== undefined) return;
    const target = options.dns.targetName.toLowerCase().replace(/\.$/, '');
    const names = await deps.resolveCname(options.dns.hostName).catch(() => [] as string[]);
    if (names.some((each) => each.toLowerCase().replace(/\.$/, '') === target)) {
      dnsAnsweredAt = deps.now();
      deps.print(`DNS: ${options.dns.hostName} answers ${options.dns.targetName}`);
    }
  };
  const progress = progressReporter(executionArn, deps);
  for (;;) {
    await watchDns();
    try {
      description = await withRetry('describe the execution', () => deps.executions.describe(executionArn), { attempts: 4, sleep: deps.sleep });
    } catch (error) {
      return { problem: (error as Error).message };
    }
    await progress(description.status);
    if (description.status !== 'RUNNING') break;
    if (deps.now() >= deadline) {
      return { problem: `execution ${executionArn} did not end within ${options.timeoutMs} ms (still RUNNING; it was not stopped)` };
    }
    await deps.sleep(Math.min(delay, Math.max(0, deadline - deps.now())));
    if (!options.dns || dnsAnsweredAt !== undefined) delay = Math.min(delay * 2, options.pollMs * 8);
  }
  await watchDns();
  return { description, dnsAnsweredAt, watchStarted };
}

/** The times to traffic and to the canary order, from the validation step's output and the history; what is unknown is a problem. */
function timingFigures(
  output: Record<string, unknown>,
  events: HistoryEvent[],
  watched: WatchedExecution,
  options: DrillOptions,
  problems: string[],
): Pick<DrillFigures, 'trafficSeconds' | 'canaryAcceptedSeconds' | 'canaryProcessedSeconds'> {
  const started = watched.description.startDate.getTime();
  const none = { trafficSeconds: null, canaryAcceptedSeconds: null, canaryProcessedSeconds: null };
  const validation = validationOf(output);
  if (typeof validation === 'string') {
    problems.push(`validation did not pass: ${validation}`);
    return none;
  }
  const end = validationEnd(events);
  if (end === undefined) {
    problems.push(`the history has no '${VALIDATE_STATE}' state: the times to DNS and to the first order are unknown`);
    return none;
  }
  const validationStart = end - validation.canaryProcessedMs;
  let trafficSeconds = seconds(validationStart + validation.dnsMs - started);
  if (watched.dnsAnsweredAt !== undefined) {
    // Seen by the drill's own watch: execution start (or the watch's, if later) to the first answer.
    trafficSeconds = seconds(watched.dnsAnsweredAt - Math.max(started, watched.watchStarted));
  } else if (options.dns) {
    problems.push(
      `${options.dns.hostName} never resolved to ${options.dns.targetName} while the drill watched; the traffic figure is the validation step's upper bound`,
    );
  }
  return {
    trafficSeconds,
    canaryAcceptedSeconds: seconds(validationStart + validation.canaryAcceptedMs - started),
    canaryProcessedSeconds: seconds(validationStart + validation.canaryProcessedMs - started),
  };
}

/** The control table must name the target region now (strongly consistent read). */
async function checkControlTable(names: ReturnType<typeof drillNames>, options: DrillOptions, deps: DrillDependencies, problems: string[]): Promise<void> {
  try {
    const control = await withRetry('read the control table', () => readControlState(deps.documents, names.controlTable, options.otherRegion), {
      attempts: 4,
      sleep: deps.sleep,
    });
    if (!control.recorded) problems.push(`control table ${names.controlTable} has no active-region item: the failover did not fence`);
    else if (control.activeRegion !== options.targetRegion) {
      problems.push(`control table ${names.controlTable} names ${control.activeRegion} as the active region, not ${options.targetRegion}`);
    }
  } catch (error) {
    problems.push(`control table ${names.controlTable} unreadable: ${(error as Error).message}`);
  }
}

/** The FailoverDuration datapoint the record step published (EMF can arrive a minute late). */
async function recordedDuration(
  names: ReturnType<typeof drillNames>,
  started: number,
  stopped: number | undefined,
  options: DrillOptions,
  deps: DrillDependencies,
  problems: string[],
): Promise<number | null> {
  try {
    const metric = await readMetric(options, deps, names.namespace, new Date(started - 60_000), new Date((stopped ?? deps.now()) + 15 * 60_000));
    if (metric !== undefined) return metric;
    problems.push(
      `metric FailoverDuration (namespace ${names.namespace}, service=${Purpose.failoverSteps}, Outcome=succeeded) has no datapoint after ${options.metricAttempts ?? 5} look(s): the record step did not publish it`,
    );
  } catch (error) {
    problems.push(`metric FailoverDuration unreadable: ${(error as Error).message}`);
  }
  return null;
}

/** The figures against the drill's targets. */
function checkTargets(figures: DrillFigures, options: DrillOptions, problems: string[]): void {
  if (figures.trafficSeconds !== null && figures.trafficSeconds > options.targets.trafficSeconds) {
    problems.push(
      `traffic figure ${figures.trafficSeconds} s (execution start -> DNS answers ${options.targetRegion}) exceeds the target trafficSeconds ${options.targets.trafficSeconds} s`,
    );
  }
  if (figures.totalSeconds === null) problems.push('total duration unknown: the execution has no stop date');
  else if (figures.totalSeconds > options.targets.totalSeconds) {
    problems.push(`total duration ${figures.totalSeconds} s exceeds the target totalSeconds ${options.targets.totalSeconds} s`);
  }
}

/** Runs the drill; never throws for a failed drill (the report says why), only for a programming error. */
export async function runDrill(options: DrillOptions, deps: DrillDependencies): Promise<DrillReport> {
  const problems: string[] = [];
  const fail = (executionArn: string, problem: string, figures: DrillFigures = EMPTY_FIGURES): DrillReport => {
    problems.push(problem);
    deps.print(`drill FAILED: ${problem}`);
    return { ok: false, executionArn, figures, problems };
  };

  const account = await drillAccount(options, deps);
  if ('problem' in account) return fail('', account.problem);
  const names = drillNames(options, account.account);
  const name = `drill-${regionCode(options.targetRegion)}-${new Date(deps.now()).toISOString().replace(/[:.]/g, '-')}`;
  deps.print(`drill: starting ${names.stateMachineArn} (${options.mode}: ${options.reason}) as ${name}`);
  let executionArn: string;
  try {
    ({ executionArn } = await deps.executions.start(names.stateMachineArn, name, JSON.stringify({ mode: options.mode, reason: options.reason })));
  } catch (error) {
    return fail('', `could not start ${names.stateMachineArn}: ${(error as Error).message}`);
  }
  deps.print(`execution started: ${executionArn}`);

  const watched = await watchExecution(executionArn, options, deps);
  if ('problem' in watched) return fail(executionArn, watched.problem);
  const { description } = watched;
  // FAILED, TIMED_OUT, ABORTED (or anything else that is not success).
  if (description.status !== 'SUCCEEDED') {
    return fail(executionArn, `execution ${executionArn} ended ${description.status}: ${description.error ?? 'no error'}: ${description.cause ?? 'no cause'}`);
  }
  let output: Record<string, unknown>;
  try {
    output = JSON.parse(description.output ?? '') as Record<string, unknown>;
  } catch {
    return fail(executionArn, `execution ${executionArn} succeeded but its output is not JSON (${(description.output ?? 'none').slice(0, 200)})`);
  }
  const events = await withRetry('read the execution history', () => deps.executions.history(executionArn), { attempts: 4, sleep: deps.sleep }).catch(
    (error: Error) => {
      problems.push(`execution history unreadable: ${error.message}`);
      return [] as HistoryEvent[];
    },
  );

  const started = description.startDate.getTime();
  const stopped = description.stopDate?.getTime();
  const preflight = output.preflight as { replicationLagMs?: unknown } | undefined;
  const reconcile = output.reconcile as { applied?: unknown } | undefined;
  const timings = timingFigures(output, events, watched, options, problems);
  await checkControlTable(names, options, deps, problems);
  const figures: DrillFigures = {
    ...timings,
    replicationLagMs: typeof preflight?.replicationLagMs === 'number' ? preflight.replicationLagMs : null,
    ordersReconciled: reconciledFromHistory(events) ?? (typeof reconcile?.applied === 'number' ? reconcile.applied : null),
    totalSeconds: stopped === undefined ? null : seconds(stopped - started),
    recordedFailoverSeconds: await recordedDuration(names, started, stopped, options, deps, problems),
  };
  checkTargets(figures, options, problems);

  for (const line of figureTable(figures, options.targets)) deps.print(line);
  const ok = problems.length === 0;
  deps.print(ok ? `drill passed: ${executionArn}` : `drill FAILED (${problems.length} problem(s)):`);
  for (const problem of problems) deps.print(`  - ${problem}`);
  return { ok, executionArn, figures, problems };
}
