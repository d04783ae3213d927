import { randomBytes } from 'crypto';
import type { IncomingMessage, ServerResponse } from 'http';
import { CloudWatchClient, GetMetricStatisticsCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { TableDescription } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  ChangeResourceRecordSetsCommand,
  CreateHealthCheckCommand,
  CreateHostedZoneCommand,
  Route53Client,
  UpdateHealthCheckCommand,
} from '@aws-sdk/client-route-53';
import { CreateBucketCommand, PutBucketReplicationCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import {
  READINESS_CHECK_METRIC,
  READINESS_CHECKS,
  READINESS_FAILED_DETAIL_TYPE,
  READINESS_SUMMARY_METRIC,
  ReadinessCheckName,
} from '../../lambda/contracts/readiness';
import { globalTableProblem, runReadiness, runScheduled, tableDescriber } from '../../lambda/readiness/checks';
import { ReadinessDependencies, ReadinessReport } from '../../lambda/readiness/dependencies';
import { checkersReportHealthy } from '../../lambda/readiness/route53-checks';
import { crossRegionClientConfig } from '../../lambda/shared/cross-region';
import type { Database } from '../../lambda/shared/database';
import { fetchGet } from '../../lambda/shared/health-probe';
import { ControlTableSchema } from '../../lambda/contracts/tables';
import { createControlTable, createJournalTable, documents, dynamodb, silentLogger } from '../helpers/aws';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { LoopbackApi } from '../helpers/loopback-api';
import { migratedDatabase, unreachableDatabase } from '../helpers/orders';

/**
 * The failover-readiness check against moto_server (global tables, replicated buckets, the
 * failover state machine and its executions, CloudWatch in both regions, Route 53 zone, record
 * and health checks, the DR bus with a rule delivering to an SQS queue the test reads, the control
 * table, the evacuation switch parameters in both regions' SSM), the loopback PostgreSQL, and
 * stand-ins for both regions' /health on loopback. This region (us-east-1) is the primary.
 *
 * What moto cannot do, and how it is covered instead:
 * - DynamoDB: moto accepts replica updates but never reports `Replicas` in DescribeTable. The
 *   failure path runs against moto's real answer; the passing path adds the replicas moto cannot
 *   report to moto's own DescribeTable answer through the injected `describeTable`.
 * - Route 53: moto's GetHealthCheckStatus always reports one checker with success, so the
 *   18% rule is tested on the pure `checkersReportHealthy`. The unhealthy path runs through the
 *   calculated check, whose status (as on AWS) is read from CloudWatch, where the test puts it.
 */

const REGION = 'us-east-1';
const PEER_REGION = 'us-east-2';
const PEER_REGION_CODE = 'use2';
const SET_IDENTIFIER = `PRIMARY-${REGION}`;
const ROLE_ARN = 'arn:aws:iam::123456789012:role/x';
const MAX_LAG_MS = 1000;
const EVENT_SOURCE = 'trading.failover';
/** A loopback port nothing listens on: a service that is down. */
const CLOSED = 'http://127.0.0.1:9';

const ownCloudwatch = new CloudWatchClient({ region: REGION });
const peerCloudwatch = new CloudWatchClient({ region: PEER_REGION });
const s3 = new S3Client({ region: REGION, forcePathStyle: true });
const peerS3 = new S3Client({ region: PEER_REGION, forcePathStyle: true });
const sfn = new SFNClient({ region: REGION });
const route53 = new Route53Client({ region: 'us-east-1' });
const events = new EventBridgeClient({ region: REGION });
const sqs = new SQSClient({ region: REGION });
/** SSM by region: each holds the evacuation switch of the other region. */
const ssm: Record<string, SSMClient> = { [REGION]: new SSMClient({ region: REGION }), [PEER_REGION]: new SSMClient({ region: PEER_REGION }) };

/** A region's /health on loopback: a chosen status and failing checks, as the health function reports them. */
class StandInHealth extends LoopbackApi {
  public status = 200;
  public failingChecks: string[] = [];
  public requests = 0;

  reset(): void {
    this.status = 200;
    this.failingChecks = [];
    this.requests = 0;
  }

  /** Answers `status` with the named checks failing. */
  failing(status: number, ...checks: string[]): void {
    this.status = status;
    this.failingChecks = checks;
  }

  protected answer(request: IncomingMessage, response: ServerResponse): void {
    this.requests++;
    if (request.url === '/v1/health') this.send(response, this.status, this.healthBody(this.status, this.failingChecks));
    else this.send(response, 404, { error: 'not_found' });
  }
}

const ownApi = new StandInHealth();
const peerApi = new StandInHealth();
let testDatabase: TestDatabase;
let database: Database;

function unique(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** Everything one region's readiness looks at, created fresh and passing in moto_server. */
interface World {
  readonly namespace: string;
  readonly dbClusterId: string;
  readonly peerDbClusterId: string;
  readonly tableNames: string[];
  readonly bucketNames: string[];
  readonly stateMachineArn: string;
  readonly endpointHealthCheckId: string;
  readonly routingHealthCheckId: string;
  readonly hostedZoneId: string;
  readonly apiHostName: string;
  readonly eventBusName: string;
  readonly eventQueueUrl: string;
  readonly controlTable: string;
  /** The evacuation switch parameter, the same path in both regions (none exists yet: both released). */
  readonly switchParameterName: string;
}

async function putMetric(
  client: CloudWatchClient,
  namespace: string,
  metricName: string,
  dimension: { Name: string; Value: string },
  value: number,
): Promise<void> {
  // A few seconds back: CloudWatch (and moto) count a datapoint only before the read's EndTime, which is now.
  const Timestamp = new Date(Date.now() - 5000);
  await client.send(
    new PutMetricDataCommand({ Namespace: namespace, MetricData: [{ MetricName: metricName, Dimensions: [dimension], Value: value, Timestamp }] }),
  );
}

const putLag = (client: CloudWatchClient, clusterId: string, lagMs: number) =>
  putMetric(client, 'AWS/RDS', 'AuroraGlobalDBReplicationLag', { Name: 'DBClusterIdentifier', Value: clusterId }, lagMs);

/** Route 53 publishes health check status in us-east-1: 1 healthy, 0 unhealthy. */
const putHealthCheckStatus = (healthCheckId: string, value: number) =>
  putMetric(ownCloudwatch, 'AWS/Route53', 'HealthCheckStatus', { Name: 'HealthCheckId', Value: healthCheckId }, value);

/** A versioned bucket in this region and its versioned destination in the peer region (named with the peer's code). */
async function createBucketPair(): Promise<{ source: string; destination: string }> {
  const base = unique('exports');
  const source = `${base}-use1`;
  const destination = `${base}-${PEER_REGION_CODE}`;
  await s3.send(new CreateBucketCommand({ Bucket: source }));
  await peerS3.send(new CreateBucketCommand({ Bucket: destination, CreateBucketConfiguration: { LocationConstraint: PEER_REGION } }));
  await Promise.all([
    s3.send(new PutBucketVersioningCommand({ Bucket: source, VersioningConfiguration: { Status: 'Enabled' } })),
    peerS3.send(new PutBucketVersioningCommand({ Bucket: destination, VersioningConfiguration: { Status: 'Enabled' } })),
  ]);
  return { source, destination };
}

async function replicate(source: string, destination: string, status: 'Enabled' | 'Disabled' = 'Enabled'): Promise<void> {
  await s3.send(
    new PutBucketReplicationCommand({
      Bucket: source,
      ReplicationConfiguration: {
        Role: ROLE_ARN,
        Rules: [
          {
            ID: 'to-peer',
            Status: status,
            Priority: 1,
            Filter: {},
            DeleteMarkerReplication: { Status: 'Enabled' },
            Destination: { Bucket: `arn:aws:s3:::${destination}` },
          },
        ],
      },
    }),
  );
}

async function startExecution(stateMachineArn: string): Promise<string> {
  return (await sfn.send(new StartExecutionCommand({ stateMachineArn, name: unique('run') }))).executionArn!;
}

async function createStateMachine(): Promise<string> {
  const response = await sfn.send(
    new CreateStateMachineCommand({
      name: unique('failover'),
      roleArn: ROLE_ARN,
      definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }),
    }),
  );
  return response.stateMachineArn!;
}

