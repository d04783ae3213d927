import { randomBytes } from 'crypto';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import { ControlState, readControlState } from '../shared/control';
import { checksPassed, DEPENDENCY_CHECKS, HealthProbe, healthUrlOf, HttpGet, probeHealth } from '../shared/health-probe';
import { withRetry } from '../shared/retry';
import { roleGaps, rolesFor, secondaryRegionOf } from '../shared/roles';
import { readSwitch, setSwitch, SwitchClients, switchRefOf } from '../shared/switches';
import { ControlTableSchema } from '../contracts/tables';

export interface ProberSettings {
  /** The region the prober runs in (the secondary). */
  readonly region: string;
  /** The region it watches (the primary). */
  readonly peerRegion: string;
  readonly primaryRegion: string;
  readonly controlTable: string;
  /** This region's failover state machine: started (unplanned) when the peer is out. */
  readonly ownStateMachineArn: string;
  /** The peer's state machine: started (planned) for failback once the peer has recovered. */
  readonly peerStateMachineArn: string;
  /** Consecutive failed probes before a failover may start. */
  readonly failureThreshold: number;
  /** How long the failures must have lasted before a failover may start, in milliseconds. */
  readonly minimumOutageMs: number;
  /** After starting a failover, how long before another may be started, in milliseconds. */
  readonly restartAfterMs: number;
  /** Start failback by itself; otherwise alert and wait for an operator. */
  readonly autoFailback: boolean;
  /** How long the peer must stay recovered before failback, in milliseconds. */
  readonly failbackAfterHealthyMs: number;
  /** Where the failback request goes when it is not automatic. */
  readonly alertTopicArn: string;
  readonly httpTimeoutMs: number;
  /** `api.<zone>`, and this region's API target: what the name resolves to once Route 53 moved traffic here. */
  readonly apiHostName: string;
  readonly ownApiTarget: string;
  /** The evacuation switches' parameter name, namespace and metric name (lambda/shared/switches.ts). */
  readonly switchParameterName: string;
  readonly metricNamespace: string;
  readonly switchMetricName: string;
}

export interface ProberDependencies extends ProberSettings {
  readonly documents: DynamoDBDocumentClient;
  readonly sfn: SFNClient;
  /** Step Functions in the peer region, with cross-region timeouts. */
  readonly peerSfn: SFNClient;
  readonly sns: SNSClient;
  /** SSM and CloudWatch here (the peer's switch lives here) and in the peer region (this region's switch). */
  readonly localSwitch: SwitchClients;
  readonly peerSwitch: SwitchClients;
  /** The peer's API stage URL (read at run time from its parameters). */
  readonly peerApiUrl: () => Promise<string>;
  readonly get: HttpGet;
  /** DNS as clients see it: the CNAMEs `api.<zone>` resolves to. */
  readonly resolveCname: (name: string) => Promise<string[]>;
  readonly logger: Logger;
  readonly now: () => number;
}

/** What the prober remembers between probes, in the control table. */
export interface ProberState {
  readonly consecutiveFailures: number;
  /** When (epoch ms) the current run of failed probes began. */
  readonly failingSince?: number;
  /** When (epoch ms) the prober last started a failover. */
  readonly failoverStartedAt?: number;
  /** Since when (epoch ms) the peer has been recovered while this region is active. */
  readonly peerRecoveredSince?: number;
  /** The fencing epoch a failback was last requested for (started or alerted), so it happens once. */
  readonly failbackRequestedForEpoch?: number;
  /** When (epoch ms) the prober last started a failback: one that did not move the epoch is started again after `restartAfterMs`. */
  readonly failbackStartedAt?: number;
}

/** What one probe saw of the peer. */
export type ProbeKind = 'healthy' | 'unreachable' | 'unhealthy' | 'drained';

/** What Route 53's own checkers, seen through DNS (data plane only), say about the peer. */
export type DnsEvidence = 'moved-here' | 'still-peer' | 'unknown';

