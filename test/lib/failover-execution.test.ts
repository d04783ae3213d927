import { randomBytes } from 'crypto';
import type { IncomingMessage, ServerResponse } from 'http';
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Template } from 'aws-cdk-lib/assertions';
import { FailoverFigures, runStep, StepDependencies } from '../../lambda/failover-steps/steps';
import { reconcileJournal } from '../../lambda/reconcile/reconcile';
import { readControlState } from '../../lambda/shared/control';
import type { Database } from '../../lambda/shared/database';
import { fetchGet } from '../../lambda/shared/health-probe';
import { readSwitch, SwitchRef } from '../../lambda/shared/switches';
import { ControlTableSchema } from '../../lambda/shared/tables';
import { FAILED_NOTIFICATION_METRIC } from '../../lib/failover-orchestrator';
import { ParameterKey } from '../../lib/naming';
import { AuroraGlobalModel } from '../helpers/aurora-global';
import { createJournalTable, documents, silentLogger } from '../helpers/aws';
import { namingFor, synthDeployment } from '../helpers/app';
import { LoopbackApi } from '../helpers/loopback-api';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { journalOrder, migratedDatabase } from '../helpers/orders';
import { Route53FailoverModel } from '../helpers/route53-failover';
import { ExecutionResult, runStateMachine, stateMachineFromTemplate, taskError } from '../helpers/state-machine';

/**
 * Both regions' failover state machines, taken from the synthesized templates and executed locally
 * (aws-local-stepfunctions through test/helpers/state-machine.ts), in one world:
 * - their DynamoDB, CloudWatch, SNS and EventBridge tasks run against moto_server, and so do the
 *   steps' SSM and CloudWatch calls, in the region each call names;
 * - their Lambda steps are the real handlers' logic against moto_server, the loopback PostgreSQL
 *   and each region's API stood in for on loopback, whose /health reads the control table as the
 *   health function does (drained: 503);
 * - Aurora's global database is the model of test/helpers/aurora-global.ts (switchover only in
 *   the primary's region, failover in the target's, lag, the old primary rejoining);
 * - DNS is Route 53's failover rule (test/helpers/route53-failover.ts) over each region's /health
 *   and its evacuation switch, whose position is its parameter in the host region (the switch
 *   keeper republishes it every minute, test/lambda/switch-keeper.test.ts);
 * - a region that is down answers nothing: API, SSM, CloudWatch and RDS.
 */

const PRIMARY = 'us-east-1';
const SECONDARY = 'us-east-2';
const REGIONS = [PRIMARY, SECONDARY] as const;
type Region = (typeof REGIONS)[number];
const ACCOUNT = '111111111111';
const CLOSED = 'http://127.0.0.1:9';

const { deployment, config } = synthDeployment();
const templates: Record<Region, Record<string, any>> = {
  [PRIMARY]: Template.fromStack(deployment.primary.regionalStack).toJSON(),
  [SECONDARY]: Template.fromStack(deployment.secondary.regionalStack).toJSON(),
};
const namings = { [PRIMARY]: namingFor(config, PRIMARY), [SECONDARY]: namingFor(config, SECONDARY) };
const naming = namings[SECONDARY];
const CONTROL_TABLE = naming.name('table', 'control');
const SWITCH_PARAMETER = naming.parameterName(ParameterKey.evacuationSwitch);
const CLUSTER_ARNS: Record<Region, string> = {
  [PRIMARY]: `arn:aws:rds:${PRIMARY}:${ACCOUNT}:cluster:${namings[PRIMARY].name('dbCluster', 'orders')}`,
  [SECONDARY]: `arn:aws:rds:${SECONDARY}:${ACCOUNT}:cluster:${namings[SECONDARY].name('dbCluster', 'orders')}`,
};
const TARGETS: Record<Region, string> = { [PRIMARY]: 'd-primary.execute-api.us-east-1.amazonaws.com', [SECONDARY]: 'd-secondary.execute-api.us-east-2.amazonaws.com' };
const peerOf = (region: Region): Region => (region === PRIMARY ? SECONDARY : PRIMARY);

const cloudwatch: Record<Region, CloudWatchClient> = { [PRIMARY]: new CloudWatchClient({ region: PRIMARY }), [SECONDARY]: new CloudWatchClient({ region: SECONDARY }) };
const ssm: Record<Region, SSMClient> = { [PRIMARY]: new SSMClient({ region: PRIMARY }), [SECONDARY]: new SSMClient({ region: SECONDARY }) };
const deadRegion = { ssm: new SSMClient({ region: PRIMARY, endpoint: CLOSED, maxAttempts: 1 }), cloudwatch: new CloudWatchClient({ region: PRIMARY, endpoint: CLOSED, maxAttempts: 1 }) };
const sns = new SNSClient({});
const sqs = new SQSClient({});
const eventbridge = new EventBridgeClient({});