async function createRouting(): Promise<Pick<World, 'hostedZoneId' | 'apiHostName' | 'endpointHealthCheckId' | 'routingHealthCheckId'>> {
  const zoneName = `${unique('trading')}.example.com`;
  const apiHostName = `api.${zoneName}`;
  const hostedZoneId = (await route53.send(new CreateHostedZoneCommand({ Name: zoneName, CallerReference: unique('zone') }))).HostedZone!.Id!;
  const endpoint = await route53.send(
    new CreateHealthCheckCommand({
      CallerReference: unique('endpoint'),
      HealthCheckConfig: { Type: 'HTTPS', FullyQualifiedDomainName: `d-own.execute-api.${REGION}.amazonaws.com`, ResourcePath: '/v1/health', Port: 443 },
    }),
  );
  const endpointHealthCheckId = endpoint.HealthCheck!.Id!;
  const routing = await route53.send(
    new CreateHealthCheckCommand({
      CallerReference: unique('routing'),
      HealthCheckConfig: { Type: 'CALCULATED', ChildHealthChecks: [endpointHealthCheckId], HealthThreshold: 1 },
    }),
  );
  const routingHealthCheckId = routing.HealthCheck!.Id!;
  const failoverRecord = (setIdentifier: string, failover: 'PRIMARY' | 'SECONDARY', target: string) => ({
    Action: 'CREATE' as const,
    ResourceRecordSet: {
      Name: apiHostName,
      Type: 'CNAME' as const,
      SetIdentifier: setIdentifier,
      Failover: failover,
      TTL: 60,
      HealthCheckId: routingHealthCheckId,
      ResourceRecords: [{ Value: target }],
    },
  });
  await route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: hostedZoneId,
      ChangeBatch: {
        Changes: [
          failoverRecord(SET_IDENTIFIER, 'PRIMARY', `d-own.execute-api.${REGION}.amazonaws.com`),
          failoverRecord(`SECONDARY-${PEER_REGION}`, 'SECONDARY', `d-peer.execute-api.${PEER_REGION}.amazonaws.com`),
        ],
      },
    }),
  );
  await putHealthCheckStatus(routingHealthCheckId, 1);
  return { hostedZoneId, apiHostName, endpointHealthCheckId, routingHealthCheckId };
}

/** The DR bus with a rule delivering the deployment's events to a queue the test reads. */
async function createEventBus(): Promise<{ eventBusName: string; eventQueueUrl: string }> {
  const eventBusName = unique('dr-events');
  await events.send(new CreateEventBusCommand({ Name: eventBusName }));
  const eventQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: unique('dr-events') }))).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: eventQueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  const rule = unique('all-dr-events');
  await events.send(new PutRuleCommand({ Name: rule, EventBusName: eventBusName, EventPattern: JSON.stringify({ source: [EVENT_SOURCE] }) }));
  await events.send(new PutTargetsCommand({ Rule: rule, EventBusName: eventBusName, Targets: [{ Id: 'queue', Arn: queueArn }] }));
  return { eventBusName, eventQueueUrl };
}

