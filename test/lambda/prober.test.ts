import { randomBytes } from 'crypto';
import type { IncomingMessage, ServerResponse } from 'http';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CreateStateMachineCommand, DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { decideFailover, DecisionInput, probeOnce, ProberDependencies } from '../../lambda/prober/prober';
import { fetchGet } from '../../lambda/shared/health-probe';
import { ControlTableSchema } from '../../lambda/contracts/tables';
import { createControlTable, documents, silentLogger, takeAllMessages } from '../helpers/aws';
import { LoopbackApi } from '../helpers/loopback-api';

/**
 * The failover prober against moto_server (control table; Step Functions in both regions, whose
 * executions are read back with ListExecutions; SSM and CloudWatch in both regions for the
 * evacuation switches; an SNS topic whose alerts land in an SQS queue) and a stand-in for the peer
 * region's /health on loopback. DNS is the one fake: what Route 53 answers for the API name. Time
 * moves through the injected `now`.
 */

const REGION = 'us-east-2';
const PEER_REGION = 'us-east-1';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/x';
const FAILBACK_AFTER_MS = 600_000;
const T0 = Date.parse('2025-06-01T12:00:00.000Z');

const sfn = new SFNClient({ region: REGION });
const peerSfn = new SFNClient({ region: PEER_REGION });
const sns = new SNSClient({ region: REGION });
const sqs = new SQSClient({ region: REGION });
const ssm: Record<string, SSMClient> = { [REGION]: new SSMClient({ region: REGION }), [PEER_REGION]: new SSMClient({ region: PEER_REGION }) };
const cloudwatch: Record<string, CloudWatchClient> = {
  [REGION]: new CloudWatchClient({ region: REGION }),
  [PEER_REGION]: new CloudWatchClient({ region: PEER_REGION }),
};
const OWN_TARGET = 'd-own.execute-api.us-east-2.amazonaws.com';
const PEER_TARGET = 'd-peer.execute-api.us-east-1.amazonaws.com';
/** What Route 53 answers for the API name in this test: the peer's target until a test moves it. */
let dnsAnswer: string[];

/** The peer region's /health: a chosen status and failing checks, as the health function reports them. */
class StandInHealth extends LoopbackApi {
  public status = 200;
  public failingChecks: string[] = [];
  public requests = 0;

  protected answer(request: IncomingMessage, response: ServerResponse): void {
    this.requests++;
    if (request.url === '/v1/health') this.send(response, this.status, this.healthBody(this.status, this.failingChecks));
    else this.send(response, 404, { error: 'not_found' });
  }

  /** Healthy (200, every check passing). */
  healthy(): void {
    this.status = 200;
    this.failingChecks = [];
  }

  /** 503 with the named checks failing. */
  failing(...checks: string[]): void {
    this.status = 503;
    this.failingChecks = checks;
  }
}

const peer = new StandInHealth();

function unique(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

async function createStateMachine(client: SFNClient): Promise<string> {
  const response = await client.send(
    new CreateStateMachineCommand({
      name: unique('failover'),
      roleArn: ROLE_ARN,
      definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }),
    }),
  );
  return response.stateMachineArn!;
}

/** A topic whose messages are delivered to a queue the test reads. */
async function createAlertTopic(): Promise<{ topicArn: string; queueUrl: string }> {
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: unique('alerts') }))).TopicArn!;
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: unique('alerts') }))).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
  return { topicArn, queueUrl };
}

let deps: ProberDependencies;
let alertQueueUrl: string;
let clock: number;

beforeAll(async () => {
  await peer.start();
});

afterAll(async () => {
  for (const client of [...Object.values(ssm), ...Object.values(cloudwatch)]) client.destroy();
  await peer.stop();
});