export type ProbeAction =
  'none' | 'watching' | 'uncorroborated' | 'paused' | 'failover-running' | 'failover-started' | 'failback-started' | 'failback-requested';

/** The failover decision for one probe while the peer is active. */
export interface FailoverDecision {
  readonly action: Extract<ProbeAction, 'none' | 'watching' | 'uncorroborated' | 'paused' | 'failover-running' | 'failover-started'>;
  /** For a start: whether the run may fail over allowing data loss. */
  readonly allowDataLoss?: boolean;
  readonly why: string;
}

export interface DecisionInput {
  readonly kind: ProbeKind;
  readonly consecutiveFailures: number;
  /** How long the failures have lasted, in milliseconds. */
  readonly outageMs: number;
  readonly dns: DnsEvidence;
  readonly paused: boolean;
  /** A failover holds the lock, or the prober started one within `restartAfterMs`. */
  readonly failoverUnderWay: boolean;
}

/**
 * The prober's decision table (README, "Prober decisions"), one row per case, tested row by row:
 * - the peer healthy, or only drained (a role the table gave it): nothing;
 * - a short blip: fewer than `failureThreshold` failures, or less than `minimumOutageMs`: watch;
 * - flapping: a healthy probe in between restarts the count, so it never reaches the minimum;
 * - an outage seen from here only: Route 53's checkers still answer with the peer, so one vantage
 *   point's trouble (a broken path from this region) starts nothing;
 * - the peer unreachable, and Route 53 agrees: an unplanned failover that may lose data (the
 *   state machine still switches over, losing nothing, whenever the peer's RDS control plane
 *   answers);
 * - the peer answering but unable to serve (its database or journal check failing, e.g. an
 *   in-region writer restart), and Route 53 agrees: an unplanned failover that must not lose
 *   data (switchover only): the peer's region is up, so its control plane should be too;
 * - operators paused automation, or a failover is under way: nothing new.
 */
export function decideFailover(input: DecisionInput, settings: Pick<ProberSettings, 'failureThreshold' | 'minimumOutageMs'>): FailoverDecision {
  if (input.kind === 'healthy') return { action: 'none', why: 'the peer is healthy' };
  if (input.kind === 'drained') return { action: 'none', why: 'the peer is drained but sound (a role, not a fault): the readiness check reports it' };
  if (input.consecutiveFailures < settings.failureThreshold || input.outageMs < settings.minimumOutageMs) {
    return {
      action: 'watching',
      why: `${input.consecutiveFailures} failed probes over ${Math.round(input.outageMs / 1000)} s: below ${settings.failureThreshold} probes and ${settings.minimumOutageMs / 1000} s`,
    };
  }
  if (input.dns !== 'moved-here') {
    return {
      action: 'uncorroborated',
      why: `the peer fails from here, but Route 53's checkers ${input.dns === 'still-peer' ? 'still answer with the peer' : 'could not be read through DNS'}: one vantage point is not enough`,
    };
  }
  if (input.paused) return { action: 'paused', why: 'automation is paused by an operator' };
  if (input.failoverUnderWay) return { action: 'failover-running', why: 'a failover is under way' };
  if (input.kind === 'unreachable') return { action: 'failover-started', allowDataLoss: true, why: 'the peer does not answer and Route 53 agrees' };
  return {
    action: 'failover-started',
    allowDataLoss: false,
    why: 'the peer answers but cannot serve (database or journal), and Route 53 agrees: switchover only',
  };
}

export interface ProbeOutcome {
  readonly probe: HealthProbe;
  readonly kind: ProbeKind;
  readonly activeRegion: string;
  readonly fencingEpoch: number;
  readonly state: ProberState;
  readonly action: ProbeAction;
  readonly why: string;
  /** Role corrections made (lambda/shared/roles.ts), one line each. */
  readonly corrections: string[];
}

function stateKey(region: string): string {
  return `prober-${region}`;
}

export function probeKind(probe: HealthProbe): ProbeKind {
  if (!probe.answered) return 'unreachable';
  if (probe.status === 200) return 'healthy';
  return checksPassed(probe, DEPENDENCY_CHECKS) ? 'drained' : 'unhealthy';
}

