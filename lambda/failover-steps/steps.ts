import { GetMetricStatisticsCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import { readControlState } from '../shared/control';
import { checksPassed, DEPENDENCY_CHECKS, HealthProbe, HttpGet, healthUrlOf, probeHealth } from '../shared/health-probe';
import { latestDatapoint } from '../shared/metrics';
import { withRetry } from '../shared/retry';
import { rolesFor, secondaryRegionOf } from '../shared/roles';
import { setSwitch, SwitchClients, switchRefOf } from '../shared/switches';
import { SwitchPosition } from '../contracts/switches';
import { planPromotion, PromotionDependencies, requestPromotion } from './promotion';
import { stepOf } from '../contracts/failover-states';
import { type PreflightResult, type StepRequest, StepRequestSchema } from '../contracts/failover-steps';

export type { PreflightResult };

export interface StepSettings {
  /** The region this orchestrator moves the active role to. */
  readonly region: string;
  readonly peerRegion: string;
  readonly primaryRegion: string;
  readonly controlTable: string;
  /** This region's API stage URL (ends with `/`). */
  readonly ownApiUrl: string;
  /** `api.<zone>`: the name clients resolve. */
  readonly apiHostName: string;
  /** This region's API Gateway domain target: what `api.<zone>` must resolve to once traffic is here. */
  readonly ownApiTarget: string;
  /** This region's Aurora cluster (its replication lag is read). */
  readonly dbClusterId: string;
  /** The CloudWatch namespace of the deployment's metrics. */
  readonly metricNamespace: string;
  /** The evacuation switches' metric name and their parameter's name (the same in both regions). */
  readonly switchMetricName: string;
  readonly switchParameterName: string;
  /** Ask a person before a failover that allows data loss. */
  readonly requireDataLossApproval: boolean;
  /** How long a failover's lock lasts, in seconds. */
  readonly lockSeconds: number;
  /** How long validation may take, in milliseconds. */
  readonly validationTimeoutMs: number;
  /** Time one HTTP request may take, in milliseconds. */
  readonly httpTimeoutMs: number;
  /** Pause between validation attempts, in milliseconds. */
  readonly pollMs: number;
}

export interface SignedRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly body?: string;
}

export interface StepDependencies extends StepSettings, Omit<PromotionDependencies, 'region' | 'peerRegion' | 'logger'> {
  readonly documents: DynamoDBDocumentClient;
  /** CloudWatch in this region. */
  readonly cloudwatch: CloudWatchClient;
  /** SSM and CloudWatch in this region (it hosts the peer's evacuation switch). */
  readonly localSwitch: SwitchClients;
  /** SSM and CloudWatch in the peer region, with cross-region timeouts (it hosts this region's switch). */
  readonly peerSwitch: SwitchClients;
  /** The peer region's API stage URL, read from its parameters at run time (the peer may be down). */
  readonly peerApiUrl: () => Promise<string>;
  readonly get: HttpGet;
  /** A SigV4-signed request to this region's API (the order routes use IAM authorization). */
  readonly signed: (request: SignedRequest) => Promise<{ status: number; body: string }>;
  readonly resolveCname: (name: string) => Promise<string[]>;
  /** The execution's history, for step durations. */
  readonly history: (executionArn: string) => Promise<HistoryEvent[]>;
  /** Records the failover's figures (EMF metrics in the handler). */
  readonly emit: (figures: FailoverFigures) => void;
  readonly logger: Logger;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /**
   * Whether the unplanned drill's switch asks for a failover allowing data loss (the test
   * environment only; absent elsewhere). A drill uses it to exercise the data-losing path when a
   * switchover would be possible.
   */
  readonly forcedFailover?: () => Promise<boolean>;
}

async function replicationLagMs(deps: StepDependencies): Promise<number | null> {
  const end = new Date(deps.now());
  const response = await withRetry(
    'read Aurora replication lag',
    () =>
      deps.cloudwatch.send(
        new GetMetricStatisticsCommand({
          Namespace: 'AWS/RDS',
          MetricName: 'AuroraGlobalDBReplicationLag',
          Dimensions: [{ Name: 'DBClusterIdentifier', Value: deps.dbClusterId }],
          StartTime: new Date(end.getTime() - 5 * 60_000),
          EndTime: end,
          Period: 60,
          Statistics: ['Maximum'],
        }),
      ),
    { attempts: 3 },
  );
  return latestDatapoint(response.Datapoints)?.Maximum ?? null;
}

