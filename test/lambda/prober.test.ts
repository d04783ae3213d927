import { randomBytes } from 'crypto';
import type { IncomingMessage, ServerResponse } from 'http';
import { CreateStateMachineCommand, DescribeExecutionCommand, ListExecutionsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { probeOnce, ProberDependencies } from '../../lambda/prober/prober';
import { fetchGet } from '../../lambda/shared/health-probe';
import { ControlTableSchema } from '../../lambda/shared/tables';
import { createControlTable, documents, silentLogger } from '../helpers/aws';
import { LoopbackApi } from '../helpers/loopback-api';

/**
 * The failover prober against moto_server (control table; Step Functions in both regions, whose
 * executions are read back with ListExecutions; an SNS topic whose alerts land in an SQS queue)
 * and a stand-in for the peer region's /health on loopback. Time moves through the injected `now`.
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
    new CreateStateMachineCommand({ name: unique('failover'), roleArn: ROLE_ARN, definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }) }),
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
  await peer.stop();
});

beforeEach(async () => {
  peer.healthy();
  peer.requests = 0;
  clock = T0;
  const [controlTable, ownStateMachineArn, peerStateMachineArn, alerts] = await Promise.all([createControlTable(), createStateMachine(sfn), createStateMachine(peerSfn), createAlertTopic()]);
  alertQueueUrl = alerts.queueUrl;
  deps = {
    region: REGION,
    peerRegion: PEER_REGION,
    primaryRegion: PEER_REGION,
    controlTable,
    ownStateMachineArn,
    peerStateMachineArn,
    failureThreshold: 3,
    autoFailback: true,
    failbackAfterHealthyMs: FAILBACK_AFTER_MS,
    alertTopicArn: alerts.topicArn,
    httpTimeoutMs: 1000,
    documents,
    sfn,
    peerSfn,
    sns,
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
      Item: { [ControlTableSchema.pk]: ControlTableSchema.activeRegionItem, [ControlTableSchema.activeRegion]: activeRegion, [ControlTableSchema.fencingEpoch]: fencingEpoch },
    }),
  );
}

/** The prober's remembered state, as stored in the control table. */
async function storedState(): Promise<Record<string, unknown> | undefined> {
  return (await documents.send(new GetCommand({ TableName: deps.controlTable, Key: { [ControlTableSchema.pk]: `prober-${REGION}` }, ConsistentRead: true }))).Item;
}

/** Executions of a state machine: name and parsed input. */
async function executions(client: SFNClient, stateMachineArn: string): Promise<{ name: string; input: { mode?: string; reason?: string } }[]> {
  const { executions: listed } = await client.send(new ListExecutionsCommand({ stateMachineArn }));
  const described = [];
  for (const execution of listed ?? []) {
    const { input } = await client.send(new DescribeExecutionCommand({ executionArn: execution.executionArn }));
    described.push({ name: execution.name!, input: JSON.parse(input ?? '{}') as { mode?: string; reason?: string } });
  }
  return described;
}

/** Alerts published so far (through the queue subscribed to the topic). */
async function drainAlerts(): Promise<{ subject: string; message: string }[]> {
  const alerts: { subject: string; message: string }[] = [];
  for (;;) {
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: alertQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (!Messages || Messages.length === 0) return alerts;
    for (const message of Messages) {
      const envelope = JSON.parse(message.Body!) as { Subject: string; Message: string };
      alerts.push({ subject: envelope.Subject, message: envelope.Message });
    }
  }
}

/** One probe at `at` (epoch ms). */
async function probeAt(at: number, overrides: Partial<ProberDependencies> = {}) {
  clock = at;
  return probeOnce({ ...deps, ...overrides });
}

describe('prober while the peer region is active', () => {
  beforeEach(async () => {
    await setControl(PEER_REGION, 5);
  });

  it('does nothing while the peer answers 200, and resets earlier failures', async () => {
    await documents.send(new PutCommand({ TableName: deps.controlTable, Item: { [ControlTableSchema.pk]: `prober-${REGION}`, consecutiveFailures: 2 } }));
    const outcome = await probeAt(T0);
    expect(outcome.action).toBe('none');
    expect(outcome.activeRegion).toBe(PEER_REGION);
    expect(outcome.fencingEpoch).toBe(5);
    expect(outcome.probe).toMatchObject({ answered: true, status: 200, detail: 'healthy' });
    expect(outcome.state).toEqual({ consecutiveFailures: 0 });
    expect(await storedState()).toEqual({ pk: `prober-${REGION}`, consecutiveFailures: 0, lastProbeAt: new Date(T0).toISOString(), lastProbe: 'healthy' });
    expect(peer.requests).toBe(1);
    expect(await executions(sfn, deps.ownStateMachineArn)).toEqual([]);
  });

  it('starts nothing after one failure fewer than the threshold', async () => {
    peer.failing('database');
    expect((await probeAt(T0)).state.consecutiveFailures).toBe(1);
    const second = await probeAt(T0 + 10_000);
    expect(second.action).toBe('none');
    expect(second.state).toEqual({ consecutiveFailures: 2 });
    expect((await storedState())?.consecutiveFailures).toBe(2);
    expect(await executions(sfn, deps.ownStateMachineArn)).toEqual([]);
  });

  it("starts this region's failover (unplanned) once, named for the epoch, after the threshold of consecutive failures", async () => {
    peer.failing('database');
    await probeAt(T0);
    await probeAt(T0 + 10_000);
    const third = await probeAt(T0 + 20_000);
    expect(third.action).toBe('failover-started');
    expect(third.state).toEqual({ consecutiveFailures: 3 });
    const started = await executions(sfn, deps.ownStateMachineArn);
    expect(started).toHaveLength(1);
    expect(started[0].name).toBe('auto-failover-epoch-5');
    expect(started[0].input).toEqual({
      mode: 'unplanned',
      reason: `prober in ${REGION}: 3 consecutive failed probes of ${PEER_REGION} (HTTP 503 (database: down))`,
    });
    expect(await executions(peerSfn, deps.peerStateMachineArn)).toEqual([]);

    // Still failing in the same epoch: the execution under that name exists already.
    const fourth = await probeAt(T0 + 30_000);
    expect(fourth.action).toBe('none');
    expect(fourth.state).toEqual({ consecutiveFailures: 4 });
    expect((await executions(sfn, deps.ownStateMachineArn)).map((execution) => execution.name)).toEqual(['auto-failover-epoch-5']);
  });

  it('starts again in a later epoch (a new fencing epoch is a new failover)', async () => {
    peer.failing('journal');
    for (let probe = 0; probe < 3; probe++) await probeAt(T0 + probe * 10_000);
    await setControl(PEER_REGION, 7);
    const outcome = await probeAt(T0 + 30_000);
    expect(outcome.action).toBe('failover-started');
    expect((await executions(sfn, deps.ownStateMachineArn)).map((execution) => execution.name).sort()).toEqual(['auto-failover-epoch-5', 'auto-failover-epoch-7']);
  });

  it('counts failures from the last 200: a healthy answer in between resets the count', async () => {
    peer.failing('database');
    await probeAt(T0);
    await probeAt(T0 + 10_000);
    peer.healthy();
    expect((await probeAt(T0 + 20_000)).state.consecutiveFailures).toBe(0);
    peer.failing('database');
    await probeAt(T0 + 30_000);
    const fifth = await probeAt(T0 + 40_000);
    expect(fifth.action).toBe('none');
    expect(fifth.state.consecutiveFailures).toBe(2);
    expect(await executions(sfn, deps.ownStateMachineArn)).toEqual([]);
    expect((await probeAt(T0 + 50_000)).action).toBe('failover-started');
  });

  it('counts a peer that does not answer at all, and a drained peer (503 on control only), as failures', async () => {
    await probeAt(T0, { peerApiUrl: async () => 'http://127.0.0.1:9/v1/' });
    peer.failing('control');
    const drained = await probeAt(T0 + 10_000);
    expect(drained.probe).toMatchObject({ answered: true, status: 503 });
    expect(drained.state.consecutiveFailures).toBe(2);
    const third = await probeAt(T0 + 20_000, { peerApiUrl: async () => 'http://127.0.0.1:9/v1/' });
    expect(third.probe.answered).toBe(false);
    expect(third.action).toBe('failover-started');
  });

  it('counts an unreadable peer API URL as a failed probe', async () => {
    const unreadable = {
      peerApiUrl: async (): Promise<string> => {
        throw new Error('ParameterNotFound: /trading-dr/api/url');
      },
    };
    const first = await probeAt(T0, unreadable);
    expect(first.probe).toEqual({ answered: false, checks: [], detail: 'peer API URL unreadable: ParameterNotFound: /trading-dr/api/url', ms: 0 });
    expect(first.state.consecutiveFailures).toBe(1);
    await probeAt(T0 + 10_000, unreadable);
    const third = await probeAt(T0 + 20_000, unreadable);
    expect(third.action).toBe('failover-started');
    expect(peer.requests).toBe(0);
    const [started] = await executions(sfn, deps.ownStateMachineArn);
    expect(started.input.reason).toBe(`prober in ${REGION}: 3 consecutive failed probes of ${PEER_REGION} (peer API URL unreadable: ParameterNotFound: /trading-dr/api/url)`);
  });

  it('fails over from the primary at epoch 0 when no control item exists yet', async () => {
    const fresh = await createControlTable();
    peer.failing('database');
    const overrides = { controlTable: fresh, failureThreshold: 1 };
    const outcome = await probeAt(T0, overrides);
    expect(outcome).toMatchObject({ activeRegion: PEER_REGION, fencingEpoch: 0, action: 'failover-started' });
    expect((await executions(sfn, deps.ownStateMachineArn)).map((execution) => execution.name)).toEqual(['auto-failover-epoch-0']);
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
    expect(first.state).toEqual({ consecutiveFailures: 0, peerRecoveredSince: T0, failbackRequestedForEpoch: undefined });
    expect((await storedState())?.peerRecoveredSince).toBe(T0);

    const early = await probeAt(T0 + FAILBACK_AFTER_MS - 1);
    expect(early.action).toBe('none');
    expect(early.state.peerRecoveredSince).toBe(T0);
    expect(await executions(peerSfn, deps.peerStateMachineArn)).toEqual([]);

    const due = await probeAt(T0 + FAILBACK_AFTER_MS);
    expect(due.action).toBe('failback-started');
    expect(due.state).toEqual({ consecutiveFailures: 0, peerRecoveredSince: T0, failbackRequestedForEpoch: 6 });
    const started = await executions(peerSfn, deps.peerStateMachineArn);
    expect(started).toEqual([{ name: 'auto-failback-epoch-6', input: { mode: 'planned', reason: `prober in ${REGION}: ${PEER_REGION} has been recovered for 600 s` } }]);
    expect(await executions(sfn, deps.ownStateMachineArn)).toEqual([]);
    expect(await drainAlerts()).toEqual([]);

    const later = await probeAt(T0 + FAILBACK_AFTER_MS + 60_000);
    expect(later.action).toBe('none');
    expect(later.state.failbackRequestedForEpoch).toBe(6);
    expect((await storedState())?.failbackRequestedForEpoch).toBe(6);
    expect(await executions(peerSfn, deps.peerStateMachineArn)).toHaveLength(1);
  });

  it('does not report a failback as started when it was started already under this epoch (its record was lost)', async () => {
    // An earlier probe started the failback, then its state write was lost.
    await peerSfn.send(new StartExecutionCommand({ stateMachineArn: deps.peerStateMachineArn, name: 'auto-failback-epoch-6', input: JSON.stringify({ mode: 'planned', reason: 'earlier probe' }) }));
    peer.failing('control');
    await probeAt(T0);
    const due = await probeAt(T0 + FAILBACK_AFTER_MS + 10_000);
    expect(due.action).toBe('none');
    // Recorded as requested all the same, so later probes in this epoch do not try again.
    expect(due.state.failbackRequestedForEpoch).toBe(6);
    expect(await executions(peerSfn, deps.peerStateMachineArn)).toEqual([{ name: 'auto-failback-epoch-6', input: { mode: 'planned', reason: 'earlier probe' } }]);
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

    const again = await probeAt(T0 + FAILBACK_AFTER_MS + 90_000, manual);
    expect(again.action).toBe('none');
    expect(await drainAlerts()).toEqual([]);
  });

  it('restarts the recovery clock when the peer fails again before failback is due', async () => {
    peer.failing('control');
    await probeAt(T0);
    peer.failing('control', 'database');
    const relapse = await probeAt(T0 + 400_000);
    expect(relapse.action).toBe('none');
    expect(relapse.state.peerRecoveredSince).toBeUndefined();
    expect(await storedState()).not.toHaveProperty('peerRecoveredSince');

    peer.failing('control');
    const recovered = await probeAt(T0 + 500_000);
    expect(recovered.state.peerRecoveredSince).toBe(T0 + 500_000);
    // Due 600 s after the first recovery had it not relapsed; not due now.
    expect((await probeAt(T0 + FAILBACK_AFTER_MS)).action).toBe('none');
    expect((await probeAt(T0 + 500_000 + FAILBACK_AFTER_MS - 1)).action).toBe('none');
    expect(await executions(peerSfn, deps.peerStateMachineArn)).toEqual([]);
    expect((await probeAt(T0 + 500_000 + FAILBACK_AFTER_MS)).action).toBe('failback-started');
  });

  it('never fails back to a peer whose journal check fails, nor to one that does not answer', async () => {
    peer.failing('control', 'journal');
    await probeAt(T0);
    expect((await probeAt(T0 + 2 * FAILBACK_AFTER_MS)).state.peerRecoveredSince).toBeUndefined();
    await probeAt(T0 + 3 * FAILBACK_AFTER_MS, { peerApiUrl: async () => 'http://127.0.0.1:9/v1/' });
    const last = await probeAt(T0 + 4 * FAILBACK_AFTER_MS, { peerApiUrl: async () => 'http://127.0.0.1:9/v1/' });
    expect(last.action).toBe('none');
    expect(last.state.peerRecoveredSince).toBeUndefined();
    expect(await executions(peerSfn, deps.peerStateMachineArn)).toEqual([]);
    expect(await drainAlerts()).toEqual([]);
  });

  it('does not count failures or start a failover of its own while this region is active', async () => {
    peer.failing('database');
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
    expect((await executions(peerSfn, deps.peerStateMachineArn)).map((execution) => execution.name).sort()).toEqual(['auto-failback-epoch-6', 'auto-failback-epoch-8']);
  });
});