beforeEach(async () => {
  peer.healthy();
  peer.requests = 0;
  clock = T0;
  dnsAnswer = [PEER_TARGET];
  const [controlTable, ownStateMachineArn, peerStateMachineArn, alerts] = await Promise.all([
    createControlTable(),
    createStateMachine(sfn),
    createStateMachine(peerSfn),
    createAlertTopic(),
  ]);
  alertQueueUrl = alerts.queueUrl;
  deps = {
    region: REGION,
    peerRegion: PEER_REGION,
    primaryRegion: PEER_REGION,
    controlTable,
    ownStateMachineArn,
    peerStateMachineArn,
    failureThreshold: 3,
    minimumOutageMs: 20_000,
    restartAfterMs: 300_000,
    autoFailback: true,
    failbackAfterHealthyMs: FAILBACK_AFTER_MS,
    alertTopicArn: alerts.topicArn,
    httpTimeoutMs: 1000,
    documents,
    sfn,
    peerSfn,
    sns,
    apiHostName: 'api.trading.example.com',
    ownApiTarget: OWN_TARGET,
    switchParameterName: `/${unique('app')}/dns/evacuation-switch`,
    metricNamespace: unique('trading-dr'),
    switchMetricName: 'EvacuateRegion',
    localSwitch: { ssm: ssm[REGION], cloudwatch: cloudwatch[REGION] },
    peerSwitch: { ssm: ssm[PEER_REGION], cloudwatch: cloudwatch[PEER_REGION] },
    resolveCname: async () => dnsAnswer,
    peerApiUrl: async () => peer.url,
    get: fetchGet,
    logger: silentLogger,
    now: () => clock,
  };
});

async function setControl(activeRegion: string, fencingEpoch: number): Promise<void> {
  await documents.send(
    new PutCommand({
      TableName: deps.controlTable,
      Item: {
        [ControlTableSchema.pk]: ControlTableSchema.activeRegionItem,
        [ControlTableSchema.activeRegion]: activeRegion,
        [ControlTableSchema.fencingEpoch]: fencingEpoch,
      },
    }),
  );
}

/** The prober's remembered state, as stored in the control table. */
async function storedState(): Promise<Record<string, unknown> | undefined> {
  return (await documents.send(new GetCommand({ TableName: deps.controlTable, Key: { [ControlTableSchema.pk]: `prober-${REGION}` }, ConsistentRead: true })))
    .Item;
}

/** Executions of a state machine: name and parsed input. */
async function executions(
  client: SFNClient,
  stateMachineArn: string,
): Promise<{ name: string; input: { mode?: string; reason?: string; allowDataLoss?: boolean } }[]> {
  const { executions: listed } = await client.send(new ListExecutionsCommand({ stateMachineArn }));
  const described = [];
  for (const execution of listed ?? []) {
    const { input } = await client.send(new DescribeExecutionCommand({ executionArn: execution.executionArn }));
    described.push({ name: execution.name!, input: JSON.parse(input ?? '{}') as { mode?: string; reason?: string; allowDataLoss?: boolean } });
  }
  return described;
}

/** Alerts published since the last drain (through the queue subscribed to the topic). */
async function drainAlerts(): Promise<{ subject: string; message: string }[]> {
  return (await takeAllMessages(alertQueueUrl, sqs)).map((body) => {
    const envelope = JSON.parse(body) as { Subject: string; Message: string };
    return { subject: envelope.Subject, message: envelope.Message };
  });
}

/** One probe at `at` (epoch ms). */
async function probeAt(at: number, overrides: Partial<ProberDependencies> = {}) {
  clock = at;
  return probeOnce({ ...deps, ...overrides });
}

async function setPause(reason: string): Promise<void> {
  await documents.send(new PutCommand({ TableName: deps.controlTable, Item: { [ControlTableSchema.pk]: ControlTableSchema.automationPauseItem, reason } }));
}

async function switchAt(hostRegion: string): Promise<string | undefined> {
  try {
    return (await ssm[hostRegion].send(new GetParameterCommand({ Name: deps.switchParameterName }))).Parameter?.Value;
  } catch {
    return undefined;
  }
}

/** Probes every 10 s from T0 for `count` probes; returns the last outcome. */
async function probeSeries(count: number, from = T0, overrides: Partial<ProberDependencies> = {}) {
  let last;
  for (let index = 0; index < count; index++) last = await probeAt(from + index * 10_000, overrides);
  return last!;
}