async function createWorld(): Promise<World> {
  const dbClusterId = unique('orders-use1');
  const peerDbClusterId = unique('orders-use2');
  const [tableNames, buckets, stateMachineArn, routing, bus] = await Promise.all([
    Promise.all([createJournalTable(), createControlTable()]),
    Promise.all([createBucketPair(), createBucketPair()]),
    createStateMachine(),
    createRouting(),
    createEventBus(),
    // This region holds the writer: only the peer's (secondary) cluster reports lag, in its region.
    putLag(peerCloudwatch, peerDbClusterId, 40),
  ]);
  await Promise.all(buckets.map((pair) => replicate(pair.source, pair.destination)));
  await startExecution(stateMachineArn);
  return {
    namespace: unique('TradingDr'),
    dbClusterId,
    peerDbClusterId,
    tableNames,
    bucketNames: buckets.map((pair) => pair.source),
    stateMachineArn,
    ...routing,
    ...bus,
    controlTable: tableNames[1],
    switchParameterName: `/${unique('trading')}/dev/dns/evacuation-switch`,
  };
}

/** moto's DescribeTable answer with the active peer replica that moto cannot report. */
const describeWithPeerReplica = async (tableName: string): Promise<TableDescription> => ({
  ...(await tableDescriber(dynamodb)(tableName)),
  Replicas: [{ RegionName: PEER_REGION, ReplicaStatus: 'ACTIVE' }],
});

function dependencies(world: World, overrides: Partial<ReadinessDependencies> = {}): ReadinessDependencies {
  return {
    region: REGION,
    peerRegion: PEER_REGION,
    peerRegionCode: PEER_REGION_CODE,
    ownApiUrl: ownApi.url,
    httpTimeoutMs: 1000,
    checkTimeoutMs: 10_000,
    dbClusterId: world.dbClusterId,
    peerDbClusterId: world.peerDbClusterId,
    maxReplicationLagMs: MAX_LAG_MS,
    tableNames: world.tableNames,
    bucketNames: world.bucketNames,
    stateMachineArn: world.stateMachineArn,
    healthCheckIds: [world.endpointHealthCheckId, world.routingHealthCheckId],
    hostedZoneId: world.hostedZoneId,
    apiHostName: world.apiHostName,
    setIdentifier: SET_IDENTIFIER,
    metricNamespace: world.namespace,
    eventBusName: world.eventBusName,
    eventSource: EVENT_SOURCE,
    controlTable: world.controlTable,
    primaryRegion: REGION,
    switchParameterName: world.switchParameterName,
    switchMetricName: 'EvacuateRegion',
    get: fetchGet,
    peerApiUrl: async () => peerApi.url,
    database,
    cloudwatch: ownCloudwatch,
    peerCloudwatch,
    route53Cloudwatch: ownCloudwatch,
    describeTable: describeWithPeerReplica,
    s3,
    sfn,
    route53,
    events,
    documents,
    ssm: ssm[REGION],
    peerSsm: ssm[PEER_REGION],
    logger: silentLogger,
    now: () => Date.now(),
    ...overrides,
  };
}

/** The readiness metrics published in the world's namespace: per check and the summary, each as min/max/samples. */
async function publishedMetrics(world: World): Promise<Record<string, { min: number; max: number; samples: number } | undefined>> {
  const end = new Date(Date.now() + 60_000);
  const read = async (metricName: string, dimensions: { Name: string; Value: string }[]) => {
    const { Datapoints } = await ownCloudwatch.send(
      new GetMetricStatisticsCommand({
        Namespace: world.namespace,
        MetricName: metricName,
        Dimensions: dimensions,
        StartTime: new Date(end.getTime() - 600_000),
        EndTime: end,
        Period: 60,
        Statistics: ['Minimum', 'Maximum', 'SampleCount'],
      }),
    );
    if (!Datapoints || Datapoints.length === 0) return undefined;
    return {
      min: Math.min(...Datapoints.map((point) => point.Minimum!)),
      max: Math.max(...Datapoints.map((point) => point.Maximum!)),
      samples: Datapoints.reduce((sum, point) => sum + point.SampleCount!, 0),
    };
  };
  const entries = await Promise.all([
    ...READINESS_CHECKS.map(
      async (check) =>
        [
          check,
          await read(READINESS_CHECK_METRIC, [
            { Name: 'Region', Value: REGION },
            { Name: 'Check', Value: check },
          ]),
        ] as const,
    ),
    (async () => [READINESS_SUMMARY_METRIC, await read(READINESS_SUMMARY_METRIC, [{ Name: 'Region', Value: REGION }])] as const)(),
  ]);
  return Object.fromEntries(entries);
}

/** The expected metrics: one sample per check and one summary, with these values. */
function expectedMetrics(failing: readonly ReadinessCheckName[]): Record<string, { min: number; max: number; samples: number }> {
  const value = (ok: boolean) => ({ min: ok ? 1 : 0, max: ok ? 1 : 0, samples: 1 });
  return {
    ...Object.fromEntries(READINESS_CHECKS.map((check) => [check, value(!failing.includes(check))])),
    [READINESS_SUMMARY_METRIC]: value(failing.length === 0),
  };
}

interface DeliveredEvent {
  source: string;
  'detail-type': string;
  detail: { region: string; failing: string[]; checks: { name: string; ok: boolean; detail: string; ms: number }[] };
}

/** Every event the bus delivered to the world's queue. */
async function deliveredEvents(world: World, waitSeconds = 0): Promise<DeliveredEvent[]> {
  const delivered: DeliveredEvent[] = [];
  for (;;) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: world.eventQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: delivered.length === 0 ? waitSeconds : 0 }),
    );
    if (!Messages || Messages.length === 0) return delivered;
    delivered.push(...Messages.map((message) => JSON.parse(message.Body!) as DeliveredEvent));
  }
}