async function readItem(deps: ProberDependencies, pk: string): Promise<Record<string, unknown> | undefined> {
  const response = await withRetry(`read ${pk} from the control table`, () =>
    deps.documents.send(new GetCommand({ TableName: deps.controlTable, Key: { [ControlTableSchema.pk]: pk }, ConsistentRead: true })),
  );
  return response.Item;
}

function readState(item: Record<string, unknown> | undefined): ProberState {
  const number = (key: string) => (typeof item?.[key] === 'number' ? (item[key] as number) : undefined);
  return {
    consecutiveFailures: number('consecutiveFailures') ?? 0,
    failingSince: number('failingSince'),
    failoverStartedAt: number('failoverStartedAt'),
    peerRecoveredSince: number('peerRecoveredSince'),
    failbackRequestedForEpoch: number('failbackRequestedForEpoch'),
    failbackStartedAt: number('failbackStartedAt'),
  };
}

async function writeState(deps: ProberDependencies, state: ProberState, probe: HealthProbe, action: ProbeAction, why: string): Promise<void> {
  await withRetry('write the prober state', () =>
    deps.documents.send(
      new PutCommand({
        TableName: deps.controlTable,
        // Keys left undefined (no outage or recovery under way) are dropped, not stored as null.
        Item: {
          [ControlTableSchema.pk]: stateKey(deps.region),
          ...state,
          lastProbeAt: new Date(deps.now()).toISOString(),
          lastProbe: probe.detail,
          lastAction: action,
          lastWhy: why,
        },
      }),
    ),
  );
}

/** What Route 53 answers for the API name, through DNS only (no control-plane call). */
async function dnsEvidence(deps: ProberDependencies): Promise<DnsEvidence> {
  const normalize = (name: string) => name.toLowerCase().replace(/\.$/, '');
  try {
    const names = (await deps.resolveCname(deps.apiHostName)).map(normalize);
    return names.includes(normalize(deps.ownApiTarget)) ? 'moved-here' : 'still-peer';
  } catch (error) {
    deps.logger.warn('the API name could not be resolved; no DNS evidence', { name: deps.apiHostName, error: (error as Error).message });
    return 'unknown';
  }
}

/**
 * A unique execution name per attempt (Step Functions refuses a name used in the last 90 days,
 * StartExecution API reference): the failover lock is the only guard against concurrent runs.
 */