describe('the prober decision table (README, "Prober decisions"), row by row', () => {
  const settings = { failureThreshold: 3, minimumOutageMs: 30_000 };
  const base: DecisionInput = { kind: 'unreachable', consecutiveFailures: 4, outageMs: 30_000, dns: 'moved-here', paused: false, failoverUnderWay: false };
  it.each<[string, Partial<DecisionInput>, string, boolean | undefined]>([
    ['the primary healthy', { kind: 'healthy', consecutiveFailures: 0, outageMs: 0 }, 'none', undefined],
    ['the primary drained but sound (a role, not a fault)', { kind: 'drained' }, 'none', undefined],
    ['a short blip: fewer failures than the threshold', { consecutiveFailures: 2 }, 'watching', undefined],
    ['a short blip: enough failures but shorter than the minimum outage', { outageMs: 29_999 }, 'watching', undefined],
    ['the primary unreachable from here only (Route 53 still answers with it): one vantage point', { dns: 'still-peer' }, 'uncorroborated', undefined],
    ['the primary unreachable and DNS unreadable', { dns: 'unknown' }, 'uncorroborated', undefined],
    ['the primary unreachable, and Route 53 agrees', {}, 'failover-started', true],
    ['the primary answering 503 with its database check failing, and Route 53 agrees: switchover only', { kind: 'unhealthy' }, 'failover-started', false],
    [
      'the primary answering 503 with its database failing, Route 53 still with it (an in-region writer restart)',
      { kind: 'unhealthy', dns: 'still-peer' },
      'uncorroborated',
      undefined,
    ],
    ['automation paused by an operator', { paused: true }, 'paused', undefined],
    ['a failover already under way', { failoverUnderWay: true }, 'failover-running', undefined],
  ])('%s: %j -> %s', (_row, change, action, allowDataLoss) => {
    const decision = decideFailover({ ...base, ...change }, settings);
    expect(decision.action).toBe(action);
    expect(decision.allowDataLoss).toBe(allowDataLoss);
  });
});

