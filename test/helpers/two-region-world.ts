import { randomBytes } from 'crypto';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DeleteCommand, GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { FailoverFigures, runStep, StepDependencies } from '../../lambda/failover-steps/steps';
import { reconcileJournal, ReconcileResult } from '../../lambda/reconcile/reconcile';
import type { Database } from '../../lambda/shared/database';
import { fetchGet } from '../../lambda/shared/health-probe';
import { readSwitch } from '../../lambda/shared/switches';
import { SwitchRef } from '../../lambda/contracts/switches';
import { ControlTableSchema } from '../../lambda/contracts/tables';
import { Purpose } from '../../lib/core/naming';
import { AuroraGlobalModel } from './aurora-global';
import { createJournalTable, documents, silentLogger, takeAllMessages } from './aws';
import { createTestDatabase, TestDatabase } from './database';
import { migratedDatabase } from './orders';
import { ExecutionResult, runStateMachine, TaskHandler, taskError } from './state-machine';
import { stateMachineFromTemplate } from './state-machine-template';
import {
  ACCOUNT,
  Deployment,
  functionSetting,
  logicalIdOfType,
  peerOf,
  PRIMARY,
  Region,
  RegionApi,
  REGIONS,
  SECONDARY,
  TARGETS,
} from './two-region-deployment';

export * from './two-region-deployment';

/**
 * Two regions in one process, for the code that moves the active role between them: both
 * regions' failover state machines from the synthesized templates (run through
 * test/helpers/state-machine.ts), their real step code, each region's API on loopback (its
 * `/health` reads the control table as the health function does), SSM, CloudWatch, DynamoDB, SNS
 * and EventBridge in moto_server, PostgreSQL for reconciliation, and the Aurora global database
 * model. DNS is whatever the caller plugs in: Route 53's failover rule evaluated at once
 * (test/helpers/route53-failover.ts) or with its checkers' timing (test/simulation/). A region
 * that is down answers nothing: API, SSM, CloudWatch and RDS.
 */

const CLOSED = 'http://127.0.0.1:9';
const RECONCILE_REAL_TIME_MS = 30_000;

/** What a test can change around one run. */
export interface RunOptions {
  /** Faults around a Task (see runStateMachine). */
  readonly wrappers?: Record<string, (perform: TaskHandler, input: any) => Promise<unknown>>;
  /** Another deployment's templates (other config); the fixture's otherwise. */
  readonly template?: Record<string, any>;
  /** Extra Task handlers (a callback state the harness cannot run). */
  readonly handlers?: Record<string, (input: any) => unknown>;
}

/**
 * The services one test file (or one simulation process) shares: the APIs on loopback, moto's
 * tables, topic and bus, the database. `start` once, `reset` before each scenario, `stop` at the end.
 */
export class WorldFixture {
  /** The unplanned drill's switch, as the steps read it (lambda/failover-steps: forcedFailover). */
  forcedFailover = false;
  readonly apis: Record<Region, RegionApi>;
  readonly cloudwatch: Record<Region, CloudWatchClient> = {
    [PRIMARY]: new CloudWatchClient({ region: PRIMARY }),
    [SECONDARY]: new CloudWatchClient({ region: SECONDARY }),
  };
  readonly ssm: Record<Region, SSMClient> = { [PRIMARY]: new SSMClient({ region: PRIMARY }), [SECONDARY]: new SSMClient({ region: SECONDARY }) };
  /** Clients for a region that is down: nothing listens where they point. */
  readonly deadRegion = {
    ssm: new SSMClient({ region: PRIMARY, endpoint: CLOSED, maxAttempts: 1 }),
    cloudwatch: new CloudWatchClient({ region: PRIMARY, endpoint: CLOSED, maxAttempts: 1 }),
  };
  private readonly sns = new SNSClient({});
  private readonly sqs = new SQSClient({});
  private readonly eventbridge = new EventBridgeClient({});
  private readonly substitutions: Record<Region, Record<string, string>> = { [PRIMARY]: {}, [SECONDARY]: {} };
  private testDatabase?: TestDatabase;
  database!: Database;
  journalTable!: string;
  private alertQueueUrl!: string;

  constructor(readonly deployment: Deployment) {
    this.apis = { [PRIMARY]: new RegionApi(PRIMARY, deployment.controlTable), [SECONDARY]: new RegionApi(SECONDARY, deployment.controlTable) };
  }