const byName = (report: ReadinessReport) => Object.fromEntries(report.checks.map((check) => [check.name, check]));
const failingNames = (report: ReadinessReport) => report.checks.filter((check) => !check.ok).map((check) => check.name);

/** Writes the control table's active-region item, as a failover run leaves it. */
async function recordControlState(activeRegion: string, fencingEpoch: number, drainedRegions: string[]): Promise<void> {
  const item = {
    [ControlTableSchema.pk]: ControlTableSchema.activeRegionItem,
    [ControlTableSchema.activeRegion]: activeRegion,
    [ControlTableSchema.fencingEpoch]: fencingEpoch,
    [ControlTableSchema.drainedRegions]: drainedRegions,
  };
  await documents.send(new PutCommand({ TableName: world.controlTable, Item: item }));
}

/** Puts the switch that evacuates `evacuatedRegion` (hosted by the other region) in `position`. */
async function setSwitchAt(evacuatedRegion: string, position: 'thrown' | 'released'): Promise<void> {
  const hostRegion = evacuatedRegion === REGION ? PEER_REGION : REGION;
  await ssm[hostRegion].send(new PutParameterCommand({ Name: world.switchParameterName, Value: position, Type: 'String', Overwrite: true }));
}

/** Operators pause automation by writing this item (README, "Operator control"). */
async function pauseAutomation(attributes: Record<string, unknown>): Promise<void> {
  await documents.send(
    new PutCommand({ TableName: world.controlTable, Item: { [ControlTableSchema.pk]: ControlTableSchema.automationPauseItem, ...attributes } }),
  );
}

beforeAll(async () => {
  testDatabase = await createTestDatabase('readiness');
  const [migrated] = await Promise.all([migratedDatabase(testDatabase, 1), ownApi.start(), peerApi.start()]);
  database = migrated;
});

afterAll(async () => {
  await Promise.all([ownApi.stop(), peerApi.stop(), database.end()]);
  await testDatabase.drop();
});

let world: World;

beforeEach(() => {
  ownApi.reset();
  peerApi.reset();
});

/** A fresh, passing world before each test of the enclosing block. */
function withWorld(): void {
  beforeEach(async () => {
    world = await createWorld();
  });
}

describe('failover readiness when everything is in place', () => {
  withWorld();

  it('passes every check in order, publishes 1 for each and for the summary, and puts no event', async () => {
    const report = await runReadiness(dependencies(world));
    expect(report.region).toBe(REGION);
    expect(report.checks.map((check) => check.name)).toEqual([...READINESS_CHECKS]);
    expect(failingNames(report)).toEqual([]);
    expect(report.ready).toBe(true);
    expect(byName(report)).toMatchObject({
      'peer-health': { detail: `${PEER_REGION} healthy` },
      database: { detail: 'SELECT 1 answered' },
      'replication-lag': { detail: expect.stringContaining(`replication lag 40 ms (${world.peerDbClusterId} in ${PEER_REGION}`) },
      'state-machine': { detail: expect.stringMatching(/active, latest execution run-\w+ RUNNING/) },
      dns: { detail: `2 health check(s) healthy; ${world.apiHostName} CNAME PRIMARY record ${SET_IDENTIFIER}` },
      roles: { detail: `${REGION} active, ${PEER_REGION} standby` },
      automation: { detail: 'automatic failover and failback on' },
    });
    for (const check of report.checks) expect(check.ms).toBeGreaterThanOrEqual(0);
    expect(await publishedMetrics(world)).toEqual(expectedMetrics([]));
    expect(await deliveredEvents(world, 1)).toEqual([]);
    expect(ownApi.requests).toBe(1);
    expect(peerApi.requests).toBe(1);
  });
});

