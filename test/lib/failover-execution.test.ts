import { randomBytes } from 'crypto';
import type { IncomingMessage, ServerResponse } from 'http';
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Template } from 'aws-cdk-lib/assertions';
import { FailoverFigures, runStep, StepDependencies } from '../../lambda/failover-steps/steps';
import { reconcileJournal } from '../../lambda/reconcile/reconcile';
import type { Database } from '../../lambda/shared/database';
import { fetchGet } from '../../lambda/shared/health-probe';
import { ControlTableSchema } from '../../lambda/shared/tables';
import { createJournalTable, documents, silentLogger } from '../helpers/aws';
import { namingFor, synthDeployment } from '../helpers/app';
import { LoopbackApi } from '../helpers/loopback-api';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { journalOrder, migratedDatabase } from '../helpers/orders';
import { ExecutionResult, runStateMachine, stateMachineFromTemplate, taskError } from '../helpers/state-machine';

/**
 * The secondary's failover state machine, taken from the synthesized template, executed locally
 * (aws-local-stepfunctions through test/helpers/state-machine.ts): its DynamoDB, CloudWatch, SNS
 * and EventBridge tasks run against moto_server, its Lambda steps are the real handlers' logic
 * against moto_server, the loopback PostgreSQL and stand-in APIs on loopback, and Aurora's
 * global cluster (which nothing here can emulate) is a scripted fake whose promotion can be
 * slow, busy or never complete.
 */

const REGION = 'us-east-2';
const PEER_REGION = 'us-east-1';
const { deployment, config } = synthDeployment();
const template = Template.fromStack(deployment.secondary.regionalStack).toJSON();
const naming = namingFor(config, REGION);
const CONTROL_TABLE = naming.name('table', 'control');
const OWN_CLUSTER_ARN = `arn:aws:rds:${REGION}:111111111111:cluster:${naming.name('dbCluster', 'orders')}`;
const PEER_CLUSTER_ARN = `arn:aws:rds:${PEER_REGION}:111111111111:cluster:${namingFor(config, PEER_REGION).name('dbCluster', 'orders')}`;
const API_TARGET = 'd-target.execute-api.us-east-2.amazonaws.com';

const cloudwatch = new CloudWatchClient({});
const sns = new SNSClient({});
const sqs = new SQSClient({});
const eventbridge = new EventBridgeClient({});