  async start(): Promise<void> {
    await Promise.all([this.apis[PRIMARY].start(), this.apis[SECONDARY].start(), this.createControlTable()]);
    this.testDatabase = await createTestDatabase('failover');
    this.database = await migratedDatabase(this.testDatabase);
    const topicArn = (await this.sns.send(new CreateTopicCommand({ Name: `alerts-${randomBytes(4).toString('hex')}` }))).TopicArn!;
    this.alertQueueUrl = (await this.sqs.send(new CreateQueueCommand({ QueueName: `alerts-${randomBytes(4).toString('hex')}` }))).QueueUrl!;
    const queueArn = (await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: this.alertQueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    await this.sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
    const busName = `bus-${randomBytes(4).toString('hex')}`;
    await this.eventbridge.send(new CreateEventBusCommand({ Name: busName }));
    for (const region of REGIONS) {
      const template = this.deployment.templates[region];
      const controlTableId = Object.entries(template.Resources as Record<string, { Type: string; Properties?: { TableName?: string } }>).find(
        ([, resource]) => resource.Type === 'AWS::DynamoDB::GlobalTable' && resource.Properties?.TableName === this.deployment.controlTable,
      )?.[0];
      this.substitutions[region] = {
        // The primary creates the global tables (the secondary refers to them by name).
        ...(controlTableId
          ? {
              [controlTableId]: this.deployment.controlTable,
              [`${controlTableId}.Arn`]: `arn:aws:dynamodb:${region}:${ACCOUNT}:table/${this.deployment.controlTable}`,
            }
          : {}),
        [logicalIdOfType(template, 'AWS::SNS::Topic')]: topicArn,
        [logicalIdOfType(template, 'AWS::Events::EventBus')]: busName,
        [`${logicalIdOfType(template, 'AWS::Events::EventBus')}.Arn`]: `arn:aws:events:us-east-1:123456789012:event-bus/${busName}`,
      };
    }
  }

  async stop(): Promise<void> {
    for (const client of [
      ...Object.values(this.cloudwatch),
      ...Object.values(this.ssm),
      this.deadRegion.ssm,
      this.deadRegion.cloudwatch,
      this.sns,
      this.sqs,
      this.eventbridge,
    ])
      client.destroy();
    await this.database?.end();
    await this.testDatabase?.drop();
    await Promise.all(REGIONS.map((region) => this.apis[region].stop()));
  }

  /** Both regions answer, no switch set, no control item, a new journal, no alert waiting. */
  async reset(): Promise<void> {
    for (const region of REGIONS) {
      this.apis[region].databaseOk = true;
      this.apis[region].reachable = true;
      this.apis[region].failing = false;
      await this.ssm[region].send(new DeleteParameterCommand({ Name: this.deployment.switchParameter })).catch(() => undefined);
    }
    for (const pk of [ControlTableSchema.activeRegionItem, ControlTableSchema.failoverLockItem, ControlTableSchema.automationPauseItem]) {
      await documents.send(new DeleteCommand({ TableName: this.deployment.controlTable, Key: { [ControlTableSchema.pk]: pk } }));
    }
    this.journalTable = await createJournalTable();
    await this.drainAlerts();
  }

  substitutionsOf(region: Region): Record<string, string> {
    return this.substitutions[region];
  }

  /** The alert subjects published to the topic since the last drain (through its SQS subscription). */
  async drainAlerts(): Promise<string[]> {
    return (await takeAllMessages(this.alertQueueUrl, this.sqs)).map((body) => (JSON.parse(body) as { Subject: string }).Subject);
  }

  async controlItem(pk: string): Promise<Record<string, unknown> | undefined> {
    return (await documents.send(new GetCommand({ TableName: this.deployment.controlTable, Key: { [ControlTableSchema.pk]: pk }, ConsistentRead: true }))).Item;
  }

  async activeRegion(): Promise<{ activeRegion?: unknown; fencingEpoch?: unknown; drainedRegions?: unknown }> {
    const item = await this.controlItem(ControlTableSchema.activeRegionItem);
    const drained = item?.drainedRegions;
    return { activeRegion: item?.activeRegion, fencingEpoch: item?.fencingEpoch, drainedRegions: drained instanceof Set ? [...drained] : drained };
  }

  switchRef(evacuatedRegion: Region): SwitchRef {
    return {
      evacuatedRegion,
      hostRegion: peerOf(evacuatedRegion),
      parameterName: this.deployment.switchParameter,
      namespace: this.deployment.namings[PRIMARY].metricNamespace(),
      metricName: 'EvacuateRegion',
    };
  }

  /** A switch's position from its parameter in its host region. */
  async switchPosition(evacuatedRegion: Region): Promise<string> {
    const ref = this.switchRef(evacuatedRegion);
    return readSwitch(this.ssm[ref.hostRegion as Region], ref);
  }

  /** Both switches' positions, by the region each evacuates. */
  async switches(): Promise<Record<Region, string>> {
    return { [PRIMARY]: await this.switchPosition(PRIMARY), [SECONDARY]: await this.switchPosition(SECONDARY) };
  }

  private async createControlTable(): Promise<void> {
    try {
      await documents.send(
        new CreateTableCommand({
          TableName: this.deployment.controlTable,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: ControlTableSchema.pk, AttributeType: 'S' }],
          KeySchema: [{ AttributeName: ControlTableSchema.pk, KeyType: 'HASH' }],
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
}

function stepsEnvironment(deployment: Deployment, template: Record<string, any>, region: Region, variable: string): string {
  return functionSetting(deployment, template, region, Purpose.failoverSteps, variable);
}

/** One scenario's state: which regions are down, Aurora, DNS, the figures recorded. */
export class World {
  readonly aurora: AuroraGlobalModel;
  readonly down = new Set<Region>();
  readonly figures: FailoverFigures[] = [];
  /** Runs after preflight's real work: a place to change the world between two steps. */
  afterPreflight?: () => Promise<void>;
  /** Runs before a rollback re-reads the global cluster. */
  beforeRollbackRead?: () => void;
  /** Runs before reconciliation (a simulation brings its data side up to date). */
  beforeReconcile?: () => Promise<void>;
  /** The database and DynamoDB a region's functions use (a simulation's models; the fixture's otherwise). */
  databaseFor: (region: Region) => Database = () => this.fixture.database;
  documentsFor: (region: Region) => DynamoDBDocumentClient = () => documents;
  /** The journal reconciliation replays (the fixture's, unless a simulation keeps its own). */
  journalTable: () => string = () => this.fixture.journalTable;
  /** What `api.<zone>` resolves to now. */
  resolve: () => Promise<string>;
  /** The clock the step code reads, and how it waits (a simulation's virtual ones). */
  now: () => number = () => Date.now();
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  /** How long validation retries, and how long it pauses between attempts. */
  validationTimeoutMs = 3000;
  validationPollMs = 20;

  constructor(readonly fixture: WorldFixture) {
    const { deployment } = fixture;
    this.aurora = new AuroraGlobalModel(deployment.namings[SECONDARY].name('globalCluster', 'orders'), deployment.clusterArns, PRIMARY);
    this.resolve = async () => {
      throw new Error('this world has no DNS: set world.resolve');
    };
  }

  /** A region answers errors: its API 500, its RDS control plane server errors (or recovers). */
  setFailing(region: Region, failing: boolean): void {
    this.fixture.apis[region].failing = failing;
    this.aurora.setRegionFailing(region, failing);
  }

  /** A region goes dark (its API, SSM, CloudWatch and RDS answer nothing), or comes back. */
  setDown(region: Region, down: boolean): void {
    if (down) this.down.add(region);
    else this.down.delete(region);
    this.fixture.apis[region].reachable = !down;
    this.aurora.setRegionUp(region, !down);
  }

  /** The record's calculated check, evaluated now: /health answers 200 AND the region's switch is released. */
  async recordHealthy(region: Region): Promise<boolean> {
    const endpoint = !this.down.has(region) && (await this.fixture.apis[region].health()).status === 200;
    // A switch whose host region is down has no data stream: LastKnownStatus keeps its position.
    return endpoint && (await this.fixture.switchPosition(region)) === 'released';
  }

  stepDependencies(region: Region, template: Record<string, any> = this.fixture.deployment.templates[region]): StepDependencies {
    const { fixture } = this;
    const { deployment } = fixture;
    const peer = peerOf(region);
    return {
      region,
      peerRegion: peer,
      primaryRegion: PRIMARY,
      controlTable: deployment.controlTable,
      ownApiUrl: fixture.apis[region].url,
      apiHostName: 'api.trading.example.com',
      ownApiTarget: TARGETS[region],
      dbClusterId: deployment.namings[region].name('dbCluster', 'orders'),
      metricNamespace: deployment.namings[PRIMARY].metricNamespace(),
      switchMetricName: 'EvacuateRegion',
      switchParameterName: deployment.switchParameter,
      requireDataLossApproval: stepsEnvironment(deployment, template, region, 'REQUIRE_DATA_LOSS_APPROVAL') === 'true',
      globalClusterId: this.aurora.globalClusterId,
      ownClusterArn: deployment.clusterArns[region],
      rds: (each) => this.aurora.client(each),
      lockSeconds: deployment.config.failoverLockSeconds,
      validationTimeoutMs: this.validationTimeoutMs,
      httpTimeoutMs: 1000,
      pollMs: this.validationPollMs,
      documents,
      cloudwatch: fixture.cloudwatch[region],
      localSwitch: { ssm: fixture.ssm[region], cloudwatch: fixture.cloudwatch[region] },
      peerSwitch: this.down.has(peer) ? fixture.deadRegion : { ssm: fixture.ssm[peer], cloudwatch: fixture.cloudwatch[peer] },
      peerApiUrl: async () => (this.down.has(peer) ? `${CLOSED}/v1/` : fixture.apis[peer].url),
      get: fetchGet,
      forcedFailover: async () => fixture.forcedFailover,
      signed: async (request) => {
        const response = await fetch(request.url, { method: request.method, body: request.body });
        return { status: response.status, body: await response.text() };
      },
      resolveCname: async () => [await this.resolve()],
      history: async () => [],
      emit: (figures) => this.figures.push(figures),
      logger: silentLogger,
      now: () => this.now(),
      sleep: (ms) => this.sleep(ms),
    };
  }

  /** Runs `region`'s real journal reconciliation with the template's settings (the failover's run, or the schedule's). */
  async reconcile(
    region: Region,
    trigger: 'schedule' | 'failover',
    template: Record<string, any> = this.fixture.deployment.templates[region],
  ): Promise<ReconcileResult> {
    const { deployment } = this.fixture;
    const setting = (variable: string) => Number(functionSetting(deployment, template, region, Purpose.reconcile, variable));
    // The function's time, in real time and short: its database retries are real waits, and a
    // writer that keeps refusing (a region whose cluster is not the writer) must end the run, as
    // the function's timeout would, not keep it retrying.
    const deadline = Date.now() + RECONCILE_REAL_TIME_MS;
    return reconcileJournal({
      database: this.databaseFor(region),
      documents: this.documentsFor(region),
      journalTable: this.journalTable(),
      controlTable: deployment.controlTable,
      region,
      primaryRegion: PRIMARY,
      logger: silentLogger,
      pendingShards: setting('PENDING_SHARDS'),
      pageSize: 25,
      remainingMs: () => deadline - Date.now(),
      reserveMs: 1000,
      durableAfterMs: setting('DURABLE_AFTER_SECONDS') * 1000,
      replicationMarginMs: setting('REPLICATION_MARGIN_SECONDS') * 1000,
      boundMs: setting('ORDER_BOUND_SECONDS') * 1000,
      trigger,
      now: () => new Date(this.now()),
    });
  }

  /** Runs `region`'s failover state machine, as an execution there would. */
  async run(region: Region, input: unknown, options: RunOptions = {}): Promise<ExecutionResult> {
    const { fixture } = this;
    const { deployment } = fixture;
    const machineName = deployment.namings[region].name('stateMachine', 'failover');
    const { definition } = stateMachineFromTemplate(
      options.template ?? deployment.templates[region],
      { stateMachineName: machineName },
      fixture.substitutionsOf(region),
      { region, account: ACCOUNT },
    );
    const deps = this.stepDependencies(region, options.template);
    const step = (event: unknown) => runStep(event, deps);
    return runStateMachine(definition, input, {
      handlers: {
        'Preflight: check regions': async (event) => {
          const result = await step(event);
          await this.afterPreflight?.();
          return result;
        },
        'Fence: set switches': step,
        'Promote: request': step,
        'Validate: region serves': step,
        'Record: durations': step,
        'Alert: record failure': step,
        'Rollback: set switches': step,
        'Reconcile: replay journal': async () => {
          await this.beforeReconcile?.();
          return this.reconcile(region, 'failover', options.template);
        },
        // Step Functions' SDK task calls the service in the state machine's own region.
        'Promote: read global cluster': () => this.aurora.describe(region),
        'Promote: read progress': () => this.aurora.describe(region),
        'Rollback: read global cluster': () => {
          this.beforeRollbackRead?.();
          return this.aurora.describe(region);
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
      context: { Task: { Token: 'task-token-of-the-approval' } },
    });
  }
}

/** Performs the call, then loses its answer once: the write is done, the state sees a timeout. */
export function loseFirstAnswer(): (perform: TaskHandler, input: unknown) => Promise<unknown> {
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