/** The drill's switch; unreadable means not forced (the drill then sees a switchover and fails on it). */
async function readDrillSwitch(deps: StepDependencies): Promise<boolean> {
  try {
    return await deps.forcedFailover!();
  } catch (error) {
    deps.logger.warn('drill switch unreadable; not forcing a failover', { error: (error as Error).message });
    return false;
  }
}

/**
 * Step 1: can this region take over? Its own /health must answer with the database and journal
 * checks passing (the control check may fail: a drained region is what failback brings back). A
 * planned failover also needs the other region to answer, because the switchover runs there too.
 * Reads the control state the fence will compare against and the replication lag for the record.
 */
export async function preflight(request: Extract<StepRequest, { action: 'preflight' }>, deps: StepDependencies): Promise<PreflightResult> {
  const { mode, reason } = request.input;
  const forced = mode === 'unplanned' && deps.forcedFailover !== undefined && (await readDrillSwitch(deps));
  const allowDataLoss = forced || (mode === 'unplanned' && request.input.allowDataLoss !== false);
  // Everything at once: a silent peer costs one cross-region timeout, not the sum of them.
  const [own, peer, control, lagMs, promotion] = await Promise.all([
    probeHealth(healthUrlOf(deps.ownApiUrl), deps.httpTimeoutMs, deps.get),
    deps
      .peerApiUrl()
      .then((url) => probeHealth(healthUrlOf(url), deps.httpTimeoutMs, deps.get))
      .catch((error: Error): HealthProbe => ({ answered: false, checks: [], detail: `peer API URL unreadable: ${error.message}`, ms: 0 })),
    withRetry('read control state', () => readControlState(deps.documents, deps.controlTable, deps.primaryRegion), { attempts: 4 }),
    replicationLagMs(deps).catch((error: Error) => {
      deps.logger.warn('replication lag unreadable; recorded as unknown', { error: error.message });
      return null;
    }),
    planPromotion({ ...deps, logger: deps.logger }, allowDataLoss, forced),
  ]);
  const secondaryRegion = secondaryRegionOf(deps);
  const roles = rolesFor(deps.region, deps.primaryRegion, secondaryRegion);
  const rollbackRoles = rolesFor(control.activeRegion, deps.primaryRegion, secondaryRegion);
  const asList = (regions: readonly string[]) => ({ drainedRegions: regions, drainedList: regions.map((region) => ({ S: region })) });

  const problems: string[] = [];
  if (!own.answered) problems.push(`this region's API does not answer: ${own.detail}`);
  else if (!checksPassed(own, DEPENDENCY_CHECKS)) problems.push(`this region cannot serve: ${own.detail}`);
  if (mode === 'planned' && !peer.answered) {
    problems.push(
      `a planned failover needs ${deps.peerRegion} to answer for the switchover, and it does not (${peer.detail}); start an unplanned failover instead`,
    );
  }
  if (promotion.kind === undefined) {
    problems.push(
      `cannot promote ${deps.region}: ${promotion.detail}${mode === 'planned' ? '; wait until the global cluster is in sync, or start an unplanned failover' : ''}`,
    );
  }
  const alreadyActive = control.activeRegion === deps.region && !control.drainedRegions.includes(deps.region) && promotion.kind === 'none';
  const nowEpochSeconds = Math.floor(deps.now() / 1000);
  const result: PreflightResult = {
    ready: problems.length === 0,
    alreadyActive,
    allowDataLoss,
    promotion: { kind: promotion.kind ?? 'impossible', detail: promotion.detail, writerRegion: promotion.writerRegion ?? null },
    approvalRequired: promotion.kind === 'failover' && deps.requireDataLossApproval,
    roles: asList(roles.drainedRegions),
    rollbackRoles: asList(rollbackRoles.drainedRegions),
    problems,
    own,
    peer,
    peerAnswers: peer.answered,
    replicationLagMs: lagMs,
    control: {
      activeRegion: control.activeRegion,
      fencingEpoch: control.fencingEpoch,
      fencingEpochText: String(control.fencingEpoch),
      nextEpochText: String(control.fencingEpoch + 1),
      // A rollback moves the epoch on again, so processors fenced by this run stay fenced out of it.
      restoreEpochText: String(control.fencingEpoch + 2),
    },
    lock: { nowText: String(nowEpochSeconds), expiresAtText: String(nowEpochSeconds + deps.lockSeconds) },
  };
  deps.logger.info('preflight', { mode, reason, ...result });
  return result;
}