/** A region's API as the failover steps see it: /health from the control table, and the order routes for the canary. */
class RegionApi extends LoopbackApi {
  public databaseOk = true;
  public reachable = true;

  constructor(private readonly region: Region) {
    super();
  }

  /** What /health answers (lambda/health/checks.ts: 503 when drained or when the database fails). */
  async health(): Promise<{ status: number; failing: string[] }> {
    const control = await readControlState(documents, CONTROL_TABLE, PRIMARY);
    const failing = [...(this.databaseOk ? [] : ['database']), ...(control.drainedRegions.includes(this.region) ? ['control'] : [])];
    return { status: failing.length === 0 ? 200 : 503, failing };
  }

  protected answer(request: IncomingMessage, response: ServerResponse): void {
    if (!this.reachable) {
      request.socket.destroy();
      return;
    }
    if (request.url === '/v1/health') {
      void this.health().then(({ status, failing }) => this.send(response, status, this.healthBody(status, failing)));
    } else if (request.method === 'POST' && request.url === '/v1/orders') {
      this.send(response, 201, { status: 'accepted' });
    } else if (request.method === 'GET' && request.url?.startsWith('/v1/orders/')) {
      this.send(response, 200, { source: 'database' });
    } else {
      this.send(response, 404, { error: 'not_found' });
    }
  }
}

/** Everything one test changes: which regions are down, Aurora, DNS. */
class World {
  readonly aurora = new AuroraGlobalModel(naming.name('globalCluster', 'orders'), CLUSTER_ARNS, PRIMARY);
  readonly down = new Set<Region>();
  readonly figures: FailoverFigures[] = [];
  readonly dns = new Route53FailoverModel(
    { target: TARGETS[PRIMARY], healthy: () => this.recordHealthy(PRIMARY) },
    { target: TARGETS[SECONDARY], healthy: () => this.recordHealthy(SECONDARY) },
  );
  /** Runs after preflight's real work: a place to change the world between two steps. */
  afterPreflight?: () => Promise<void>;
  /** Runs before a rollback re-reads the global cluster. */
  beforeRollbackRead?: () => void;

  setDown(region: Region, down: boolean): void {
    if (down) this.down.add(region);
    else this.down.delete(region);
    apis[region].reachable = !down;
    this.aurora.setRegionUp(region, !down);
  }

  /** The record's calculated check: /health answers 200 AND the region's switch is released. */
  async recordHealthy(region: Region): Promise<boolean> {
    const endpoint = !this.down.has(region) && (await apis[region].health()).status === 200;
    const host = peerOf(region);
    // A switch whose host region is down has no data stream: LastKnownStatus keeps its position.
    return endpoint && (await switchPosition(region, host)) === 'released';
  }
}

const apis: Record<Region, RegionApi> = { [PRIMARY]: new RegionApi(PRIMARY), [SECONDARY]: new RegionApi(SECONDARY) };
let testDatabase: TestDatabase;
let database: Database;
let journalTable: string;
let alertQueueUrl: string;
const substitutions: Record<Region, Record<string, string>> = { [PRIMARY]: {}, [SECONDARY]: {} };

function switchRef(evacuatedRegion: Region, hostRegion: Region): SwitchRef {
  return { evacuatedRegion, hostRegion, parameterName: SWITCH_PARAMETER, namespace: naming.metricNamespace(), metricName: 'EvacuateRegion' };
}

async function switchPosition(evacuatedRegion: Region, hostRegion: Region = peerOf(evacuatedRegion)): Promise<string> {
  return readSwitch(ssm[hostRegion], switchRef(evacuatedRegion, hostRegion));
}