export function executionName(kind: 'failover' | 'failback', epoch: number, at: number): string {
  return `auto-${kind}-e${epoch}-${new Date(at).toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
}

async function start(client: SFNClient, stateMachineArn: string, name: string, input: Record<string, unknown>): Promise<void> {
  await withRetry(
    `start ${name} on ${stateMachineArn}`,
    () => client.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) })),
    { attempts: 3 },
  );
}

/**
 * Holds both regions to the roles the control table's active region calls for (the drained list
 * and both switches): a run that could not reach the other region leaves a switch behind, and a
 * deployment upgraded from an older version may carry a drained standby. Skipped while paused
 * (operators may hold a switch by hand) or while a failover runs (it sets them itself). The
 * switch in the other region is put right only when that region answers.
 */
async function reconcileRoles(deps: ProberDependencies, control: ControlState, peerAnswers: boolean): Promise<string[]> {
  const secondaryRegion = secondaryRegionOf(deps);
  const plan = rolesFor(control.activeRegion, deps.primaryRegion, secondaryRegion);
  const corrections: string[] = [];
  if (roleGaps(plan, control.drainedRegions, {}).length > 0) {
    try {
      await deps.documents.send(
        new UpdateCommand({
          TableName: deps.controlTable,
          Key: { [ControlTableSchema.pk]: ControlTableSchema.activeRegionItem },
          UpdateExpression: 'SET #drained = :drained',
          // Only under the epoch it read: a failover that moved on since wins.
          ConditionExpression: '#epoch = :epoch AND #active = :active',
          ExpressionAttributeNames: {
            '#drained': ControlTableSchema.drainedRegions,
            '#epoch': ControlTableSchema.fencingEpoch,
            '#active': ControlTableSchema.activeRegion,
          },
          ExpressionAttributeValues: { ':drained': [...plan.drainedRegions], ':epoch': control.fencingEpoch, ':active': control.activeRegion },
        }),
      );
      corrections.push(`drained regions set to [${plan.drainedRegions.join(', ')}] (were [${control.drainedRegions.join(', ')}])`);
    } catch (error) {
      deps.logger.warn('drained regions not corrected', { error: (error as Error).message });
    }
  }
  // The switch hosted in the peer region only while the peer answers: a silent region would cost
  // every probe a cross-region timeout and slow the very detection this function does.
  const hosts = peerAnswers
    ? ([
        [deps.peerRegion, deps.localSwitch],
        [deps.region, deps.peerSwitch],
      ] as const)
    : ([[deps.peerRegion, deps.localSwitch]] as const);
  for (const [region, clients] of hosts) {
    const ref = switchRefOf(deps, region);
    const wanted = plan.switches[region];
    try {
      const position = await readSwitch(clients.ssm, ref);
      if (position !== wanted) {
        await setSwitch(clients, ref, wanted);
        corrections.push(`${region}'s evacuation switch (in ${ref.hostRegion}) set to ${wanted} (was ${position})`);
      }
    } catch (error) {
      // The other region not answering is the expected case during an outage.
      deps.logger.warn('evacuation switch not checked', { region, hostRegion: ref.hostRegion, error: (error as Error).message });
    }
  }
  if (corrections.length > 0) deps.logger.warn('roles corrected', { activeRegion: control.activeRegion, corrections });
  return corrections;
}

function outage(previous: ProberState, failed: boolean, now: number): Pick<ProberState, 'consecutiveFailures' | 'failingSince'> {
  if (!failed) return { consecutiveFailures: 0 };
  return { consecutiveFailures: previous.consecutiveFailures + 1, failingSince: previous.failingSince ?? now };
}

/**
 * One probe of the peer's /health and what follows from it:
 * - while the peer is active, the decision table of {@link decideFailover};
 * - while this region is active (after a failover), a peer whose own dependencies work again
 *   (database and journal checks pass; it reports itself drained) for `failbackAfterHealthyMs`
 *   gets failback: its state machine is started (planned), or an alert asks for it;
 * - either way, the regions are held to their roles (unless paused or a failover runs).
 */