function logicalIdOfType(type: string): string {
  const ids = Object.entries(template.Resources as Record<string, { Type: string }>).filter(([, resource]) => resource.Type === type).map(([id]) => id);
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.join(', ') || 'none'}`);
  return ids[0];
}

/** A region's API as the failover steps see it: /health with a chosen answer, and the order routes for the canary. */
class StandInApi extends LoopbackApi {
  public healthStatus = 200;
  public failingChecks: string[] = [];

  protected answer(request: IncomingMessage, response: ServerResponse): void {
    if (request.url === '/v1/health') {
      this.send(response, this.healthStatus, this.healthBody(this.healthStatus, this.failingChecks));
    } else if (request.method === 'POST' && request.url === '/v1/orders') {
      this.send(response, 201, { status: 'accepted' });
    } else if (request.method === 'GET' && request.url?.startsWith('/v1/orders/')) {
      this.send(response, 200, { source: 'database' });
    } else {
      this.send(response, 404, { error: 'not_found' });
    }
  }
}

/** Aurora's global cluster, scripted: who is the writer, and how a promotion goes. */
class ScriptedGlobalCluster {
  public writer = PEER_CLUSTER_ARN;
  public status = 'available';
  /** Describe calls that still report the promotion under way. */
  public promotionPolls = 2;
  /** The promotion never ends. */
  public neverCompletes = false;
  /** Promotion requests refused as busy before one is accepted. */
  public busyRefusals = 0;
  public readonly calls: string[] = [];
  private target?: string;

  describe(): unknown {
    this.calls.push('describe');
    if (this.target && !this.neverCompletes) {
      if (this.promotionPolls > 0) {
        this.promotionPolls--;
      } else {
        this.writer = this.target;
        this.status = 'available';
        this.target = undefined;
      }
    }
    return {
      GlobalClusters: [
        {
          GlobalClusterIdentifier: 'aurora-global-orders-dev',
          Status: this.status,
          GlobalClusterMembers: [OWN_CLUSTER_ARN, PEER_CLUSTER_ARN].map((arn) => ({ DBClusterArn: arn, IsWriter: arn === this.writer })),
        },
      ],
    };
  }

  promote(kind: 'switchover' | 'failover', input: { TargetDbClusterIdentifier: string; AllowDataLoss?: boolean }): unknown {
    this.calls.push(kind);
    if (this.busyRefusals > 0) {
      this.busyRefusals--;
      throw taskError('Rds.InvalidGlobalClusterStateException', 'the global cluster is busy');
    }
    if (kind === 'failover' && input.AllowDataLoss !== true) throw new Error('an unplanned failover must allow data loss');
    this.target = input.TargetDbClusterIdentifier;
    this.status = kind === 'switchover' ? 'switching-over' : 'failing-over';
    return {};
  }
}

interface Scenario {
  readonly cluster: ScriptedGlobalCluster;
  readonly figures: FailoverFigures[];
  /** When false, the peer's API and CloudWatch do not answer (its region is down). */
  peerUp: boolean;
  /** Runs after preflight's real work: a place to change the world between two steps. */
  afterPreflight?: () => Promise<void>;
}

let ownApi: StandInApi;
let peerApi: StandInApi;
let testDatabase: TestDatabase;
let database: Database;
let journalTable: string;
let alertQueueUrl: string;
let substitutions: Record<string, string>;

async function createControlTableOnce(): Promise<void> {
  try {
    await documents.send(
      new CreateTableCommand({
        TableName: CONTROL_TABLE,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: ControlTableSchema.pk, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: ControlTableSchema.pk, KeyType: 'HASH' }],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}

beforeAll(async () => {
  ownApi = new StandInApi();
  peerApi = new StandInApi();
  await Promise.all([ownApi.start(), peerApi.start(), createControlTableOnce()]);
  testDatabase = await createTestDatabase('failover');
  database = await migratedDatabase(testDatabase);
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: `alerts-${randomBytes(4).toString('hex')}` }))).TopicArn!;
  alertQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `alerts-${randomBytes(4).toString('hex')}` }))).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: alertQueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
  const busName = `bus-${randomBytes(4).toString('hex')}`;
  await eventbridge.send(new CreateEventBusCommand({ Name: busName }));
  substitutions = {
    [logicalIdOfType('AWS::SNS::Topic')]: topicArn,
    [logicalIdOfType('AWS::Events::EventBus')]: busName,
    [`${logicalIdOfType('AWS::Events::EventBus')}.Arn`]: `arn:aws:events:us-east-1:123456789012:event-bus/${busName}`,
  };
});

afterAll(async () => {
  await database?.end();
  await testDatabase?.drop();
  await Promise.all([ownApi?.stop(), peerApi?.stop()]);
});

beforeEach(async () => {
  ownApi.healthStatus = 200;
  ownApi.failingChecks = [];
  peerApi.healthStatus = 200;
  peerApi.failingChecks = [];
  for (const pk of [ControlTableSchema.activeRegionItem, ControlTableSchema.failoverLockItem]) {
    await documents.send(new DeleteCommand({ TableName: CONTROL_TABLE, Key: { [ControlTableSchema.pk]: pk } }));
  }
  journalTable = await createJournalTable();
  await drainAlerts();
});

function scenario(): Scenario {
  return { cluster: new ScriptedGlobalCluster(), figures: [], peerUp: true };
}

function stepDependencies(world: Scenario): StepDependencies {
  return {
    region: REGION,
    peerRegion: PEER_REGION,
    primaryRegion: PEER_REGION,
    controlTable: CONTROL_TABLE,
    ownApiUrl: ownApi.url,
    apiHostName: 'api.trading.example.com',
    ownApiTarget: API_TARGET,
    dbClusterId: naming.name('dbCluster', 'orders'),
    metricNamespace: naming.metricNamespace(),
    ownEvacuationMetric: { metricName: 'EvacuateRegion', region: REGION },
    lockSeconds: 3600,
    validationTimeoutMs: 3000,
    httpTimeoutMs: 1000,
    pollMs: 20,
    documents,
    cloudwatch,
    // A dead region: nothing listens where its CloudWatch would be.
    peerCloudwatch: world.peerUp ? cloudwatch : new CloudWatchClient({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1 }),
    peerApiUrl: async () => (world.peerUp ? peerApi.url : 'http://127.0.0.1:9/v1/'),
    get: fetchGet,
    signed: async (request) => {
      const response = await fetch(request.url, { method: request.method, body: request.body });
      return { status: response.status, body: await response.text() };
    },
    // DNS is Route 53's to answer; here it answers with this region's target, as it would once traffic moved.
    resolveCname: async () => [API_TARGET],
    history: async () => [],
    emit: (figures) => world.figures.push(figures),
    logger: silentLogger,
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

async function run(world: Scenario, input: unknown): Promise<ExecutionResult> {
  const { definition } = stateMachineFromTemplate(template, { stateMachineName: naming.name('stateMachine', 'failover') }, substitutions, { region: REGION, account: '111111111111' });
  const deps = stepDependencies(world);
  const step = (event: unknown) => runStep(event, deps);
  return runStateMachine(definition, input, {
    handlers: {
      'Preflight: check regions': async (event) => {
        const result = await step(event);
        await world.afterPreflight?.();
        return result;
      },
      'Fence: release own evacuation switch': step,
      'Validate: region serves': step,
      'Record: durations': step,
      'Alert: record failure': step,
      'Reconcile: replay journal': () =>
        reconcileJournal({
          database,
          documents,
          journalTable,
          controlTable: CONTROL_TABLE,
          region: REGION,
          primaryRegion: PEER_REGION,
          logger: silentLogger,
          pendingShards: 4,
          pageSize: 25,
          remainingMs: () => 60_000,
          reserveMs: 1000,
        }),
      'Promote: read global cluster': () => world.cluster.describe(),
      'Promote: read progress': () => world.cluster.describe(),
      'Promote: switchover': (event) => world.cluster.promote('switchover', event),
      'Promote: failover allowing data loss': (event) => world.cluster.promote('failover', event),
    },
    waitTimeOverrides: { 'Promote: wait': 0 },
    retryIntervalOverrides: { 'Promote: switchover': 0, 'Promote: failover allowing data loss': 0 },
    stateMachineName: naming.name('stateMachine', 'failover'),
  });
}

async function controlItem(pk: string): Promise<Record<string, unknown> | undefined> {
  return (await documents.send(new GetCommand({ TableName: CONTROL_TABLE, Key: { [ControlTableSchema.pk]: pk }, ConsistentRead: true }))).Item;
}

async function activeRegion(): Promise<{ activeRegion?: unknown; fencingEpoch?: unknown; drainedRegions?: unknown }> {
  const item = await controlItem(ControlTableSchema.activeRegionItem);
  return { activeRegion: item?.activeRegion, fencingEpoch: item?.fencingEpoch, drainedRegions: item?.drainedRegions instanceof Set ? [...item.drainedRegions] : item?.drainedRegions };
}

/** The alert subjects published to the topic so far (through its SQS subscription). */
async function drainAlerts(): Promise<string[]> {
  const subjects: string[] = [];
  for (;;) {
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: alertQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (!Messages || Messages.length === 0) return subjects;
    for (const message of Messages) subjects.push((JSON.parse(message.Body!) as { Subject: string }).Subject);
  }
}

/** The latest value of a region's evacuation metric in moto's CloudWatch. */
async function evacuationValue(region: string): Promise<number | undefined> {
  const end = new Date(Date.now() + 60_000);
  const { Datapoints } = await cloudwatch.send(
    new GetMetricStatisticsCommand({
      Namespace: naming.metricNamespace(),
      MetricName: 'EvacuateRegion',
      Dimensions: [{ Name: 'Region', Value: region }],
      StartTime: new Date(end.getTime() - 600_000),
      EndTime: end,
      Period: 60,
      Statistics: ['Minimum', 'Maximum'],
    }),
  );
  return Datapoints?.length ? Math.max(...Datapoints.map((point) => point.Maximum ?? 0)) : undefined;
}

/** States in the order the run entered them, each once (loops shown once). */
function distinct(path: string[]): string[] {
  return path.filter((state, index) => path.indexOf(state) === index);
}

describe('failover state machine, executed from the synthesized definition', () => {
  it('planned: fences, evacuates the peer, switches over, waits for the writer, replays the journal, validates and notifies', async () => {
    const world = scenario();
    const pending = await Promise.all(
      [1, 2, 3].map((index) => journalOrder(journalTable, { clientOrderId: `before-failover-${index}`, accountId: 'acct-1', symbol: 'MSFT', side: 'buy', orderType: 'market', quantity: '1' })),
    );
    expect(pending).toHaveLength(3);

    const result = await run(world, { mode: 'planned', reason: 'drill' });

    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    expect(distinct(result.path)).toEqual([
      'Preflight: valid input?',
      'Preflight: check regions',
      'Preflight: ready?',
      'Preflight: acquire lock',
      'Preflight: announce start',
      'Fence: set active region',
      'Fence: evacuate peer region',
      'Fence: release own evacuation switch',
      'Promote: read global cluster',
      'Promote: already writer?',
      'Promote: switchover',
      'Promote: start polling',
      'Promote: wait',
      'Promote: read progress',
      'Promote: writer yet?',
      'Promote: count poll',
      'Promote: done',
      'Reconcile: replay journal',
      'Reconcile: complete?',
      'Validate: name canary',
      'Validate: region serves',
      'Record: durations',
      'Notify: alert',
      'Notify: event',
      'Unlock: release',
      'Done',
    ]);
    // Two polls saw the switchover under way, the third saw this region as the writer.
    expect(result.path.filter((state) => state === 'Promote: read progress')).toHaveLength(3);
    expect(world.cluster.calls).toEqual(['describe', 'switchover', 'describe', 'describe', 'describe']);
    expect(world.cluster.writer).toBe(OWN_CLUSTER_ARN);
    expect(await activeRegion()).toEqual({ activeRegion: REGION, fencingEpoch: 1, drainedRegions: [PEER_REGION] });
    expect(await controlItem(ControlTableSchema.failoverLockItem)).toBeUndefined();
    expect(await evacuationValue(PEER_REGION)).toBe(1);
    const rows = await database.query<{ client_order_id: string; fencing_epoch: number }>('read', 'SELECT client_order_id, fencing_epoch FROM orders ORDER BY client_order_id');
    expect(rows.filter((row) => row.client_order_id.startsWith('before-failover-')).map((row) => [row.client_order_id, Number(row.fencing_epoch)])).toEqual([
      ['before-failover-1', 1],
      ['before-failover-2', 1],
      ['before-failover-3', 1],
    ]);
    expect(result.output).toEqual(expect.objectContaining({ reconcile: expect.objectContaining({ applied: 3, complete: true }) }));
    expect(world.figures).toEqual([expect.objectContaining({ outcome: 'succeeded', mode: 'planned' })]);
    expect(await drainAlerts()).toEqual([`Failover to ${REGION} completed`]);
  });

  it('unplanned with the other region down: fails over allowing data loss and carries on without releasing its own switch there', async () => {
    const world = scenario();
    world.peerUp = false;
    const result = await run(world, { mode: 'unplanned', reason: 'us-east-1 unreachable' });

    expect(result.status).toBe('SUCCEEDED');
    expect(result.path).toContain('Promote: failover allowing data loss');
    expect(result.path).not.toContain('Promote: switchover');
    expect(result.path).toContain('Fence: own switch not released');
    expect(world.cluster.calls).toContain('failover');
    expect(await activeRegion()).toEqual({ activeRegion: REGION, fencingEpoch: 1, drainedRegions: [PEER_REGION] });
    expect(await controlItem(ControlTableSchema.failoverLockItem)).toBeUndefined();
  });

  it('waits out a busy global cluster: the switchover is retried with backoff, then succeeds', async () => {
    const world = scenario();
    world.cluster.busyRefusals = 2;
    world.cluster.promotionPolls = 5;
    const result = await run(world, { mode: 'planned', reason: 'drill' });

    expect(result.status).toBe('SUCCEEDED');
    expect(world.cluster.calls.filter((call) => call === 'switchover')).toHaveLength(3);
    expect(result.path.filter((state) => state === 'Promote: wait')).toHaveLength(6);
    expect(world.cluster.writer).toBe(OWN_CLUSTER_ARN);
  });

  it('planned whose promotion never completes: times out, puts the active region back, releases the peer, alerts, unlocks', async () => {
    const world = scenario();
    world.cluster.neverCompletes = true;
    const result = await run(world, { mode: 'planned', reason: 'drill' });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('PromotionTimedOut');
    expect(result.error?.cause).toMatch(/did not become the writer/);
    expect(distinct(result.path).slice(-9)).toEqual([
      'Promote: timed out',
      'Rollback: needed?',
      'Rollback: restore active region',
      'Rollback: release peer evacuation switch',
      'Alert: failure',
      'Alert: failure event',
      'Alert: record failure',
      'Unlock: release after failure',
      'Failed',
    ]);
    // Back where it was, under a newer epoch, so nothing fenced by this run commits under the old one.
    expect(await activeRegion()).toEqual({ activeRegion: PEER_REGION, fencingEpoch: 2, drainedRegions: undefined });
    expect(await evacuationValue(PEER_REGION)).toBe(1);
    expect(await controlItem(ControlTableSchema.failoverLockItem)).toBeUndefined();
    expect(world.figures).toEqual([expect.objectContaining({ outcome: 'failed' })]);
    expect(await drainAlerts()).toEqual([`Failover to ${REGION} FAILED`]);
  });

  it('unplanned whose promotion never completes: keeps the fence (the old region is gone), alerts and unlocks', async () => {
    const world = scenario();
    world.peerUp = false;
    world.cluster.neverCompletes = true;
    const result = await run(world, { mode: 'unplanned', reason: 'outage' });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('PromotionTimedOut');
    expect(result.path).not.toContain('Rollback: restore active region');
    expect(await activeRegion()).toEqual({ activeRegion: REGION, fencingEpoch: 1, drainedRegions: [PEER_REGION] });
    expect(await controlItem(ControlTableSchema.failoverLockItem)).toBeUndefined();
    expect(await drainAlerts()).toEqual([`Failover to ${REGION} FAILED`]);
  });

  it('stops when another failover holds the lock, touching nothing and leaving that lock alone', async () => {
    const world = scenario();
    const otherLock = { [ControlTableSchema.pk]: ControlTableSchema.failoverLockItem, holder: 'arn:aws:states:us-east-1:111111111111:execution:other:run', expiresAt: Math.floor(Date.now() / 1000) + 600 };
    await documents.send(new PutCommand({ TableName: CONTROL_TABLE, Item: otherLock }));

    const result = await run(world, { mode: 'planned', reason: 'drill' });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('FailoverInProgress');
    expect(result.path.slice(-2)).toEqual(['Preflight: acquire lock', 'Preflight: another failover is running']);
    expect(await controlItem(ControlTableSchema.failoverLockItem)).toEqual(otherLock);
    expect(await activeRegion()).toEqual({ activeRegion: undefined, fencingEpoch: undefined, drainedRegions: undefined });
    expect(world.cluster.calls).toEqual([]);
  });

  it('takes over a lock that has lapsed (a crashed run must not block failover forever)', async () => {
    const world = scenario();
    await documents.send(
      new PutCommand({ TableName: CONTROL_TABLE, Item: { [ControlTableSchema.pk]: ControlTableSchema.failoverLockItem, holder: 'crashed', expiresAt: Math.floor(Date.now() / 1000) - 1 } }),
    );
    const result = await run(world, { mode: 'planned', reason: 'drill' });
    expect(result.status).toBe('SUCCEEDED');
  });

  it('stops on a fencing conflict: a concurrent change of the epoch wins, and this run changes nothing', async () => {
    const world = scenario();
    const concurrent = { [ControlTableSchema.pk]: ControlTableSchema.activeRegionItem, activeRegion: PEER_REGION, fencingEpoch: 5 };
    world.afterPreflight = async () => {
      await documents.send(new PutCommand({ TableName: CONTROL_TABLE, Item: concurrent }));
    };
    const result = await run(world, { mode: 'planned', reason: 'drill' });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('DynamoDB.ConditionalCheckFailedException');
    expect(distinct(result.path)).toEqual(expect.arrayContaining(['Fence: set active region', 'Rollback: needed?', 'Alert: failure', 'Unlock: release after failure', 'Failed']));
    expect(result.path).not.toContain('Fence: evacuate peer region');
    expect(result.path).not.toContain('Rollback: restore active region');
    expect(await activeRegion()).toEqual({ activeRegion: PEER_REGION, fencingEpoch: 5, drainedRegions: undefined });
    expect(await controlItem(ControlTableSchema.failoverLockItem)).toBeUndefined();
    expect(world.cluster.calls).toEqual([]);
  });

  it('refuses a planned failover when the other region does not answer (a switchover needs it), before taking the lock', async () => {
    const world = scenario();
    world.peerUp = false;
    const result = await run(world, { mode: 'planned', reason: 'drill' });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('PreflightFailed');
    expect(result.error?.cause).toMatch(/start an unplanned failover instead/);
    expect(result.path).not.toContain('Preflight: acquire lock');
    expect(await activeRegion()).toEqual({ activeRegion: undefined, fencingEpoch: undefined, drainedRegions: undefined });
  });

  it('refuses to take over when its own region cannot serve', async () => {
    const world = scenario();
    ownApi.healthStatus = 503;
    ownApi.failingChecks = ['database'];
    const result = await run(world, { mode: 'unplanned', reason: 'outage' });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('PreflightFailed');
    expect(result.error?.cause).toMatch(/this region cannot serve: HTTP 503 \(database: down\)/);
  });

  it('skips the promotion when this region is already the writer (a rerun after a failed validation)', async () => {
    const world = scenario();
    world.cluster.writer = OWN_CLUSTER_ARN;
    const result = await run(world, { mode: 'planned', reason: 'rerun' });

    expect(result.status).toBe('SUCCEEDED');
    expect(result.path).not.toContain('Promote: switchover');
    expect(world.cluster.calls).toEqual(['describe']);
  });

  it.each([
    [{ reason: 'no mode' }],
    [{ mode: 'sideways', reason: 'bad mode' }],
    [{ mode: 'planned' }],
  ])('refuses input %j before doing anything', async (input) => {
    const world = scenario();
    const result = await run(world, input);
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('InvalidInput');
    expect(result.path).toEqual(['Preflight: valid input?', 'Preflight: invalid input']);
  });
});