export interface SwitchOutcome {
  readonly evacuatedRegion: string;
  readonly hostRegion: string;
  readonly position: SwitchPosition;
  /** False when the host region could not be reached (only ever the peer region). */
  readonly set: boolean;
  readonly error?: string;
}

/**
 * Puts both evacuation switches where the roles for `activeRegion` want them (see
 * lambda/shared/roles.ts). The switch this region hosts must be set, so a failure throws (the
 * state machine retries); the one in the peer region is set when the peer answers and reported
 * otherwise: an unplanned failover cannot wait for a dead region, and the prober puts it right
 * once the peer answers again.
 */
export async function setSwitches(request: Extract<StepRequest, { action: 'setSwitches' }>, deps: StepDependencies): Promise<{ switches: SwitchOutcome[] }> {
  const secondaryRegion = secondaryRegionOf(deps);
  const plan = rolesFor(request.activeRegion, deps.primaryRegion, secondaryRegion);
  const hostedHere = switchRefOf(deps, deps.peerRegion);
  await setSwitch(deps.localSwitch, hostedHere, plan.switches[deps.peerRegion]);
  const outcomes: SwitchOutcome[] = [{ evacuatedRegion: deps.peerRegion, hostRegion: deps.region, position: plan.switches[deps.peerRegion], set: true }];
  const hostedThere = switchRefOf(deps, deps.region);
  try {
    await setSwitch(deps.peerSwitch, hostedThere, plan.switches[deps.region]);
    outcomes.push({ evacuatedRegion: deps.region, hostRegion: deps.peerRegion, position: plan.switches[deps.region], set: true });
  } catch (error) {
    deps.logger.warn('evacuation switch in the peer region not set', { region: deps.region, hostRegion: deps.peerRegion, error: (error as Error).message });
    outcomes.push({
      evacuatedRegion: deps.region,
      hostRegion: deps.peerRegion,
      position: plan.switches[deps.region],
      set: false,
      error: (error as Error).message,
    });
  }
  deps.logger.info('evacuation switches set', { activeRegion: request.activeRegion, outcomes });
  return { switches: outcomes };
}

export interface ValidationResult {
  /** Milliseconds from the start of validation until each check first passed. */
  readonly healthMs: number;
  readonly dnsMs: number;
  readonly canaryAcceptedMs: number;
  readonly canaryProcessedMs: number;
  readonly canaryOrderId: string;
}

/** Thrown when a validation check does not pass in time; names the check and the last answer. */
export class ValidationFailedError extends Error {
  constructor(check: string, lastAnswer: string, timeoutMs: number) {
    super(`validation failed: ${check} did not pass within ${timeoutMs} ms (last answer: ${lastAnswer})`);
    this.name = 'ValidationFailedError';
  }
}

/** Retries `attempt` until it passes or the deadline; returns the milliseconds since `started` (the start of validation). */
async function until(
  check: string,
  deps: StepDependencies,
  started: number,
  deadline: number,
  attempt: () => Promise<{ ok: boolean; answer: string }>,
): Promise<number> {
  let last = 'not tried';
  while (deps.now() < deadline) {
    try {
      const outcome = await attempt();
      if (outcome.ok) return deps.now() - started;
      last = outcome.answer;
    } catch (error) {
      last = (error as Error).message;
    }
    await deps.sleep(deps.pollMs);
  }
  throw new ValidationFailedError(check, last, deps.validationTimeoutMs);
}

/** The account of canary orders, which downstream systems ignore. */
export const CANARY_ACCOUNT_ID = 'dr-canary';

/** The canary's order: a market order on a symbol and account that downstream systems ignore. */
export function canaryOrder(clientOrderId: string): Record<string, string> {
  return { clientOrderId, accountId: CANARY_ACCOUNT_ID, symbol: 'CANARY', side: 'buy', orderType: 'market', quantity: '1' };
}

/**
 * Step 5: this region serves. Its /health answers 200; `api.<zone>` resolves to its target; a
 * canary order is accepted through the API and then read back from Aurora (processed). Each check
 * is retried until the validation timeout; the first that never passes fails the step.
 */