describe('prober while the peer region is active', () => {
  beforeEach(async () => {
    await setControl(PEER_REGION, 5);
  });

  it('does nothing while the peer answers 200, and resets earlier failures', async () => {
    await documents.send(
      new PutCommand({
        TableName: deps.controlTable,
        Item: { [ControlTableSchema.pk]: `prober-${REGION}`, consecutiveFailures: 2, failingSince: T0 - 20_000 },
      }),
    );
    const outcome = await probeAt(T0);
    expect(outcome.action).toBe('none');
    expect(outcome.activeRegion).toBe(PEER_REGION);
    expect(outcome.fencingEpoch).toBe(5);
    expect(outcome.probe).toMatchObject({ answered: true, status: 200, detail: 'healthy' });
    expect(outcome.state).toEqual({ consecutiveFailures: 0 });
    expect(await storedState()).toMatchObject({
      pk: `prober-${REGION}`,
      consecutiveFailures: 0,
      lastProbeAt: new Date(T0).toISOString(),
      lastProbe: 'healthy',
      lastAction: 'none',
    });
    expect(await storedState()).not.toHaveProperty('failingSince');
    expect(await executions(sfn, deps.ownStateMachineArn)).toEqual([]);
  });

  it('starts an unplanned failover that may lose data once the peer has been unreachable long enough and Route 53 agrees', async () => {
    const unreachable = { peerApiUrl: async () => 'http://127.0.0.1:9/v1/' };
    // Three failures in 20 s: the threshold, and the minimum outage, just reached; Route 53 not yet.
    expect((await probeSeries(3, T0, unreachable)).action).toBe('uncorroborated');
    dnsAnswer = [`${OWN_TARGET}.`];
    const started = await probeAt(T0 + 30_000, unreachable);
    expect(started.action).toBe('failover-started');
    expect(started.state).toMatchObject({ consecutiveFailures: 4, failingSince: T0, failoverStartedAt: T0 + 30_000 });
    const [execution] = await executions(sfn, deps.ownStateMachineArn);
    expect(execution.name).toMatch(/^auto-failover-e5-2025-06-01T12-00-30-000Z-[0-9a-f]{6}$/);
    expect(execution.input).toEqual({
      mode: 'unplanned',
      allowDataLoss: true,
      reason: expect.stringMatching(/^prober in us-east-2: the peer does not answer and Route 53 agrees; 4 failed probes of us-east-1 over 30 s/),
    });
    // Still failing: the start is not repeated while it runs (restartAfterMs), whatever the epoch.
    expect((await probeAt(T0 + 40_000, unreachable)).action).toBe('failover-running');
    expect(await executions(sfn, deps.ownStateMachineArn)).toHaveLength(1);
  });

  it('starts a switchover-only failover when the peer answers but its database fails, and Route 53 agrees', async () => {
    peer.failing('database');
    dnsAnswer = [OWN_TARGET];
    const outcome = await probeSeries(3);
    expect(outcome.action).toBe('failover-started');
    const [execution] = await executions(sfn, deps.ownStateMachineArn);
    expect(execution.input).toMatchObject({ mode: 'unplanned', allowDataLoss: false });
  });

  it('never starts on an in-region writer restart that Route 53 does not see as an outage, however long', async () => {
    peer.failing('database');
    const outcome = await probeSeries(12);
    expect(outcome.action).toBe('uncorroborated');
    expect(await executions(sfn, deps.ownStateMachineArn)).toEqual([]);
  });

  it('never starts on flapping: a healthy probe in between restarts the outage', async () => {
    dnsAnswer = [OWN_TARGET];
    for (let index = 0; index < 30; index++) {
      if (index % 3 === 2) peer.healthy();
      else peer.failing('database');
      const outcome = await probeAt(T0 + index * 10_000);
      expect(['none', 'watching']).toContain(outcome.action);
    }
    expect(await executions(sfn, deps.ownStateMachineArn)).toEqual([]);
  });

  it('starts nothing while automation is paused, and says so', async () => {
    await setPause('market open');
    dnsAnswer = [OWN_TARGET];
    const outcome = await probeSeries(4, T0, { peerApiUrl: async () => 'http://127.0.0.1:9/v1/' });
    expect(outcome.action).toBe('paused');
    expect(await executions(sfn, deps.ownStateMachineArn)).toEqual([]);
  });

  it('starts nothing while another failover holds the lock', async () => {
    await documents.send(
      new PutCommand({
        TableName: deps.controlTable,
        Item: { [ControlTableSchema.pk]: ControlTableSchema.failoverLockItem, holder: 'x', expiresAt: Math.floor(T0 / 1000) + 3600 },
      }),
    );
    dnsAnswer = [OWN_TARGET];
    const outcome = await probeSeries(4, T0, { peerApiUrl: async () => 'http://127.0.0.1:9/v1/' });
    expect(outcome.action).toBe('failover-running');
    expect(await executions(sfn, deps.ownStateMachineArn)).toEqual([]);
  });

  it('starts again once restartAfterMs has passed (a run that stopped early), under a new name', async () => {
    dnsAnswer = [OWN_TARGET];
    const unreachable = { peerApiUrl: async () => 'http://127.0.0.1:9/v1/' };
    await probeSeries(4, T0, unreachable);
    await probeAt(T0 + 30_000 + deps.restartAfterMs, unreachable);
    const names = (await executions(sfn, deps.ownStateMachineArn)).map((execution) => execution.name);
    expect(names).toHaveLength(2);
    expect(new Set(names).size).toBe(2);
  });

  it('fails over from the primary at epoch 0 when no control item exists yet', async () => {
    const fresh = await createControlTable();
    dnsAnswer = [OWN_TARGET];
    const outcome = await probeSeries(3, T0, { controlTable: fresh, peerApiUrl: async () => 'http://127.0.0.1:9/v1/' });
    expect(outcome).toMatchObject({ activeRegion: PEER_REGION, fencingEpoch: 0, action: 'failover-started' });
    expect((await executions(sfn, deps.ownStateMachineArn))[0].name).toMatch(/^auto-failover-e0-/);
  });

  it('holds this region to a standby: removes it from the drained list and releases its switch left thrown in the peer region', async () => {
    // What an older version left behind after a failback: us-east-2 drained and evacuated.
    await documents.send(
      new PutCommand({
        TableName: deps.controlTable,
        Item: { [ControlTableSchema.pk]: ControlTableSchema.activeRegionItem, activeRegion: PEER_REGION, fencingEpoch: 5, drainedRegions: new Set([REGION]) },
      }),
    );
    await ssm[PEER_REGION].send(new PutParameterCommand({ Name: deps.switchParameterName, Value: 'thrown', Type: 'String', Overwrite: true }));
    const outcome = await probeAt(T0);
    expect(outcome.corrections).toEqual([
      `drained regions set to [] (were [${REGION}])`,
      `${REGION}'s evacuation switch (in ${PEER_REGION}) set to released (was thrown)`,
    ]);
    const item = (
      await documents.send(
        new GetCommand({ TableName: deps.controlTable, Key: { [ControlTableSchema.pk]: ControlTableSchema.activeRegionItem }, ConsistentRead: true }),
      )
    ).Item!;
    expect(item.drainedRegions).toEqual([]);
    expect(item.fencingEpoch).toBe(5);
    expect(await switchAt(PEER_REGION)).toBe('released');
    // Nothing more to correct on the next probe.
    expect((await probeAt(T0 + 10_000)).corrections).toEqual([]);
  });

  it('leaves the switch hosted in the peer region alone while the peer does not answer (no cross-region timeout per probe)', async () => {
    await ssm[PEER_REGION].send(new PutParameterCommand({ Name: deps.switchParameterName, Value: 'thrown', Type: 'String', Overwrite: true }));
    let peerCalls = 0;
    const countingSsm = { send: async (command: never) => (peerCalls++, ssm[PEER_REGION].send(command)) } as unknown as SSMClient;
    const outcome = await probeAt(T0, {
      peerApiUrl: async () => 'http://127.0.0.1:9/v1/',
      peerSwitch: { ssm: countingSsm, cloudwatch: cloudwatch[PEER_REGION] },
    });
    expect(outcome.corrections).toEqual([]);
    expect(peerCalls).toBe(0);
    expect(await switchAt(PEER_REGION)).toBe('thrown');
  });

  it('corrects no role while automation is paused (an operator may hold a switch by hand)', async () => {
    await setPause('maintenance of us-east-2');
    await ssm[PEER_REGION].send(new PutParameterCommand({ Name: deps.switchParameterName, Value: 'thrown', Type: 'String', Overwrite: true }));
    expect((await probeAt(T0)).corrections).toEqual([]);
    expect(await switchAt(PEER_REGION)).toBe('thrown');
  });
});