describe('failover readiness when one check fails', () => {
  withWorld();

  const failures: [ReadinessCheckName, string, () => Promise<Partial<ReadinessDependencies>>, string | RegExp][] = [
    [
      'own-health',
      "this region's /health answers 503 (its journal is down)",
      async () => {
        ownApi.failing(503, 'journal');
        return {};
      },
      /\/v1\/health: HTTP 503 \(journal: down\)$/,
    ],
    [
      'peer-health',
      "the peer's database is down",
      async () => {
        peerApi.failing(503, 'database');
        return {};
      },
      `${PEER_REGION} cannot serve (database and journal checks must pass): HTTP 503 (database: down)`,
    ],
    [
      'database',
      'the cluster refuses connections',
      async () => ({ database: await unreachableDatabase(1000) }),
      /^readiness query failed after 1 attempt\(s\): .*ECONNREFUSED/,
    ],
    [
      'replication-lag',
      'the secondary cluster lags more than the limit',
      async () => {
        await putLag(peerCloudwatch, world.peerDbClusterId, 5000);
        return {};
      },
      /^replication lag 5000 ms .* limit 1000 ms: too far behind$/,
    ],
    [
      'global-tables',
      "moto's DescribeTable reports no replicas (a plain table)",
      async () => ({ describeTable: tableDescriber(dynamodb) }),
      // Both tables are named: each lacks its peer replica.
      new RegExp(`^table journal-\\w+ has no replica in ${PEER_REGION} \\(replicas: none reported\\); table control-\\w+ has no replica in ${PEER_REGION}`),
    ],
    [
      'storage-replication',
      'one bucket has no replication configuration',
      async () => {
        const unreplicated = (await createBucketPair()).source;
        return { bucketNames: [...world.bucketNames, unreplicated] };
      },
      /^bucket exports-\w+-use1 has no replication configuration$/,
    ],
    [
      'state-machine',
      'the latest execution was stopped (ABORTED)',
      async () => {
        await sfn.send(new StopExecutionCommand({ executionArn: await startExecution(world.stateMachineArn) }));
        return {};
      },
      /: latest execution run-\w+ ABORTED \(started /,
    ],
    [
      'dns',
      "the routing health check's status turns unhealthy",
      async () => {
        await putHealthCheckStatus(world.routingHealthCheckId, 0);
        return {};
      },
      /^health check [\w-]+ \(CALCULATED\) is unhealthy \(HealthCheckStatus 0 at /,
    ],
    [
      'roles',
      'the standby is still drained while the primary is active (what an older version left after a failback)',
      async () => {
        await recordControlState(REGION, 2, [PEER_REGION]);
        return {};
      },
      `roles want ${REGION} active, ${PEER_REGION} standby: ${PEER_REGION} is drained; as standby it must not be`,
    ],
    [
      'automation',
      'operators paused automatic failover',
      async () => {
        await pauseAutomation({ reason: 'quarterly index rebalance', since: '2025-03-21T13:30:00.000Z' });
        return {};
      },
      'automatic failover and failback paused: quarterly index rebalance (since 2025-03-21T13:30:00.000Z)',
    ],
  ];

  it('covers every check', () => {
    expect(failures.map(([name]) => name)).toEqual([...READINESS_CHECKS]);
  });

  it.each(failures)('fails %s alone when %s: its metric 0, summary 0, one event naming it', async (name, _how, breakIt, detail) => {
    const overrides = await breakIt();
    const report = await runReadiness(dependencies(world, overrides));

    expect(report.ready).toBe(false);
    expect(failingNames(report)).toEqual([name]);
    expect(byName(report)[name].detail).toMatch(detail);
    expect(await publishedMetrics(world)).toEqual(expectedMetrics([name]));
    const delivered = await deliveredEvents(world, 2);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ source: EVENT_SOURCE, 'detail-type': READINESS_FAILED_DETAIL_TYPE, detail: { region: REGION, failing: [name] } });
    expect(delivered[0].detail.checks).toEqual(JSON.parse(JSON.stringify(report.checks)));
  });
});