export async function probeOnce(deps: ProberDependencies): Promise<ProbeOutcome> {
  const [control, stateItem, lock, pause, probe] = await Promise.all([
    withRetry('read control state', () => readControlState(deps.documents, deps.controlTable, deps.primaryRegion), { attempts: 3 }),
    readItem(deps, stateKey(deps.region)),
    readItem(deps, ControlTableSchema.failoverLockItem),
    readItem(deps, ControlTableSchema.automationPauseItem),
    deps
      .peerApiUrl()
      .then((url) => probeHealth(healthUrlOf(url), deps.httpTimeoutMs, deps.get))
      .catch((error: Error): HealthProbe => ({ answered: false, checks: [], detail: `peer API URL unreadable: ${error.message}`, ms: 0 })),
  ]);
  const previous = readState(stateItem);
  const now = deps.now();
  const kind = probeKind(probe);
  const paused = pause !== undefined;
  const lockHeld = typeof lock?.expiresAt === 'number' && lock.expiresAt * 1000 > now;
  let state: ProberState = previous;
  let action: ProbeAction = 'none';
  let why = '';

  if (control.activeRegion === deps.peerRegion) {
    const failed = kind === 'unreachable' || kind === 'unhealthy';
    state = { ...outage(previous, failed, now), failoverStartedAt: previous.failoverStartedAt };
    const recentlyStarted = previous.failoverStartedAt !== undefined && now - previous.failoverStartedAt < deps.restartAfterMs;
    const decision = decideFailover(
      {
        kind,
        consecutiveFailures: state.consecutiveFailures,
        outageMs: state.failingSince === undefined ? 0 : now - state.failingSince,
        // Asked only when it could matter: DNS evidence is what a start needs beyond the probes.
        dns: failed && state.consecutiveFailures >= deps.failureThreshold ? await dnsEvidence(deps) : 'unknown',
        paused,
        failoverUnderWay: lockHeld || recentlyStarted,
      },
      deps,
    );
    action = decision.action;
    why = decision.why;
    if (decision.action === 'failover-started') {
      const reason = `prober in ${deps.region}: ${decision.why}; ${state.consecutiveFailures} failed probes of ${deps.peerRegion} over ${Math.round((now - (state.failingSince ?? now)) / 1000)} s (${probe.detail})`;
      deps.logger.error('starting an unplanned failover', { reason, allowDataLoss: decision.allowDataLoss, epoch: control.fencingEpoch });
      await start(deps.sfn, deps.ownStateMachineArn, executionName('failover', control.fencingEpoch, now), {
        mode: 'unplanned',
        reason,
        allowDataLoss: decision.allowDataLoss,
      });
      state = { ...state, failoverStartedAt: now };
    }
  } else if (control.activeRegion === deps.region) {
    const recovered = probe.answered && checksPassed(probe, DEPENDENCY_CHECKS);
    const since = recovered ? (previous.peerRecoveredSince ?? now) : undefined;
    state = {
      consecutiveFailures: 0,
      peerRecoveredSince: since,
      failbackRequestedForEpoch: previous.failbackRequestedForEpoch,
      failbackStartedAt: previous.failbackStartedAt,
    };
    // A failback that ended without moving the epoch (its preflight refused: the old primary was
    // still resynchronizing, say) is started again after restartAfterMs; an alert is sent once.
    const requested = previous.failbackRequestedForEpoch === control.fencingEpoch;
    const retry = requested && deps.autoFailback && previous.failbackStartedAt !== undefined && now - previous.failbackStartedAt >= deps.restartAfterMs;
    const due = since !== undefined && now - since >= deps.failbackAfterHealthyMs && (!requested || retry);
    why = recovered ? `the peer has been recovered for ${Math.round((now - (since ?? now)) / 1000)} s` : `the peer is not recovered (${probe.detail})`;
    if (due && paused) {
      action = 'paused';
      why = 'failback is due, but automation is paused by an operator';
    } else if (due && !lockHeld) {
      const reason = `prober in ${deps.region}: ${deps.peerRegion} has been recovered for ${Math.round((now - since) / 1000)} s`;
      if (deps.autoFailback) {
        await start(deps.peerSfn, deps.peerStateMachineArn, executionName('failback', control.fencingEpoch, now), { mode: 'planned', reason });
        action = 'failback-started';
        state = { ...state, failbackStartedAt: now };
      } else {
        await withRetry('publish the failback request', () =>
          deps.sns.send(
            new PublishCommand({
              TopicArn: deps.alertTopicArn,
              Subject: `Failback to ${deps.peerRegion} is due`,
              Message: `${reason}. Automatic failback is off: start it with\n  aws stepfunctions start-execution --region ${deps.peerRegion} --state-machine-arn ${deps.peerStateMachineArn} --input '{"mode":"planned","reason":"failback"}'`,
            }),
          ),
        );
        action = 'failback-requested';
      }
      state = { ...state, failbackRequestedForEpoch: control.fencingEpoch };
    }
  }
  const corrections = paused || lockHeld ? [] : await reconcileRoles(deps, control, probe.answered);
  await writeState(deps, state, probe, action, why);
  deps.logger.info('probe', {
    peerRegion: deps.peerRegion,
    activeRegion: control.activeRegion,
    epoch: control.fencingEpoch,
    probe: probe.detail,
    kind,
    action,
    why,
    paused,
    lockHeld,
    corrections,
    ...state,
  });
  return { probe, kind, activeRegion: control.activeRegion, fencingEpoch: control.fencingEpoch, state, action, why, corrections };
}