describe('prober while this region is active (after a failover)', () => {
  beforeEach(async () => {
    await setControl(REGION, 6);
  });

  it("starts the peer's failback (planned) once the peer has stayed recovered long enough, once per epoch", async () => {
    // The peer works again but is drained: it answers 503 with only its control check failing.
    peer.failing('control');
    const first = await probeAt(T0);
    expect(first.action).toBe('none');
    expect(first.state).toEqual({ consecutiveFailures: 0, peerRecoveredSince: T0, failbackRequestedForEpoch: undefined, failbackStartedAt: undefined });

    const early = await probeAt(T0 + FAILBACK_AFTER_MS - 1);
    expect(early.action).toBe('none');
    expect(await executions(peerSfn, deps.peerStateMachineArn)).toEqual([]);

    const due = await probeAt(T0 + FAILBACK_AFTER_MS);
    expect(due.action).toBe('failback-started');
    expect(due.state).toEqual({ consecutiveFailures: 0, peerRecoveredSince: T0, failbackRequestedForEpoch: 6, failbackStartedAt: T0 + FAILBACK_AFTER_MS });
    const started = await executions(peerSfn, deps.peerStateMachineArn);
    expect(started).toEqual([
      {
        name: expect.stringMatching(/^auto-failback-e6-/),
        input: { mode: 'planned', reason: `prober in ${REGION}: ${PEER_REGION} has been recovered for 600 s` },
      },
    ]);
    expect(await executions(sfn, deps.ownStateMachineArn)).toEqual([]);
    expect(await drainAlerts()).toEqual([]);

    const later = await probeAt(T0 + FAILBACK_AFTER_MS + 60_000);
    expect(later.action).toBe('none');
    expect(await executions(peerSfn, deps.peerStateMachineArn)).toHaveLength(1);
  });

  it('starts the failback again after restartAfterMs when the first one did not move the epoch (its preflight refused)', async () => {
    peer.failing('control');
    await probeAt(T0);
    expect((await probeAt(T0 + FAILBACK_AFTER_MS)).action).toBe('failback-started');
    // Same epoch: the failback ended without a fence (the old primary was still resynchronizing).
    expect((await probeAt(T0 + FAILBACK_AFTER_MS + deps.restartAfterMs - 1)).action).toBe('none');
    const again = await probeAt(T0 + FAILBACK_AFTER_MS + deps.restartAfterMs);
    expect(again.action).toBe('failback-started');
    const names = (await executions(peerSfn, deps.peerStateMachineArn)).map((execution) => execution.name);
    expect(names).toHaveLength(2);
    expect(new Set(names).size).toBe(2);
  });

  it('holds the peer evacuated while this region is active: drained, and its switch (hosted here) thrown', async () => {
    peer.failing('control');
    const outcome = await probeAt(T0);
    expect(outcome.corrections).toEqual([
      `drained regions set to [${PEER_REGION}] (were [])`,
      `${PEER_REGION}'s evacuation switch (in ${REGION}) set to thrown (was released)`,
    ]);
    expect(await switchAt(REGION)).toBe('thrown');
  });

  it('holds failback while automation is paused, and starts it once resumed', async () => {
    peer.failing('control');
    await probeAt(T0);
    await setPause('FOMC announcement');
    expect((await probeAt(T0 + FAILBACK_AFTER_MS)).action).toBe('paused');
    await documents.send(new DeleteCommand({ TableName: deps.controlTable, Key: { [ControlTableSchema.pk]: ControlTableSchema.automationPauseItem } }));
    expect((await probeAt(T0 + FAILBACK_AFTER_MS + 10_000)).action).toBe('failback-started');
  });

  it('also fails back to a peer that answers 200 (recovered and not drained)', async () => {
    await probeAt(T0);
    expect((await probeAt(T0 + FAILBACK_AFTER_MS)).action).toBe('failback-started');
  });

  it('with automatic failback off, publishes one alert with the command to start it, and not again in the same epoch', async () => {
    peer.failing('control');
    const manual = { autoFailback: false };
    await probeAt(T0, manual);
    expect(await drainAlerts()).toEqual([]);
    const due = await probeAt(T0 + FAILBACK_AFTER_MS + 30_000, manual);
    expect(due.action).toBe('failback-requested');
    expect(due.state.failbackRequestedForEpoch).toBe(6);
    const alerts = await drainAlerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0].subject).toBe(`Failback to ${PEER_REGION} is due`);
    expect(alerts[0].message).toBe(
      `prober in ${REGION}: ${PEER_REGION} has been recovered for 630 s. Automatic failback is off: start it with\n` +
        `  aws stepfunctions start-execution --region ${PEER_REGION} --state-machine-arn ${deps.peerStateMachineArn} --input '{"mode":"planned","reason":"failback"}'`,
    );
    expect(await executions(peerSfn, deps.peerStateMachineArn)).toEqual([]);
    expect((await probeAt(T0 + FAILBACK_AFTER_MS + 90_000, manual)).action).toBe('none');
    expect(await drainAlerts()).toEqual([]);
  });

  it('restarts the recovery clock when the peer fails again before failback is due', async () => {
    peer.failing('control');
    await probeAt(T0);
    peer.failing('control', 'database');
    const relapse = await probeAt(T0 + 400_000);
    expect(relapse.action).toBe('none');
    expect(relapse.state.peerRecoveredSince).toBeUndefined();
    peer.failing('control');
    expect((await probeAt(T0 + 500_000)).state.peerRecoveredSince).toBe(T0 + 500_000);
    expect((await probeAt(T0 + FAILBACK_AFTER_MS)).action).toBe('none');
    expect((await probeAt(T0 + 500_000 + FAILBACK_AFTER_MS)).action).toBe('failback-started');
  });

  it('never fails back to a peer whose journal check fails, nor to one that does not answer', async () => {
    peer.failing('control', 'journal');
    await probeAt(T0);
    expect((await probeAt(T0 + 2 * FAILBACK_AFTER_MS)).state.peerRecoveredSince).toBeUndefined();
    const last = await probeAt(T0 + 4 * FAILBACK_AFTER_MS, { peerApiUrl: async () => 'http://127.0.0.1:9/v1/' });
    expect(last.action).toBe('none');
    expect(await executions(peerSfn, deps.peerStateMachineArn)).toEqual([]);
  });

  it('does not count failures or start a failover of its own while this region is active', async () => {
    peer.failing('database');
    dnsAnswer = [OWN_TARGET];
    for (let probe = 0; probe < 4; probe++) {
      const outcome = await probeAt(T0 + probe * 10_000);
      expect(outcome.action).toBe('none');
      expect(outcome.state.consecutiveFailures).toBe(0);
    }
    expect(await executions(sfn, deps.ownStateMachineArn)).toEqual([]);
  });

  it('fails back again in a later epoch', async () => {
    peer.failing('control');
    await probeAt(T0);
    await probeAt(T0 + FAILBACK_AFTER_MS);
    await setControl(REGION, 8);
    const outcome = await probeAt(T0 + FAILBACK_AFTER_MS + 10_000);
    expect(outcome.action).toBe('failback-started');
    expect((await executions(peerSfn, deps.peerStateMachineArn)).map((execution) => execution.name.slice(0, 16)).sort()).toEqual([
      'auto-failback-e6',
      'auto-failback-e8',
    ]);
  });
});