describe('readiness checks in detail', () => {
  withWorld();

  it('counts a drained peer (503 with only its control check failing) as ready', async () => {
    peerApi.failing(503, 'control');
    const report = await runReadiness(dependencies(world));
    expect(failingNames(report)).toEqual([]);
    expect(byName(report)['peer-health'].detail).toBe(`${PEER_REGION} answers HTTP 503 (control: down); its database and journal checks pass`);
  });

  it('counts this region drained after a planned failover (503, only its control check failing) as ready to take the role back', async () => {
    ownApi.failing(503, 'control');
    const report = await runReadiness(dependencies(world));
    expect(failingNames(report)).toEqual([]);
    expect(byName(report)['own-health'].detail).toBe('drained: HTTP 503 (control: down); its database and journal checks pass');
  });

  it('fails peer-health, naming the parameter problem, when the peer API URL cannot be read', async () => {
    const report = await runReadiness(
      dependencies(world, { peerApiUrl: async () => Promise.reject(new Error('read /trading/use2/api-url in us-east-2 failed after 2 attempt(s): timeout')) }),
    );
    expect(failingNames(report)).toEqual(['peer-health']);
    expect(byName(report)['peer-health'].detail).toBe(
      `${PEER_REGION} API URL unreadable: read /trading/use2/api-url in us-east-2 failed after 2 attempt(s): timeout`,
    );
  });

  it('fails replication-lag with "no replication lag reported" when neither cluster reports any', async () => {
    const report = await runReadiness(dependencies(world, { dbClusterId: unique('silent'), peerDbClusterId: unique('silent') }));
    expect(failingNames(report)).toEqual(['replication-lag']);
    expect(byName(report)['replication-lag'].detail).toBe('no replication lag reported in the last 10 minutes');
  });

  it("reads the lag of this region's cluster when it is the secondary, even with the peer region's CloudWatch down", async () => {
    await putLag(ownCloudwatch, world.dbClusterId, 75);
    const deadPeer = new CloudWatchClient({ region: PEER_REGION, endpoint: CLOSED, maxAttempts: 1 });
    const report = await runReadiness(dependencies(world, { peerCloudwatch: deadPeer }));
    expect(failingNames(report)).toEqual([]);
    expect(byName(report)['replication-lag'].detail).toContain(`replication lag 75 ms (${world.dbClusterId} in ${REGION}`);
  });

  it('fails replication-lag naming the region it could not read when the other reports nothing', async () => {
    const deadPeer = new CloudWatchClient({ region: PEER_REGION, endpoint: CLOSED, maxAttempts: 1 });
    const report = await runReadiness(dependencies(world, { dbClusterId: unique('silent'), peerCloudwatch: deadPeer }));
    expect(failingNames(report)).toEqual(['replication-lag']);
    expect(byName(report)['replication-lag'].detail).toMatch(
      new RegExp(
        `^no replication lag reported \\(unreadable: ${world.peerDbClusterId} in ${PEER_REGION}: read AuroraGlobalDBReplicationLag of ${world.peerDbClusterId} in ${PEER_REGION} failed after 3 attempt\\(s\\): .+\\) in the last 10 minutes$`,
      ),
    );
  });

  it('fails global-tables naming a table that does not exist', async () => {
    const missing = unique('missing');
    const report = await runReadiness(dependencies(world, { tableNames: [...world.tableNames, missing], describeTable: tableDescriber(dynamodb) }));
    expect(byName(report)['global-tables'].detail).toContain(`table ${missing}: `);
  });

  it.each<[string, (pair: { source: string; destination: string }) => Promise<void>, (pair: { source: string; destination: string }) => string]>([
    ['its rule is disabled', (pair) => replicate(pair.source, pair.destination, 'Disabled'), (pair) => `to-peer Disabled to arn:aws:s3:::${pair.destination}`],
    [
      'it replicates to another region',
      (pair) => replicate(pair.source, `${pair.source}-usw2`),
      (pair) => `to-peer Enabled to arn:aws:s3:::${pair.source}-usw2`,
    ],
  ])('fails storage-replication for a bucket when %s', async (_case, configure, rules) => {
    const pair = await createBucketPair();
    await configure(pair);
    const report = await runReadiness(dependencies(world, { bucketNames: [pair.source] }));
    expect(failingNames(report)).toEqual(['storage-replication']);
    expect(byName(report)['storage-replication'].detail).toBe(
      `bucket ${pair.source} has no enabled replication rule to a ${PEER_REGION_CODE} bucket (rules: ${rules(pair)})`,
    );
  });

  it('passes state-machine before the first execution', async () => {
    const report = await runReadiness(dependencies(world, { stateMachineArn: await createStateMachine() }));
    expect(failingNames(report)).toEqual([]);
    expect(byName(report)['state-machine'].detail).toMatch(/active, no execution yet$/);
  });

  it('judges only the latest execution: an aborted one followed by a new run is ready', async () => {
    await sfn.send(new StopExecutionCommand({ executionArn: await startExecution(world.stateMachineArn) }));
    await startExecution(world.stateMachineArn);
    const report = await runReadiness(dependencies(world));
    expect(failingNames(report)).toEqual([]);
  });

  it('fails state-machine naming the machine when it does not exist', async () => {
    const missing = world.stateMachineArn.replace(/:stateMachine:.*$/, ':stateMachine:gone');
    const report = await runReadiness(dependencies(world, { stateMachineArn: missing }));
    expect(failingNames(report)).toEqual(['state-machine']);
    expect(byName(report)['state-machine'].detail).toContain('gone');
  });

  it("fails dns when the failover record with this region's SetIdentifier is missing", async () => {
    const report = await runReadiness(dependencies(world, { setIdentifier: `SECONDARY-${REGION}` }));
    expect(failingNames(report)).toEqual(['dns']);
    expect(byName(report).dns.detail).toBe(
      `no failover record ${world.apiHostName} with SetIdentifier SECONDARY-${REGION} in hosted zone ${world.hostedZoneId}`,
    );
  });

  it('fails dns naming a health check that does not exist', async () => {
    const report = await runReadiness(dependencies(world, { healthCheckIds: [world.endpointHealthCheckId, 'no-such-check'] }));
    expect(failingNames(report)).toEqual(['dns']);
    expect(byName(report).dns.detail).toMatch(/^health check no-such-check: /);
  });

  it('fails dns when a health check is disabled (Route 53 would count it healthy whatever happens)', async () => {
    await route53.send(new UpdateHealthCheckCommand({ HealthCheckId: world.endpointHealthCheckId, Disabled: true }));
    const report = await runReadiness(dependencies(world));
    expect(failingNames(report)).toEqual(['dns']);
    expect(byName(report).dns.detail).toBe(`health check ${world.endpointHealthCheckId} (HTTPS) is disabled`);
  });

  it('fails dns when the calculated check reported no status recently', async () => {
    const silent = await route53.send(
      new CreateHealthCheckCommand({
        CallerReference: unique('silent'),
        HealthCheckConfig: { Type: 'CALCULATED', ChildHealthChecks: [world.endpointHealthCheckId], HealthThreshold: 1 },
      }),
    );
    const report = await runReadiness(dependencies(world, { healthCheckIds: [silent.HealthCheck!.Id!] }));
    expect(byName(report).dns.detail).toBe(`health check ${silent.HealthCheck!.Id} (CALCULATED) reported no status in the last 10 minutes`);
  });
});