export async function validate(request: Extract<StepRequest, { action: 'validate' }>, deps: StepDependencies): Promise<ValidationResult> {
  const started = deps.now();
  const deadline = started + deps.validationTimeoutMs;
  const healthMs = await until(`GET ${healthUrlOf(deps.ownApiUrl)} answers 200`, deps, started, deadline, async () => {
    const probe = await probeHealth(healthUrlOf(deps.ownApiUrl), deps.httpTimeoutMs, deps.get);
    return { ok: probe.status === 200, answer: probe.detail };
  });
  const target = deps.ownApiTarget.toLowerCase().replace(/\.$/, '');
  const dnsMs = await until(`${deps.apiHostName} resolves to ${target}`, deps, started, deadline, async () => {
    const names = (await deps.resolveCname(deps.apiHostName)).map((name) => name.toLowerCase().replace(/\.$/, ''));
    return { ok: names.includes(target), answer: names.join(', ') || 'no CNAME' };
  });
  const ordersUrl = new URL('orders', deps.ownApiUrl).toString();
  const canaryAcceptedMs = await until(`canary order ${request.canaryOrderId} is accepted`, deps, started, deadline, async () => {
    const response = await deps.signed({ method: 'POST', url: ordersUrl, body: JSON.stringify(canaryOrder(request.canaryOrderId)) });
    return { ok: response.status === 200 || response.status === 201, answer: `HTTP ${response.status} ${response.body.slice(0, 200)}` };
  });
  const orderUrl = new URL(`orders/${encodeURIComponent(request.canaryOrderId)}?accountId=${CANARY_ACCOUNT_ID}`, deps.ownApiUrl).toString();
  const canaryProcessedMs = await until(`canary order ${request.canaryOrderId} is processed into Aurora`, deps, started, deadline, async () => {
    const response = await deps.signed({ method: 'GET', url: orderUrl });
    const source = response.status === 200 ? (JSON.parse(response.body) as { source?: string }).source : undefined;
    return { ok: source === 'database', answer: `HTTP ${response.status} ${response.body.slice(0, 200)}` };
  });
  const result = { healthMs, dnsMs, canaryAcceptedMs, canaryProcessedMs, canaryOrderId: request.canaryOrderId };
  deps.logger.info('validation passed', { ...result });
  return result;
}

export interface FailoverFigures {
  readonly outcome: 'succeeded' | 'failed';
  readonly mode: string;
  readonly totalSeconds: number;
  /** Seconds per step (the part of each state name before ':'). */
  readonly stepSeconds: Record<string, number>;
}

/**
 * Each step's duration from the execution's history: states are named `<Step>: <what>`, and a
 * step lasts from the first of its states entered to the last exited.
 */
export function stepDurations(events: readonly HistoryEvent[]): Record<string, number> {
  const spans = new Map<string, { start: number; end: number }>();
  for (const event of events) {
    const name = event.stateEnteredEventDetails?.name ?? event.stateExitedEventDetails?.name;
    if (!name || !event.timestamp) continue;
    const step = stepOf(name);
    const at = event.timestamp.getTime();
    const span = spans.get(step) ?? { start: at, end: at };
    span.start = Math.min(span.start, at);
    span.end = Math.max(span.end, at);
    spans.set(step, span);
  }
  return Object.fromEntries([...spans].map(([step, span]) => [step, (span.end - span.start) / 1000]));
}

/** Step 6: the failover's duration and each step's, as metrics. */
export async function record(request: Extract<StepRequest, { action: 'record' }>, deps: StepDependencies): Promise<FailoverFigures> {
  const events = await withRetry('read the execution history', () => deps.history(request.executionArn), { attempts: 4 });
  const figures: FailoverFigures = {
    outcome: request.outcome,
    mode: request.mode,
    totalSeconds: (deps.now() - Date.parse(request.startedAt)) / 1000,
    stepSeconds: stepDurations(events),
  };
  deps.emit(figures);
  deps.logger.info('failover recorded', { ...figures });
  return figures;
}

/** Dispatches a validated request to its step. */
export async function runStep(event: unknown, deps: StepDependencies): Promise<unknown> {
  const parsed = StepRequestSchema.safeParse(event);
  if (!parsed.success) {
    throw new Error(
      `invalid failover step request: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(request)'}: ${issue.message}`).join('; ')}`,
    );
  }
  const request = parsed.data;
  switch (request.action) {
    case 'preflight':
      return preflight(request, deps);
    case 'promote':
      return requestPromotion({ ...deps, logger: deps.logger }, request.kind);
    case 'setSwitches':
      return setSwitches(request, deps);
    case 'validate':
      return validate(request, deps);
    case 'record':
      return record(request, deps);
  }
}
