import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import { readControlState } from '../shared/control';
import { checksPassed, DEPENDENCY_CHECKS, HealthProbe, healthUrlOf, HttpGet, probeHealth } from '../shared/health-probe';
import { withRetry } from '../shared/retry';
import { ControlTableSchema } from '../shared/tables';

export interface ProberSettings {
  /** The region the prober runs in (the secondary). */
  readonly region: string;
  /** The region it watches (the primary). */
  readonly peerRegion: string;
  readonly primaryRegion: string;
  readonly controlTable: string;
  /** This region's failover state machine: started (unplanned) when the peer stops answering. */
  readonly ownStateMachineArn: string;
  /** The peer's state machine: started (planned) for failback once the peer has recovered. */
  readonly peerStateMachineArn: string;
  /** Consecutive failed probes before an unplanned failover starts. */
  readonly failureThreshold: number;
  /** Start failback by itself; otherwise alert and wait for an operator. */
  readonly autoFailback: boolean;
  /** How long the peer must stay recovered before failback, in milliseconds. */
  readonly failbackAfterHealthyMs: number;
  /** Where the failback request goes when it is not automatic. */
  readonly alertTopicArn: string;
  readonly httpTimeoutMs: number;
}

export interface ProberDependencies extends ProberSettings {
  readonly documents: DynamoDBDocumentClient;
  readonly sfn: SFNClient;
  readonly peerSfn: SFNClient;
  readonly sns: SNSClient;
  /** The peer's API stage URL (read at run time from its parameters). */
  readonly peerApiUrl: () => Promise<string>;
  readonly get: HttpGet;
  readonly logger: Logger;
  readonly now: () => number;
}

/** What the prober remembers between probes, in the control table. */
export interface ProberState {
  readonly consecutiveFailures: number;
  /** Since when (epoch ms) the peer has been recovered while this region is active. */
  readonly peerRecoveredSince?: number;
  /** The fencing epoch a failback was last requested for (started or alerted), so it happens once. */
  readonly failbackRequestedForEpoch?: number;
}

export type ProbeAction = 'none' | 'failover-started' | 'failback-started' | 'failback-requested';

export interface ProbeOutcome {
  readonly probe: HealthProbe;
  readonly activeRegion: string;
  readonly fencingEpoch: number;
  readonly state: ProberState;
  readonly action: ProbeAction;
}

function stateKey(region: string): string {
  return `prober-${region}`;
}

async function readState(deps: ProberDependencies): Promise<ProberState> {
  const response = await withRetry('read the prober state', () =>
    deps.documents.send(new GetCommand({ TableName: deps.controlTable, Key: { [ControlTableSchema.pk]: stateKey(deps.region) }, ConsistentRead: true })),
  );
  const item = response.Item ?? {};
  return {
    consecutiveFailures: typeof item.consecutiveFailures === 'number' ? item.consecutiveFailures : 0,
    peerRecoveredSince: typeof item.peerRecoveredSince === 'number' ? item.peerRecoveredSince : undefined,
    failbackRequestedForEpoch: typeof item.failbackRequestedForEpoch === 'number' ? item.failbackRequestedForEpoch : undefined,
  };
}

async function writeState(deps: ProberDependencies, state: ProberState, probe: HealthProbe): Promise<void> {
  await withRetry('write the prober state', () =>
    deps.documents.send(
      new PutCommand({
        TableName: deps.controlTable,
        Item: { [ControlTableSchema.pk]: stateKey(deps.region), ...state, lastProbeAt: new Date(deps.now()).toISOString(), lastProbe: probe.detail },
        // Keys left undefined (no recovery under way) are dropped, not stored as null.
      }),
    ),
  );
}

/** Starts an execution; a second start under the same name (the same epoch) is the same request, not an error. */
async function startOnce(client: SFNClient, stateMachineArn: string, name: string, input: Record<string, string>, deps: ProberDependencies): Promise<boolean> {
  try {
    await withRetry(`start ${name} on ${stateMachineArn}`, () => client.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) })), {
      attempts: 3,
      isRetryable: (error) => !(error instanceof ExecutionAlreadyExists),
    });
    return true;
  } catch (error) {
    if (error instanceof ExecutionAlreadyExists) {
      deps.logger.info('execution already started for this epoch', { name, stateMachineArn });
      return false;
    }
    throw error;
  }
}

/**
 * One probe of the peer's /health and what follows from it:
 * - while the peer is active, `failureThreshold` consecutive failures start this region's
 *   failover (unplanned), once per fencing epoch;
 * - while this region is active (after a failover), a peer whose own dependencies work again
 *   (database and journal checks pass; it reports itself drained) for `failbackAfterHealthyMs`
 *   gets failback: its state machine is started (planned), or an alert asks for it.
 */
export async function probeOnce(deps: ProberDependencies): Promise<ProbeOutcome> {
  const control = await withRetry('read control state', () => readControlState(deps.documents, deps.controlTable, deps.primaryRegion), { attempts: 3 });
  const previous = await readState(deps);
  const probe = await deps
    .peerApiUrl()
    .then((url) => probeHealth(healthUrlOf(url), deps.httpTimeoutMs, deps.get))
    .catch((error: Error): HealthProbe => ({ answered: false, checks: [], detail: `peer API URL unreadable: ${error.message}`, ms: 0 }));
  let state: ProberState = previous;
  let action: ProbeAction = 'none';

  if (control.activeRegion === deps.peerRegion) {
    const failures = probe.status === 200 ? 0 : previous.consecutiveFailures + 1;
    state = { consecutiveFailures: failures };
    if (failures >= deps.failureThreshold) {
      deps.logger.error('peer region failed its health probes; starting an unplanned failover', { failures, probe: probe.detail, epoch: control.fencingEpoch });
      const started = await startOnce(
        deps.sfn,
        deps.ownStateMachineArn,
        `auto-failover-epoch-${control.fencingEpoch}`,
        { mode: 'unplanned', reason: `prober in ${deps.region}: ${failures} consecutive failed probes of ${deps.peerRegion} (${probe.detail})` },
        deps,
      );
      if (started) action = 'failover-started';
    }
  } else if (control.activeRegion === deps.region) {
    const recovered = probe.answered && checksPassed(probe, DEPENDENCY_CHECKS);
    const since = recovered ? (previous.peerRecoveredSince ?? deps.now()) : undefined;
    state = { consecutiveFailures: 0, peerRecoveredSince: since, failbackRequestedForEpoch: previous.failbackRequestedForEpoch };
    const due = since !== undefined && deps.now() - since >= deps.failbackAfterHealthyMs && previous.failbackRequestedForEpoch !== control.fencingEpoch;
    if (due) {
      const reason = `prober in ${deps.region}: ${deps.peerRegion} has been recovered for ${Math.round((deps.now() - since) / 1000)} s`;
      if (deps.autoFailback) {
        // Already started under this epoch's name (a lost state write): requested, but not started now.
        if (await startOnce(deps.peerSfn, deps.peerStateMachineArn, `auto-failback-epoch-${control.fencingEpoch}`, { mode: 'planned', reason }, deps)) action = 'failback-started';
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
  await writeState(deps, state, probe);
  deps.logger.info('probe', { peerRegion: deps.peerRegion, activeRegion: control.activeRegion, epoch: control.fencingEpoch, probe: probe.detail, action, ...state });
  return { probe, activeRegion: control.activeRegion, fencingEpoch: control.fencingEpoch, state, action };
}