describe('the roles and automation checks', () => {
  withWorld();

  it('passes roles after a failover: the secondary active, the primary drained and its switch thrown', async () => {
    await recordControlState(PEER_REGION, 1, [REGION]);
    await setSwitchAt(REGION, 'thrown');
    const report = await runReadiness(dependencies(world));
    expect(failingNames(report)).toEqual([]);
    expect(byName(report).roles.detail).toBe(`${PEER_REGION} active, ${REGION} evacuated`);
  });

  it("fails roles when the primary's switch is released while the secondary is active (traffic would return before its writer)", async () => {
    await recordControlState(PEER_REGION, 1, [REGION]);
    await setSwitchAt(REGION, 'released');
    const report = await runReadiness(dependencies(world));
    expect(failingNames(report)).toEqual(['roles']);
    expect(byName(report).roles.detail).toBe(
      `roles want ${PEER_REGION} active, ${REGION} evacuated: ${REGION}'s evacuation switch is released; as evacuated it must be thrown`,
    );
  });

  it('fails roles naming every gap: the standby drained and its switch, hosted here, thrown', async () => {
    await recordControlState(REGION, 2, [PEER_REGION]);
    await setSwitchAt(PEER_REGION, 'thrown');
    const report = await runReadiness(dependencies(world));
    expect(failingNames(report)).toEqual(['roles']);
    expect(byName(report).roles.detail).toBe(
      `roles want ${REGION} active, ${PEER_REGION} standby: ${PEER_REGION} is drained; as standby it must not be; ${PEER_REGION}'s evacuation switch is thrown; as standby it must be released`,
    );
  });

  it("reports this region's switch as unreadable when the peer's SSM does not answer, instead of taking it for released", async () => {
    const deadPeer = new SSMClient(crossRegionClientConfig(PEER_REGION, { connectionTimeoutMs: 500, requestTimeoutMs: 500 }, CLOSED));
    const report = await runReadiness(dependencies(world, { peerSsm: deadPeer }));
    expect(failingNames(report)).toEqual(['roles']);
    expect(byName(report).roles.detail).toMatch(
      new RegExp(
        `^roles want ${REGION} active, ${PEER_REGION} standby: ${REGION}'s evacuation switch \\(${world.switchParameterName} in ${PEER_REGION}\\) unreadable: read the evacuation switch ${world.switchParameterName} in ${PEER_REGION} failed after 2 attempt\\(s\\): .+$`,
      ),
    );
    deadPeer.destroy();
  });

  it('fails roles and automation naming the control table when it cannot be read', async () => {
    const report = await runReadiness(dependencies(world, { controlTable: unique('missing') }));
    expect(failingNames(report)).toEqual(['roles', 'automation']);
    expect(byName(report).roles.detail).toMatch(/^read the control state from missing-\w+ failed after 3 attempt\(s\): /);
    expect(byName(report).automation.detail).toMatch(/^read automation-pause from missing-\w+ failed after 3 attempt\(s\): /);
  });

  it('fails automation with "since unknown" and no reason when the pause item carries neither', async () => {
    await pauseAutomation({});
    const report = await runReadiness(dependencies(world));
    expect(failingNames(report)).toEqual(['automation']);
    expect(byName(report).automation.detail).toBe('automatic failover and failback paused: no reason given (since unknown)');
  });

  it('passes automation again once the pause item is removed', async () => {
    await pauseAutomation({ reason: 'maintenance' });
    expect(failingNames(await runReadiness(dependencies(world)))).toEqual(['automation']);
    await documents.send(new DeleteCommand({ TableName: world.controlTable, Key: { [ControlTableSchema.pk]: ControlTableSchema.automationPauseItem } }));
    const report = await runReadiness(dependencies(world));
    expect(failingNames(report)).toEqual([]);
    expect(byName(report).automation.detail).toBe('automatic failover and failback on');
  });

  it('fails roles, naming the rule, when the primary region is neither region', async () => {
    const report = await runReadiness(dependencies(world, { primaryRegion: 'eu-west-1' }));
    expect(failingNames(report)).toEqual(['roles']);
    expect(byName(report).roles.detail).toBe(`primary region eu-west-1 is neither this region (${REGION}) nor the peer (${PEER_REGION})`);
  });
});

describe('readiness judgements', () => {
  it.each<[string, TableDescription, string]>([
    ['the table is not active', { TableStatus: 'UPDATING', Replicas: [{ RegionName: PEER_REGION, ReplicaStatus: 'ACTIVE' }] }, 'table orders is UPDATING'],
    [
      'the peer replica is still being created',
      { TableStatus: 'ACTIVE', Replicas: [{ RegionName: PEER_REGION, ReplicaStatus: 'CREATING' }] },
      `table orders has replicas not active: ${PEER_REGION} CREATING`,
    ],
    [
      'the replicas are elsewhere',
      { TableStatus: 'ACTIVE', Replicas: [{ RegionName: 'eu-west-1', ReplicaStatus: 'ACTIVE' }] },
      `table orders has no replica in ${PEER_REGION} (replicas: eu-west-1)`,
    ],
  ])('judges a global table not ready when %s', (_case, table, problem) => {
    expect(globalTableProblem(table, 'orders', PEER_REGION)).toBe(problem);
  });

  it('judges a global table ready when it and its peer replica are active', () => {
    expect(
      globalTableProblem({ TableStatus: 'ACTIVE', Replicas: [{ RegionName: PEER_REGION, ReplicaStatus: 'ACTIVE' }] }, 'orders', PEER_REGION),
    ).toBeUndefined();
  });

  it.each<[string, string[], boolean]>([
    ['no checker reports', [], false],
    ['1 of 8 checkers (12.5%) report success', ['Success', ...Array(7).fill('Failure')], false],
    ['9 of 50 checkers (exactly 18%) report success', [...Array(9).fill('Success'), ...Array(41).fill('Failure')], false],
    ['2 of 8 checkers (25%) report success', ['Success', 'Success', ...Array(6).fill('Failure')], true],
    ['every checker reports success', Array(8).fill('Success'), true],
  ])('applies Route 53 rule (more than 18%% healthy) when %s', (_case, statuses, healthy) => {
    const observations = statuses.map((status, index) => ({
      Region: 'us-east-1' as const,
      IPAddress: `127.0.0.${index}`,
      StatusReport: { Status: `${status}: HTTP Status Code 200` },
    }));
    expect(checkersReportHealthy(observations).healthy).toBe(healthy);
  });
});