function logicalIdOfType(template: Record<string, any>, type: string): string {
  const ids = Object.entries(template.Resources as Record<string, { Type: string }>).filter(([, resource]) => resource.Type === type).map(([id]) => id);
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.join(', ') || 'none'}`);
  return ids[0];
}

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
  await Promise.all([apis[PRIMARY].start(), apis[SECONDARY].start(), createControlTableOnce()]);
  testDatabase = await createTestDatabase('failover');
  database = await migratedDatabase(testDatabase);
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: `alerts-${randomBytes(4).toString('hex')}` }))).TopicArn!;
  alertQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `alerts-${randomBytes(4).toString('hex')}` }))).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: alertQueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
  const busName = `bus-${randomBytes(4).toString('hex')}`;
  await eventbridge.send(new CreateEventBusCommand({ Name: busName }));
  for (const region of REGIONS) {
    const template = templates[region];
    const controlTableId = Object.entries(template.Resources as Record<string, { Type: string; Properties?: { TableName?: string } }>).find(
      ([, resource]) => resource.Type === 'AWS::DynamoDB::GlobalTable' && resource.Properties?.TableName === CONTROL_TABLE,
    )?.[0];
    substitutions[region] = {
      // The primary creates the global tables (the secondary refers to them by name).
      ...(controlTableId ? { [controlTableId]: CONTROL_TABLE, [`${controlTableId}.Arn`]: `arn:aws:dynamodb:${region}:${ACCOUNT}:table/${CONTROL_TABLE}` } : {}),
      [logicalIdOfType(template, 'AWS::SNS::Topic')]: topicArn,
      [logicalIdOfType(template, 'AWS::Events::EventBus')]: busName,
      [`${logicalIdOfType(template, 'AWS::Events::EventBus')}.Arn`]: `arn:aws:events:us-east-1:123456789012:event-bus/${busName}`,
    };
  }
});

afterAll(async () => {
  for (const client of [...Object.values(cloudwatch), ...Object.values(ssm), deadRegion.ssm, deadRegion.cloudwatch, sns, sqs, eventbridge]) client.destroy();
  await database?.end();
  await testDatabase?.drop();
  await Promise.all(REGIONS.map((region) => apis[region].stop()));
});

beforeEach(async () => {
  for (const region of REGIONS) {
    apis[region].databaseOk = true;
    apis[region].reachable = true;
    await ssm[region].send(new DeleteParameterCommand({ Name: SWITCH_PARAMETER })).catch(() => undefined);
  }
  for (const pk of [ControlTableSchema.activeRegionItem, ControlTableSchema.failoverLockItem]) {
    await documents.send(new DeleteCommand({ TableName: CONTROL_TABLE, Key: { [ControlTableSchema.pk]: pk } }));
  }
  journalTable = await createJournalTable();
  await drainAlerts();
});

/** A setting of the steps function, as the template gives it to the handler (the seam between the two). */
function stepsEnvironment(template: Record<string, any>, region: Region, variable: string): string {
  const functionName = namings[region].name('function', 'failover-steps');
  const [steps] = Object.values(template.Resources as Record<string, any>).filter((resource) => resource.Type === 'AWS::Lambda::Function' && resource.Properties.FunctionName === functionName);
  const value = steps?.Properties.Environment.Variables[variable];
  if (typeof value !== 'string') throw new Error(`${functionName} has no ${variable} in the template`);
  return value;
}

function stepDependencies(world: World, region: Region, template: Record<string, any> = templates[region]): StepDependencies {
  const peer = peerOf(region);
  return {
    region,
    peerRegion: peer,
    primaryRegion: PRIMARY,
    controlTable: CONTROL_TABLE,
    ownApiUrl: apis[region].url,
    apiHostName: 'api.trading.example.com',
    ownApiTarget: TARGETS[region],
    dbClusterId: namings[region].name('dbCluster', 'orders'),
    metricNamespace: naming.metricNamespace(),
    switchMetricName: 'EvacuateRegion',
    switchParameterName: SWITCH_PARAMETER,
    requireDataLossApproval: stepsEnvironment(template, region, 'REQUIRE_DATA_LOSS_APPROVAL') === 'true',
    globalClusterId: world.aurora.globalClusterId,
    ownClusterArn: CLUSTER_ARNS[region],
    rds: (each) => world.aurora.client(each),
    lockSeconds: 3600,
    validationTimeoutMs: 3000,
    httpTimeoutMs: 1000,
    pollMs: 20,
    documents,
    cloudwatch: cloudwatch[region],
    localSwitch: { ssm: ssm[region], cloudwatch: cloudwatch[region] },
    peerSwitch: world.down.has(peer) ? deadRegion : { ssm: ssm[peer], cloudwatch: cloudwatch[peer] },
    peerApiUrl: async () => (world.down.has(peer) ? `${CLOSED}/v1/` : apis[peer].url),
    get: fetchGet,
    signed: async (request) => {
      const response = await fetch(request.url, { method: request.method, body: request.body });
      return { status: response.status, body: await response.text() };
    },
    resolveCname: async () => [await world.dns.answer()],
    history: async () => [],
    emit: (figures) => world.figures.push(figures),
    logger: silentLogger,
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

interface RunOptions {
  readonly wrappers?: Parameters<typeof runStateMachine>[2] extends infer O ? (O extends { wrappers?: infer W } ? W : never) : never;
  readonly executionName?: string;
  /** Another synthesis of the same region's stack (other config); the default app's otherwise. */
  readonly template?: Record<string, any>;
  /** Extra Task handlers (a callback state the harness cannot run). */
  readonly handlers?: Record<string, (input: any) => unknown>;
}

/** Runs `region`'s failover state machine, as an execution there would. */
async function run(world: World, region: Region, input: unknown, options: RunOptions = {}): Promise<ExecutionResult> {
  const machineName = namings[region].name('stateMachine', 'failover');
  const { definition } = stateMachineFromTemplate(options.template ?? templates[region], { stateMachineName: machineName }, substitutions[region], { region, account: ACCOUNT });
  const deps = stepDependencies(world, region, options.template);
  const step = (event: unknown) => runStep(event, deps);
  return runStateMachine(definition, input, {
    handlers: {
      'Preflight: check regions': async (event) => {
        const result = await step(event);
        await world.afterPreflight?.();
        return result;
      },
      'Fence: set switches': step,
      'Promote: request': step,
      'Validate: region serves': step,
      'Record: durations': step,
      'Alert: record failure': step,
      'Rollback: set switches': step,
      'Reconcile: replay journal': () =>
        reconcileJournal({
          database,
          documents,
          journalTable,
          controlTable: CONTROL_TABLE,
          region,
          primaryRegion: PRIMARY,
          logger: silentLogger,
          pendingShards: 4,
          pageSize: 25,
          remainingMs: () => 60_000,
          reserveMs: 1000,
        }),
      // Step Functions' SDK task calls the service in the state machine's own region.
      'Promote: read global cluster': () => world.aurora.describe(region),
      'Promote: read progress': () => world.aurora.describe(region),
      'Rollback: read global cluster': () => {
        world.beforeRollbackRead?.();
        return world.aurora.describe(region);
      },
      ...options.handlers,
    },
    wrappers: options.wrappers,
    waitTimeOverrides: { 'Promote: wait': 0 },
    retryIntervalOverrides: {
      'Promote: request': 0,
      'Preflight: acquire lock': [0, 0],
      'Fence: set active region': [0, 0],
      'Notify: alert': 0,
      'Alert: failure': 0,
      'Preflight: alert another failover': 0,
    },
    stateMachineName: machineName,
    // Step Functions puts a task token in the context object of a .waitForTaskToken task; the
    // interpreter takes one context per run, so the token is there for the whole run.
    context: { ...(options.executionName ? { Execution: { Name: options.executionName } } : {}), Task: { Token: 'task-token-of-the-approval' } },
  });
}

async function controlItem(pk: string): Promise<Record<string, unknown> | undefined> {
  return (await documents.send(new GetCommand({ TableName: CONTROL_TABLE, Key: { [ControlTableSchema.pk]: pk }, ConsistentRead: true }))).Item;
}

async function activeRegion(): Promise<{ activeRegion?: unknown; fencingEpoch?: unknown; drainedRegions?: unknown }> {
  const item = await controlItem(ControlTableSchema.activeRegionItem);
  const drained = item?.drainedRegions;
  return { activeRegion: item?.activeRegion, fencingEpoch: item?.fencingEpoch, drainedRegions: drained instanceof Set ? [...drained] : drained };
}

/** Both switches' positions, by the region each evacuates. */
async function switches(): Promise<Record<Region, string>> {
  return { [PRIMARY]: await switchPosition(PRIMARY), [SECONDARY]: await switchPosition(SECONDARY) };
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

/** States in the order the run entered them, each once (loops shown once). */
function distinct(path: string[]): string[] {
  return path.filter((state, index) => path.indexOf(state) === index);
}

/** Performs the call, then loses its answer once: the write is done, the state sees a timeout. */
function loseFirstAnswer(): (perform: (input: unknown) => unknown, input: unknown) => Promise<unknown> {
  let lost = false;
  return async (perform, input) => {
    const result = await perform(input);
    if (!lost) {
      lost = true;
      throw taskError('States.Timeout', 'the response was lost after the write committed');
    }
    return result;
  };
}

describe('failover state machine, executed from the synthesized definitions', () => {
  it('planned: fences, sets the switches, switches over in the primary region, waits for the writer, replays the journal, validates and notifies', async () => {
    const world = new World();
    const pending = await Promise.all(
      [1, 2, 3].map((index) => journalOrder(journalTable, { clientOrderId: `before-failover-${index}`, accountId: 'acct-1', symbol: 'MSFT', side: 'buy', orderType: 'market', quantity: '1' })),
    );
    expect(pending).toHaveLength(3);

    const result = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' });

    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    expect(distinct(result.path)).toEqual([
      'Preflight: valid input?',
      'Preflight: check regions',
      'Preflight: ready?',
      'Preflight: acquire lock',
      'Preflight: announce start',
      'Fence: set active region',
      'Fence: set switches',
      'Promote: read global cluster',
      'Promote: already writer?',
      'Promote: request',
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
    // The switchover went to the primary's region, as the Aurora User Guide says.
    expect(world.aurora.calls.filter((call) => call.action === 'switchover')).toEqual([{ action: 'switchover', region: PRIMARY }]);
    expect(world.aurora.writer).toBe(CLUSTER_ARNS[SECONDARY]);
    expect(await activeRegion()).toEqual({ activeRegion: SECONDARY, fencingEpoch: 1, drainedRegions: [PRIMARY] });
    expect(await switches()).toEqual({ [PRIMARY]: 'thrown', [SECONDARY]: 'released' });
    expect(await controlItem(ControlTableSchema.failoverLockItem)).toBeUndefined();
    const rows = await database.query<{ client_order_id: string; fencing_epoch: number }>('read', 'SELECT client_order_id, fencing_epoch FROM orders ORDER BY client_order_id');
    expect(rows.filter((row) => row.client_order_id.startsWith('before-failover-')).map((row) => [row.client_order_id, Number(row.fencing_epoch)])).toEqual([
      ['before-failover-1', 1],
      ['before-failover-2', 1],
      ['before-failover-3', 1],
    ]);
    expect(world.figures).toEqual([expect.objectContaining({ outcome: 'succeeded', mode: 'planned' })]);
    expect(await drainAlerts()).toEqual([`Failover to ${SECONDARY} completed`]);
  });

  it('failover, failback, then the next unplanned failover: the failback leaves the secondary a healthy standby, so DNS can move again', async () => {
    const world = new World();
    const failover = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' });
    expect(failover.status).toBe('SUCCEEDED');
    expect(await world.dns.answer()).toBe(TARGETS[SECONDARY]);

    const failback = await run(world, PRIMARY, { mode: 'planned', reason: 'failback' });
    expect(failback.error).toBeUndefined();
    expect(failback.status).toBe('SUCCEEDED');
    expect(world.aurora.calls.filter((call) => call.action === 'switchover').map((call) => call.region)).toEqual([PRIMARY, SECONDARY]);
    // Roles after the failback: the primary active, the secondary neither drained nor evacuated.
    expect(await activeRegion()).toEqual({ activeRegion: PRIMARY, fencingEpoch: 2, drainedRegions: [] });
    expect(await switches()).toEqual({ [PRIMARY]: 'released', [SECONDARY]: 'released' });
    expect(await world.recordHealthy(SECONDARY)).toBe(true);
    expect(await world.dns.answer()).toBe(TARGETS[PRIMARY]);

    // The primary region goes dark.
    world.setDown(PRIMARY, true);
    const outage = await run(world, SECONDARY, { mode: 'unplanned', reason: 'us-east-1 outage' });
    expect(outage.error).toBeUndefined();
    expect(outage.status).toBe('SUCCEEDED');
    expect(world.aurora.calls.filter((call) => call.action === 'failover')).toEqual([{ action: 'failover', region: SECONDARY }]);
    expect(await world.dns.answer()).toBe(TARGETS[SECONDARY]);
    expect(await activeRegion()).toEqual({ activeRegion: SECONDARY, fencingEpoch: 3, drainedRegions: [PRIMARY] });
  });

  it('unplanned with the other region down: fails over allowing data loss in its own region and reports the switch it could not set there', async () => {
    const world = new World();
    world.setDown(PRIMARY, true);
    const result = await run(world, SECONDARY, { mode: 'unplanned', reason: 'us-east-1 unreachable' });

    expect(result.status).toBe('SUCCEEDED');
    expect(world.aurora.calls.filter((call) => call.action !== 'describe')).toEqual([{ action: 'failover', region: SECONDARY }]);
    expect(result.output).toEqual(
      expect.objectContaining({
        switches: { switches: [expect.objectContaining({ evacuatedRegion: PRIMARY, set: true }), expect.objectContaining({ evacuatedRegion: SECONDARY, set: false })] },
      }),
    );
    expect(await activeRegion()).toEqual({ activeRegion: SECONDARY, fencingEpoch: 1, drainedRegions: [PRIMARY] });
    expect(await controlItem(ControlTableSchema.failoverLockItem)).toBeUndefined();
  });

  it('a lost answer on the lock write: the retry finds its own lock and the run goes on', async () => {
    const world = new World();
    const result = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' }, { wrappers: { 'Preflight: acquire lock': loseFirstAnswer() } });
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    expect(await controlItem(ControlTableSchema.failoverLockItem)).toBeUndefined();
  });

  it('a lost answer on the fence write: the retry finds its own fence, the epoch moves once and the run goes on', async () => {
    const world = new World();
    const result = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' }, { wrappers: { 'Fence: set active region': loseFirstAnswer() } });
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    expect(await activeRegion()).toEqual({ activeRegion: SECONDARY, fencingEpoch: 1, drainedRegions: [PRIMARY] });
  });

  it('waits out a busy global cluster: the promotion is retried with backoff, then succeeds', async () => {
    const world = new World();
    world.aurora.busyRefusals = 2;
    world.aurora.lagPolls = 5;
    const result = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' });

    expect(result.status).toBe('SUCCEEDED');
    expect(world.aurora.calls.filter((call) => call.action === 'switchover')).toHaveLength(3);
    expect(world.aurora.writer).toBe(CLUSTER_ARNS[SECONDARY]);
  });

  it('planned whose promotion never completes: times out, restores the roles under a newer epoch, alerts, unlocks', async () => {
    const world = new World();
    world.aurora.neverCompletes = true;
    const result = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('PromotionTimedOut');
    expect(result.error?.cause).toMatch(/did not become the writer/);
    expect(distinct(result.path).slice(-11)).toEqual([
      'Promote: timed out',
      'Rollback: needed?',
      'Rollback: read global cluster',
      'Rollback: switchover completed?',
      'Rollback: restore active region',
      'Rollback: set switches',
      'Alert: failure',
      'Alert: failure event',
      'Alert: record failure',
      'Unlock: release after failure',
      'Failed',
    ]);
    // Back where it was, under a newer epoch, so nothing fenced by this run commits under the old one.
    expect(await activeRegion()).toEqual({ activeRegion: PRIMARY, fencingEpoch: 2, drainedRegions: [] });
    expect(await switches()).toEqual({ [PRIMARY]: 'released', [SECONDARY]: 'released' });
    expect(await controlItem(ControlTableSchema.failoverLockItem)).toBeUndefined();
    expect(world.figures).toEqual([expect.objectContaining({ outcome: 'failed' })]);
    expect(await drainAlerts()).toEqual([`Failover to ${SECONDARY} FAILED`]);
  });

  it('planned whose switchover completes after the timeout: the rollback re-reads the global cluster and finishes the failover instead', async () => {
    const world = new World();
    world.aurora.neverCompletes = true;
    // The switchover ends between the last poll and the rollback's re-read.
    world.beforeRollbackRead = () => world.aurora.completePromotion();
    const result = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' });

    expect(result.path).toContain('Promote: timed out');
    expect(result.path).toContain('Rollback: switchover completed?');
    expect(result.path).not.toContain('Rollback: restore active region');
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    // The writer and the active region agree: both in us-east-2.
    expect(world.aurora.writer).toBe(CLUSTER_ARNS[SECONDARY]);
    expect(await activeRegion()).toEqual({ activeRegion: SECONDARY, fencingEpoch: 1, drainedRegions: [PRIMARY] });
  });

  it('unplanned whose promotion never completes: keeps the fence (the old region is gone), alerts and unlocks', async () => {
    const world = new World();
    world.setDown(PRIMARY, true);
    world.aurora.neverCompletes = true;
    const result = await run(world, SECONDARY, { mode: 'unplanned', reason: 'outage' });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('PromotionTimedOut');
    expect(result.path).not.toContain('Rollback: restore active region');
    expect(await activeRegion()).toEqual({ activeRegion: SECONDARY, fencingEpoch: 1, drainedRegions: [PRIMARY] });
    expect(await controlItem(ControlTableSchema.failoverLockItem)).toBeUndefined();
    expect(await drainAlerts()).toEqual([`Failover to ${SECONDARY} FAILED`]);
  });

  it('stops when another failover holds the lock, alerting, touching nothing and leaving that lock alone', async () => {
    const world = new World();
    const otherLock = { [ControlTableSchema.pk]: ControlTableSchema.failoverLockItem, holder: 'arn:aws:states:us-east-1:111111111111:execution:other:run', expiresAt: Math.floor(Date.now() / 1000) + 600 };
    await documents.send(new PutCommand({ TableName: CONTROL_TABLE, Item: otherLock }));

    const result = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('FailoverInProgress');
    expect(result.path.slice(-3)).toEqual(['Preflight: acquire lock', 'Preflight: alert another failover', 'Preflight: another failover is running']);
    expect(await controlItem(ControlTableSchema.failoverLockItem)).toEqual(otherLock);
    expect(await activeRegion()).toEqual({ activeRegion: undefined, fencingEpoch: undefined, drainedRegions: undefined });
    expect(world.aurora.calls.filter((call) => call.action !== 'describe')).toEqual([]);
    expect(await drainAlerts()).toEqual([`Failover to ${SECONDARY} not started: another failover holds the lock`]);
  });

  it('takes over a lock that has lapsed (a crashed run must not block failover forever)', async () => {
    const world = new World();
    await documents.send(
      new PutCommand({ TableName: CONTROL_TABLE, Item: { [ControlTableSchema.pk]: ControlTableSchema.failoverLockItem, holder: 'crashed', expiresAt: Math.floor(Date.now() / 1000) - 1 } }),
    );
    const result = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' });
    expect(result.status).toBe('SUCCEEDED');
  });

  it('stops on a fencing conflict: a concurrent change of the epoch wins, and this run changes nothing', async () => {
    const world = new World();
    const concurrent = { [ControlTableSchema.pk]: ControlTableSchema.activeRegionItem, activeRegion: PRIMARY, fencingEpoch: 5 };
    world.afterPreflight = async () => {
      await documents.send(new PutCommand({ TableName: CONTROL_TABLE, Item: concurrent }));
    };
    const result = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('DynamoDB.ConditionalCheckFailedException');
    expect(distinct(result.path)).toEqual(expect.arrayContaining(['Fence: set active region', 'Rollback: needed?', 'Alert: failure', 'Unlock: release after failure', 'Failed']));
    expect(result.path).not.toContain('Fence: set switches');
    expect(await activeRegion()).toEqual({ activeRegion: PRIMARY, fencingEpoch: 5, drainedRegions: undefined });
    expect(await controlItem(ControlTableSchema.failoverLockItem)).toBeUndefined();
    expect(world.aurora.calls.filter((call) => call.action !== 'describe')).toEqual([]);
  });

  it('refuses a planned failover when the other region does not answer (a switchover needs it), before taking the lock', async () => {
    const world = new World();
    world.setDown(PRIMARY, true);
    const result = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('PreflightFailed');
    expect(result.error?.cause).toMatch(/start an unplanned failover instead/);
    expect(result.path).not.toContain('Preflight: acquire lock');
    expect(await activeRegion()).toEqual({ activeRegion: undefined, fencingEpoch: undefined, drainedRegions: undefined });
  });

  it('refuses an unplanned run that may not lose data when no switchover is possible', async () => {
    const world = new World();
    world.setDown(PRIMARY, true);
    const result = await run(world, SECONDARY, { mode: 'unplanned', reason: 'primary database down', allowDataLoss: false });
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('PreflightFailed');
    expect(result.error?.cause).toMatch(/this run does not allow data loss/);
    expect(world.aurora.calls.filter((call) => call.action !== 'describe')).toEqual([]);
  });

  it('refuses to take over when its own region cannot serve', async () => {
    const world = new World();
    apis[SECONDARY].databaseOk = false;
    const result = await run(world, SECONDARY, { mode: 'unplanned', reason: 'outage' });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('PreflightFailed');
    expect(result.error?.cause).toMatch(/this region cannot serve: HTTP 503 \(database: down\)/);
  });

  it('stops at once, changing nothing, when a late duplicate start finds this region already active with the writer', async () => {
    const world = new World();
    expect((await run(world, SECONDARY, { mode: 'planned', reason: 'drill' })).status).toBe('SUCCEEDED');
    await drainAlerts();
    const calls = world.aurora.calls.length;

    const duplicate = await run(world, SECONDARY, { mode: 'unplanned', reason: 'late duplicate from the prober' });

    expect(duplicate.status).toBe('SUCCEEDED');
    expect(duplicate.path).toEqual(['Preflight: valid input?', 'Preflight: check regions', 'Preflight: ready?', 'Preflight: already active']);
    expect(await activeRegion()).toEqual({ activeRegion: SECONDARY, fencingEpoch: 1, drainedRegions: [PRIMARY] });
    expect(world.aurora.calls.slice(calls).filter((call) => call.action !== 'describe')).toEqual([]);
    expect(await drainAlerts()).toEqual([]);
  });

  it('counts an alert it could not publish, with the metric its alarm watches, and still completes', async () => {
    const world = new World();
    const result = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' }, {
      wrappers: {
        'Notify: alert': async () => {
          throw taskError('SNS.AuthorizationErrorException', 'the topic key policy denies publishing');
        },
      },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path).toContain('Notify: count failed alert');
    const end = new Date(Date.now() + 60_000);
    const { Datapoints } = await cloudwatch[PRIMARY].send(
      new GetMetricStatisticsCommand({
        Namespace: naming.metricNamespace(),
        MetricName: FAILED_NOTIFICATION_METRIC,
        Dimensions: [{ Name: 'Region', Value: SECONDARY }],
        StartTime: new Date(end.getTime() - 600_000),
        EndTime: end,
        Period: 60,
        Statistics: ['Sum'],
      }),
    );
    expect((Datapoints ?? []).reduce((sum, point) => sum + (point.Sum ?? 0), 0)).toBeGreaterThanOrEqual(1);
  });

  describe('with requireDataLossApproval', () => {
    const approvalTemplate = Template.fromStack(synthDeployment({ requireDataLossApproval: 'true' }).deployment.secondary.regionalStack).toJSON();

    it('waits for a person before a failover allowing data loss, with the approve and deny commands in the alert, then fails over', async () => {
      const world = new World();
      world.setDown(PRIMARY, true);
      const asked: Record<string, unknown>[] = [];
      const result = await run(world, SECONDARY, { mode: 'unplanned', reason: 'us-east-1 outage' }, {
        template: approvalTemplate,
        handlers: {
          'Promote: wait for approval': (input: Record<string, unknown>) => {
            asked.push(input);
            // What `aws stepfunctions send-task-success --task-output '{"approved":true}'` returns to the state.
            return { approved: true };
          },
        },
      });
      expect(result.error).toBeUndefined();
      expect(result.status).toBe('SUCCEEDED');
      expect(distinct(result.path)).toEqual(expect.arrayContaining(['Promote: wait for approval', 'Promote: request']));
      const message = JSON.stringify(asked[0]);
      expect(message).toContain('send-task-success');
      expect(message).toContain('send-task-failure --region us-east-2 --error DataLossDenied');
      expect(world.aurora.calls.filter((call) => call.action === 'failover')).toEqual([{ action: 'failover', region: SECONDARY }]);
    });

    it('sends nothing to Aurora when the person denies, keeps the fence and alerts', async () => {
      const world = new World();
      world.setDown(PRIMARY, true);
      const result = await run(world, SECONDARY, { mode: 'unplanned', reason: 'us-east-1 outage' }, {
        template: approvalTemplate,
        handlers: {
          'Promote: wait for approval': () => {
            throw taskError('DataLossDenied', 'denied by the trading desk');
          },
        },
      });
      expect(result.status).toBe('FAILED');
      expect(result.error?.name).toBe('DataLossDenied');
      expect(world.aurora.calls.filter((call) => call.action !== 'describe')).toEqual([]);
      expect(await activeRegion()).toEqual({ activeRegion: SECONDARY, fencingEpoch: 1, drainedRegions: [PRIMARY] });
      expect(await drainAlerts()).toEqual([`Failover to ${SECONDARY} FAILED`]);
    });

    it('asks nobody when the promotion is a switchover (no data at risk)', async () => {
      const world = new World();
      const result = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' }, { template: approvalTemplate });
      expect(result.status).toBe('SUCCEEDED');
      expect(result.path).not.toContain('Promote: wait for approval');
    });
  });

  it.each([
    [{ reason: 'no mode' }],
    [{ mode: 'sideways', reason: 'bad mode' }],
    [{ mode: 'planned' }],
    [{ mode: 'unplanned', reason: 'x', allowDataLoss: 'yes' }],
  ])('refuses input %j before doing anything', async (input) => {
    const world = new World();
    const result = await run(world, SECONDARY, input);
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('InvalidInput');
    expect(result.path).toEqual(['Preflight: valid input?', 'Preflight: invalid input']);
  });
});