describe('readiness runs every check whatever one does', () => {
  withWorld();

  it('turns a check that throws into its failure with the message, and runs the others', async () => {
    const exploding = { query: async () => Promise.reject(new Error('driver exploded')) } as unknown as Database;
    const report = await runReadiness(dependencies(world, { database: exploding }));
    expect(failingNames(report)).toEqual(['database']);
    expect(byName(report).database.detail).toBe('driver exploded');
    expect(report.checks).toHaveLength(READINESS_CHECKS.length);
    expect(ownApi.requests).toBe(1);
    expect(peerApi.requests).toBe(1);
  });

  it('fails a check that does not answer within its timeout, and the others still pass', async () => {
    const report = await runReadiness(dependencies(world, { checkTimeoutMs: 2000, describeTable: () => new Promise<TableDescription>(() => undefined) }));
    expect(failingNames(report)).toEqual(['global-tables']);
    expect(byName(report)['global-tables']).toMatchObject({ detail: 'no answer within 2000 ms' });
    expect(byName(report)['global-tables'].ms).toBeGreaterThanOrEqual(1900);
    expect(await publishedMetrics(world)).toEqual(expectedMetrics(['global-tables']));
  });

  it('throws, naming the metrics, when they cannot be published after retries', async () => {
    const dead = new CloudWatchClient({ region: REGION, endpoint: CLOSED, maxAttempts: 1 });
    await expect(runReadiness(dependencies(world, { cloudwatch: dead }))).rejects.toThrow(
      `publish readiness metrics to ${world.namespace} failed after 3 attempt(s)`,
    );
  });

  it('throws, naming the event, when a failure cannot be put on the bus (the metrics are already out)', async () => {
    ownApi.failing(503, 'database');
    const dead = new EventBridgeClient({ region: REGION, endpoint: CLOSED, maxAttempts: 1 });
    await expect(runReadiness(dependencies(world, { events: dead }))).rejects.toThrow(
      `put the ${READINESS_FAILED_DETAIL_TYPE} event on ${world.eventBusName} failed after 3 attempt(s)`,
    );
    expect(await publishedMetrics(world)).toEqual(expectedMetrics(['own-health']));
  });
});

describe('the scheduled invocation', () => {
  withWorld();

  it.each([null, 'rate(1 hour)', 42, [{ source: 'aws.events' }]])('refuses the event %j before any check runs', async (event) => {
    await expect(runScheduled(event, dependencies(world))).rejects.toThrow('invalid readiness event: expected an object (the EventBridge scheduled event)');
    expect(ownApi.requests).toBe(0);
  });

  it('ignores the content of a scheduled event and reports', async () => {
    const event = {
      version: '0',
      id: 'e-1',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      time: new Date().toISOString(),
      region: REGION,
      resources: [],
      detail: {},
    };
    const report = await runScheduled(event, dependencies(world));
    expect(report.ready).toBe(true);
  });
});

describe('the handler module', () => {
  const environment: Record<string, string> = {
    AWS_REGION: REGION,
    PEER_REGION,
    PEER_REGION_CODE,
    PEER_API_URL_PARAMETER: '/trading/use2/api-url',
    HTTP_TIMEOUT_MS: '3000',
    CHECK_TIMEOUT_MS: '20000',
    OWN_API_URL: 'https://abc.execute-api.us-east-1.amazonaws.com/v1/',
    DB_CLUSTER_ID: 'orders-use1',
    PEER_DB_CLUSTER_ID: 'orders-use2',
    MAX_REPLICATION_LAG_MS: '1000',
    GLOBAL_TABLE_NAMES: 'journal, control',
    REPLICATED_BUCKET_NAMES: 'exports-use1',
    STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:failover',
    HEALTH_CHECK_IDS: 'hc-endpoint,hc-routing',
    HOSTED_ZONE_ID: 'Z123',
    API_HOST_NAME: 'api.trading.example.com',
    SET_IDENTIFIER: SET_IDENTIFIER,
    METRIC_NAMESPACE: 'TradingDr',
    EVENT_BUS_NAME: 'trading-dr-events',
    EVENT_SOURCE,
    CONTROL_TABLE: 'control',
    PRIMARY_REGION: REGION,
    SWITCH_PARAMETER: '/trading/dev/dns/evacuation-switch',
    EVACUATION_METRIC_NAME: 'EvacuateRegion',
  };
  let saved: NodeJS.ProcessEnv;

  beforeEach(() => {
    saved = { ...process.env };
  });

  afterEach(() => {
    process.env = saved;
  });

  async function loadHandler(env: Record<string, string | undefined>): Promise<typeof import('../../lambda/readiness/index')> {
    process.env = { ...saved, ...env };
    let loaded: typeof import('../../lambda/readiness/index') | undefined;
    await jest.isolateModulesAsync(async () => {
      loaded = await import('../../lambda/readiness/index');
    });
    return loaded!;
  }

  it.each<[string, Record<string, string | undefined>, string]>([
    ['a missing health check list', { HEALTH_CHECK_IDS: undefined }, 'HEALTH_CHECK_IDS: '],
    ['an empty bucket list', { REPLICATED_BUCKET_NAMES: ' , ' }, 'REPLICATED_BUCKET_NAMES: must name at least one (comma-separated)'],
    ['an API URL without the trailing slash', { OWN_API_URL: 'https://abc.execute-api.us-east-1.amazonaws.com/v1' }, 'OWN_API_URL: '],
    ['a region name as the peer code', { PEER_REGION_CODE: 'us-east-2' }, 'PEER_REGION_CODE: must be a region code like use2'],
    ['a primary region that is neither region', { PRIMARY_REGION: 'eu-west-1' }, 'PRIMARY_REGION: must be this region (AWS_REGION) or the peer (PEER_REGION)'],
    ['no control table', { CONTROL_TABLE: undefined }, 'CONTROL_TABLE: '],
    ['a switch parameter that is not a path', { SWITCH_PARAMETER: 'dns/evacuation-switch' }, 'SWITCH_PARAMETER: '],
  ])('refuses to load with %s, naming the variable', async (_case, change, problem) => {
    await expect(loadHandler({ ...environment, ...change })).rejects.toThrow(problem);
  });

  it('loads with the documented environment and refuses a non-object event', async () => {
    const { handler } = await loadHandler(environment);
    const context = {
      functionName: 'readiness',
      awsRequestId: 'r-1',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:readiness',
    } as unknown as Context;
    await expect(handler('not an event', context)).rejects.toThrow('invalid readiness event');
  });
});
