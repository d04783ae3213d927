import { randomBytes } from 'crypto';
import type { IncomingMessage, ServerResponse } from 'http';
import { createServer, type Server, type Socket } from 'net';
import { CloudWatchClient, GetMetricStatisticsCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { HistoryEvent, HistoryEventType } from '@aws-sdk/client-sfn';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  canaryOrder,
  FailoverFigures,
  PreflightResult,
  runStep,
  stepDurations,
  StepDependencies,
  ValidationFailedError,
  ValidationResult,
} from '../../lambda/failover-steps/steps';
import { fetchGet } from '../../lambda/shared/health-probe';
import { OrderRequestSchema } from '../../lambda/contracts/order-request';
import { crossRegionClientConfig } from '../../lambda/shared/cross-region';
import { peerParameterReader } from '../../lambda/shared/peer-parameter';
import { ControlTableSchema } from '../../lambda/contracts/tables';
import { createControlTable, documents, silentLogger } from '../helpers/aws';
import { AuroraGlobalModel } from '../helpers/aurora-global';
import { LoopbackApi } from '../helpers/loopback-api';

/**
 * The failover steps that need logic (preflight, promotion, evacuation switches, validation,
 * recording) against moto_server (control table, CloudWatch and SSM in both regions), stand-in
 * APIs on loopback for each region's /health and order routes, and the Aurora global database
 * model of test/helpers/aurora-global.ts (nothing here can run Aurora). DNS answers and the
 * execution history are the other fakes: nothing here can answer for Route 53 or Step Functions.
 */

const REGION = 'us-east-2';
const PEER_REGION = 'us-east-1';
const API_HOST = 'api.trading.example.com';
const API_TARGET = 'd-target.execute-api.us-east-2.amazonaws.com';
/** A loopback port nothing listens on: a region that is down. */
const CLOSED = 'http://127.0.0.1:9';

const ownCloudwatch = new CloudWatchClient({ region: REGION });
const peerCloudwatch = new CloudWatchClient({ region: PEER_REGION });
const ownSsm = new SSMClient({ region: REGION });
const peerSsm = new SSMClient({ region: PEER_REGION });
const deadPeer = {
  ssm: new SSMClient({ region: PEER_REGION, endpoint: CLOSED, maxAttempts: 1 }),
  cloudwatch: new CloudWatchClient({ region: PEER_REGION, endpoint: CLOSED, maxAttempts: 1 }),
};
const GLOBAL_CLUSTER = 'aurora-global-orders-test';
const OWN_CLUSTER_ARN = `arn:aws:rds:${REGION}:111111111111:cluster:aurora-orders-use2-test`;
const PEER_CLUSTER_ARN = `arn:aws:rds:${PEER_REGION}:111111111111:cluster:aurora-orders-use1-test`;

type Source = 'database' | 'journal';

/** A region's API on loopback: /health with a chosen answer, and order routes that keep what they accept. */
class StandInApi extends LoopbackApi {
  public healthStatus = 200;
  public failingChecks: string[] = [];
  /** Statuses answered before `healthStatus`, one per request (a region that recovers). */
  public healthScript: number[] = [];
  /** Where a read-back says the order came from; `sourceScript` answers first, one per read. */
  public source: Source = 'database';
  public sourceScript: Source[] = [];
  public readonly requests: { method: string; path: string; body: string }[] = [];
  private readonly orders = new Map<string, Record<string, unknown>>();

  reset(): void {
    this.healthStatus = 200;
    this.failingChecks = [];
    this.healthScript = [];
    this.source = 'database';
    this.sourceScript = [];
    this.requests.length = 0;
    this.orders.clear();
  }

  count(method: string, pathPrefix: string): number {
    return this.requests.filter((request) => request.method === method && request.path.startsWith(pathPrefix)).length;
  }

  protected answer(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = request.url ?? '';
      this.requests.push({ method: request.method ?? '', path, body });
      const send = (status: number, answer: unknown): void => this.send(response, status, answer);
      if (request.method === 'GET' && path === '/v1/health') {
        const status = this.healthScript.shift() ?? this.healthStatus;
        send(status, this.healthBody(status, this.failingChecks));
      } else if (request.method === 'POST' && path === '/v1/orders') {
        // The real request schema: a canary the API would refuse is refused here too.
        let parsedJson: unknown;
        try {
          parsedJson = JSON.parse(body);
        } catch {
          send(400, { error: 'invalid_json' });
          return;
        }
        const parsed = OrderRequestSchema.safeParse(parsedJson);
        if (!parsed.success) {
          send(400, { error: 'invalid_order', problems: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) });
          return;
        }
        const known = this.orders.has(parsed.data.clientOrderId);
        this.orders.set(parsed.data.clientOrderId, parsed.data);
        send(known ? 200 : 201, { clientOrderId: parsed.data.clientOrderId, status: 'accepted' });
      } else if (request.method === 'GET' && path.startsWith('/v1/orders/')) {
        // As the lookup: an order is found by its account's client order id (GET /orders/{id}?accountId=).
        const url = new URL(path, 'http://api');
        const order = this.orders.get(decodeURIComponent(url.pathname.slice('/v1/orders/'.length)));
        if (!order || order.accountId !== url.searchParams.get('accountId')) {
          send(404, { error: 'not_found' });
          return;
        }
        send(200, { ...order, source: this.sourceScript.shift() ?? this.source });
      } else {
        send(404, { error: 'not_found' });
      }
    });
  }
}

const ownApi = new StandInApi();
const peerApi = new StandInApi();
let controlTable: string;
let cnameAnswers: () => Promise<string[]>;
let resolved: string[];
let figures: FailoverFigures[];
let aurora: AuroraGlobalModel;

beforeAll(async () => {
  await Promise.all([ownApi.start(), peerApi.start()]);
});

afterAll(async () => {
  for (const client of [ownSsm, peerSsm, deadPeer.ssm, deadPeer.cloudwatch]) client.destroy();
  await Promise.all([ownApi.stop(), peerApi.stop()]);
});

beforeEach(async () => {
  ownApi.reset();
  peerApi.reset();
  controlTable = await createControlTable();
  cnameAnswers = async () => [API_TARGET];
  resolved = [];
  figures = [];
  aurora = new AuroraGlobalModel(GLOBAL_CLUSTER, { [REGION]: OWN_CLUSTER_ARN, [PEER_REGION]: PEER_CLUSTER_ARN }, PEER_REGION);
});

function unique(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

function dependencies(overrides: Partial<StepDependencies> = {}): StepDependencies {
  return {
    region: REGION,
    peerRegion: PEER_REGION,
    primaryRegion: PEER_REGION,
    controlTable,
    ownApiUrl: ownApi.url,
    apiHostName: API_HOST,
    ownApiTarget: API_TARGET,
    dbClusterId: unique('orders-cluster'),
    metricNamespace: unique('TradingDr'),
    switchMetricName: 'EvacuateRegion',
    switchParameterName: `/${unique('app')}/evacuation-switch`,
    requireDataLossApproval: false,
    globalClusterId: GLOBAL_CLUSTER,
    ownClusterArn: OWN_CLUSTER_ARN,
    rds: (region) => aurora.client(region),
    lockSeconds: 3600,
    validationTimeoutMs: 300,
    httpTimeoutMs: 1000,
    pollMs: 20,
    documents,
    cloudwatch: ownCloudwatch,
    localSwitch: { ssm: ownSsm, cloudwatch: ownCloudwatch },
    peerSwitch: { ssm: peerSsm, cloudwatch: peerCloudwatch },
    peerApiUrl: async () => peerApi.url,
    get: fetchGet,
    signed: async (request) => {
      const response = await fetch(request.url, { method: request.method, body: request.body, headers: { 'content-type': 'application/json' } });
      return { status: response.status, body: await response.text() };
    },
    resolveCname: async (name) => {
      resolved.push(name);
      return cnameAnswers();
    },
    history: async () => [],
    emit: (each) => figures.push(each),
    logger: silentLogger,
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    ...overrides,
  };
}

const preflight = (deps: StepDependencies, mode: 'planned' | 'unplanned' = 'planned', allowDataLoss?: boolean): Promise<PreflightResult> =>
  runStep(
    { action: 'preflight', input: { mode, reason: 'test drill', ...(allowDataLoss === undefined ? {} : { allowDataLoss }) } },
    deps,
  ) as Promise<PreflightResult>;

const validate = (deps: StepDependencies, canaryOrderId = 'canary-0001'): Promise<ValidationResult> =>
  runStep({ action: 'validate', canaryOrderId }, deps) as Promise<ValidationResult>;

async function putControl(activeRegion: string, fencingEpoch: number): Promise<void> {
  await documents.send(
    new PutCommand({
      TableName: controlTable,
      Item: {
        [ControlTableSchema.pk]: ControlTableSchema.activeRegionItem,
        [ControlTableSchema.activeRegion]: activeRegion,
        [ControlTableSchema.fencingEpoch]: fencingEpoch,
      },
    }),
  );
}

/** Every datapoint of a metric in the last ten minutes, per minute, oldest first. */
async function datapoints(client: CloudWatchClient, namespace: string, metricName: string, dimension: { Name: string; Value: string }) {
  const end = new Date(Date.now() + 60_000);
  const { Datapoints } = await client.send(
    new GetMetricStatisticsCommand({
      Namespace: namespace,
      MetricName: metricName,
      Dimensions: [dimension],
      StartTime: new Date(end.getTime() - 600_000),
      EndTime: end,
      Period: 60,
      Statistics: ['Minimum', 'Maximum', 'SampleCount'],
    }),
  );
  return [...(Datapoints ?? [])].sort((a, b) => a.Timestamp!.getTime() - b.Timestamp!.getTime());
}

describe('failover step requests', () => {
  it.each([
    [{ action: 'promote' }, 'kind: kind must be "switchover" or "failover"'],
    [{ action: 'release' }, 'action: action must be one of preflight, promote, setSwitches, validate, record'],
    [{ mode: 'planned', reason: 'drill' }, 'action: action must be one of preflight, promote, setSwitches, validate, record'],
    [{ action: 'preflight', input: { mode: 'sudden', reason: 'drill' } }, 'input.mode: mode must be "planned" or "unplanned"'],
    [{ action: 'preflight', input: { mode: 'planned', reason: '' } }, 'input.reason: reason must say why the failover runs'],
    [{ action: 'preflight', input: { mode: 'unplanned', reason: 'x', allowDataLoss: 'yes' } }, 'input.allowDataLoss: allowDataLoss must be true or false'],
    [{ action: 'setSwitches' }, 'activeRegion: '],
    [{ action: 'validate', canaryOrderId: 'has spaces' }, 'canaryOrderId: canaryOrderId must be a client order id'],
    [{ action: 'record', executionArn: 'arn:x', startedAt: 'yesterday', outcome: 'succeeded', mode: 'planned' }, 'startedAt: '],
  ])('refuses %j, naming the field', async (request, problem) => {
    const deps = dependencies();
    await expect(runStep(request, deps)).rejects.toThrow(`invalid failover step request: ${problem}`);
    // Refused before any step ran: nothing was probed.
    expect(ownApi.requests).toEqual([]);
  });
});

describe('preflight', () => {
  it('is ready when this region answers 200 and the peer answers, and reports both probes', async () => {
    const result = await preflight(dependencies());
    expect(result.ready).toBe(true);
    expect(result.problems).toEqual([]);
    expect(result.own).toMatchObject({ answered: true, status: 200, detail: 'healthy' });
    expect(result.own.checks.map((check) => check.name)).toEqual(['database', 'journal', 'control']);
    expect(result.peer).toMatchObject({ answered: true, status: 200 });
    expect(result.peerAnswers).toBe(true);
    expect(ownApi.count('GET', '/v1/health')).toBe(1);
    expect(peerApi.count('GET', '/v1/health')).toBe(1);
  });

  it('is ready when this region answers 503 only because its control check fails (a drained region coming back)', async () => {
    ownApi.healthStatus = 503;
    ownApi.failingChecks = ['control'];
    const result = await preflight(dependencies());
    expect(result.ready).toBe(true);
    expect(result.problems).toEqual([]);
    expect(result.own).toMatchObject({ answered: true, status: 503, detail: 'HTTP 503 (control: down)' });
  });

  it.each(['database', 'journal'])('is not ready when this region fails its %s check, and says which', async (check) => {
    ownApi.healthStatus = 503;
    ownApi.failingChecks = [check];
    const result = await preflight(dependencies());
    expect(result.ready).toBe(false);
    expect(result.problems).toEqual([`this region cannot serve: HTTP 503 (${check}: down)`]);
  });

  it('is not ready when this region does not answer at all', async () => {
    const result = await preflight(dependencies({ ownApiUrl: `${CLOSED}/v1/` }));
    expect(result.ready).toBe(false);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(/^this region's API does not answer: no answer from http:\/\/127\.0\.0\.1:9\/v1\/health: /);
  });

  it('refuses a planned failover when the peer does not answer, and points to an unplanned one', async () => {
    const result = await preflight(dependencies({ peerApiUrl: async () => `${CLOSED}/v1/` }), 'planned');
    expect(result.ready).toBe(false);
    expect(result.peerAnswers).toBe(false);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toContain(
      `a planned failover needs ${PEER_REGION} to answer for the switchover, and it does not (no answer from ${CLOSED}/v1/health`,
    );
    expect(result.problems[0]).toMatch(/; start an unplanned failover instead$/);
  });

  it('lets an unplanned failover proceed when the peer does not answer', async () => {
    const result = await preflight(dependencies({ peerApiUrl: async () => `${CLOSED}/v1/` }), 'unplanned');
    expect(result.ready).toBe(true);
    expect(result.problems).toEqual([]);
    expect(result.peerAnswers).toBe(false);
    expect(result.peer.answered).toBe(false);
  });

  it('treats a peer whose API URL cannot be read as not answering', async () => {
    const deps = dependencies({
      peerApiUrl: async () => {
        throw new Error('ParameterNotFound');
      },
    });
    const unplanned = await preflight(deps, 'unplanned');
    expect(unplanned.ready).toBe(true);
    expect(unplanned.peer).toEqual({ answered: false, checks: [], detail: 'peer API URL unreadable: ParameterNotFound', ms: 0 });
    const planned = await preflight(deps, 'planned');
    expect(planned.ready).toBe(false);
    expect(planned.problems[0]).toContain('(peer API URL unreadable: ParameterNotFound)');
  });

  it('counts a peer that answers 503 as answering (a planned failover can still switch over)', async () => {
    peerApi.healthStatus = 503;
    peerApi.failingChecks = ['database'];
    const result = await preflight(dependencies(), 'planned');
    expect(result.ready).toBe(true);
    expect(result.peerAnswers).toBe(true);
    expect(result.peer.status).toBe(503);
  });

  it('gives the recorded epoch, the next one and the rollback one as DynamoDB number texts', async () => {
    await putControl(PEER_REGION, 4);
    const result = await preflight(dependencies());
    expect(result.control).toEqual({ activeRegion: PEER_REGION, fencingEpoch: 4, fencingEpochText: '4', nextEpochText: '5', restoreEpochText: '6' });
  });

  it('starts from epoch 0 with the primary active when no control item exists yet', async () => {
    const result = await preflight(dependencies());
    expect(result.control).toEqual({ activeRegion: PEER_REGION, fencingEpoch: 0, fencingEpochText: '0', nextEpochText: '1', restoreEpochText: '2' });
  });

  it('gives the lock as epoch seconds: now, and now plus the lock duration', async () => {
    const now = Date.parse('2025-03-04T05:06:07.890Z');
    const result = await preflight(dependencies({ now: () => now, lockSeconds: 900 }));
    expect(result.lock).toEqual({ nowText: String(Math.floor(now / 1000)), expiresAtText: String(Math.floor(now / 1000) + 900) });
    expect(result.lock.nowText).toBe('1741064767');
  });

  it("reads this region's Aurora replication lag: the latest minute's maximum of its own cluster", async () => {
    const deps = dependencies();
    const now = Date.now();
    const lag = (cluster: string, value: number, at: number) => ({
      MetricName: 'AuroraGlobalDBReplicationLag',
      Dimensions: [{ Name: 'DBClusterIdentifier', Value: cluster }],
      Timestamp: new Date(at),
      Value: value,
      Unit: 'Milliseconds' as const,
    });
    await ownCloudwatch.send(
      new PutMetricDataCommand({
        Namespace: 'AWS/RDS',
        MetricData: [
          lag(deps.dbClusterId, 900, now - 4 * 60_000),
          lag(deps.dbClusterId, 120, now - 60_000),
          lag(deps.dbClusterId, 250, now - 60_000),
          // Another cluster's lag, and this cluster's lag reported in the peer region: not this region's figure.
          lag(unique('other-cluster'), 5000, now - 60_000),
        ],
      }),
    );
    await peerCloudwatch.send(new PutMetricDataCommand({ Namespace: 'AWS/RDS', MetricData: [lag(deps.dbClusterId, 7000, now - 30_000)] }));
    const result = await preflight({ ...deps, now: () => now });
    expect(result.replicationLagMs).toBe(250);
  });

  it('records the replication lag as null when none is reported', async () => {
    const result = await preflight(dependencies());
    expect(result.replicationLagMs).toBeNull();
  });

  it('records the replication lag as null when CloudWatch cannot be read, and stays ready', async () => {
    const result = await preflight(dependencies({ cloudwatch: new CloudWatchClient({ region: REGION, endpoint: CLOSED, maxAttempts: 1 }) }));
    expect(result.replicationLagMs).toBeNull();
    expect(result.ready).toBe(true);
  });
});

describe('preflight: the promotion and the roles', () => {
  it('plans a switchover when the primary region answers and this region is in sync, and drains the primary in the fence', async () => {
    const result = await preflight(dependencies(), 'planned');
    expect(result.ready).toBe(true);
    expect(result.promotion).toEqual({
      kind: 'switchover',
      writerRegion: PEER_REGION,
      detail: `${PEER_REGION}'s RDS control plane answers and ${REGION} is in sync`,
    });
    // The secondary taking over evacuates the primary (lambda/shared/roles.ts).
    expect(result.roles).toEqual({ drainedRegions: [PEER_REGION], drainedList: [{ S: PEER_REGION }] });
    expect(result.alreadyActive).toBe(false);
    expect(result.allowDataLoss).toBe(false);
  });

  it('drains nothing when the primary takes the role back (failback): the secondary stays a standby for the next outage', async () => {
    aurora = new AuroraGlobalModel(GLOBAL_CLUSTER, { [REGION]: OWN_CLUSTER_ARN, [PEER_REGION]: PEER_CLUSTER_ARN }, PEER_REGION);
    // This orchestrator runs in the primary region here.
    const result = await preflight(dependencies({ primaryRegion: REGION }), 'planned');
    expect(result.roles).toEqual({ drainedRegions: [], drainedList: [] });
  });

  it('plans a failover allowing data loss when an unplanned run finds the primary region silent', async () => {
    aurora.setRegionUp(PEER_REGION, false);
    const result = await preflight(dependencies({ peerApiUrl: async () => `${CLOSED}/v1/` }), 'unplanned');
    expect(result.ready).toBe(true);
    expect(result.allowDataLoss).toBe(true);
    expect(result.promotion.kind).toBe('failover');
    expect(result.promotion.detail).toMatch(/^no switchover possible \(us-east-1's RDS control plane does not answer: .*\): failover allowing data loss$/);
  });

  it('switches over in an unplanned run whenever the primary region still answers (no data lost for what the prober saw)', async () => {
    const result = await preflight(dependencies(), 'unplanned');
    expect(result.promotion.kind).toBe('switchover');
  });

  it('refuses when an unplanned run may not lose data and no switchover is possible', async () => {
    aurora.setRegionUp(PEER_REGION, false);
    const result = await preflight(dependencies(), 'unplanned', false);
    expect(result.ready).toBe(false);
    expect(result.promotion.kind).toBe('impossible');
    expect(result.problems).toEqual([
      expect.stringMatching(/^cannot promote us-east-2: no switchover possible \(.*\), and this run does not allow data loss$/),
    ]);
  });

  it('refuses a planned failback until the old primary has rejoined the global cluster and is in sync', async () => {
    // This region was the writer, went down, and the other one took over allowing data loss;
    // now this region is back and Aurora is re-adding its cluster as a secondary.
    aurora = new AuroraGlobalModel(GLOBAL_CLUSTER, { [REGION]: OWN_CLUSTER_ARN, [PEER_REGION]: PEER_CLUSTER_ARN }, REGION);
    aurora.lagPolls = 0;
    aurora.setRegionUp(REGION, false);
    aurora.failover(PEER_REGION, PEER_CLUSTER_ARN, true);
    aurora.describe(PEER_REGION);
    expect(aurora.writer).toBe(PEER_CLUSTER_ARN);
    aurora.resyncPolls = 10;
    aurora.setRegionUp(REGION, true);
    const result = await preflight(dependencies(), 'planned');
    expect(result.ready).toBe(false);
    expect(result.problems).toEqual([
      `cannot promote ${REGION}: no switchover possible (${REGION}'s cluster is pending-resync, not in sync), and this run does not allow data loss; wait until the global cluster is in sync, or start an unplanned failover`,
    ]);
  });

  it('asks for approval before a failover allowing data loss when configured to', async () => {
    aurora.setRegionUp(PEER_REGION, false);
    const result = await preflight(dependencies({ requireDataLossApproval: true, peerApiUrl: async () => `${CLOSED}/v1/` }), 'unplanned');
    expect(result.approvalRequired).toBe(true);
    const switchover = await preflight(dependencies({ requireDataLossApproval: true }), 'planned');
    expect(switchover.approvalRequired).toBe(false);
  });

  it('reports a late duplicate start as already active: this region active, undrained, and the writer', async () => {
    aurora = new AuroraGlobalModel(GLOBAL_CLUSTER, { [REGION]: OWN_CLUSTER_ARN, [PEER_REGION]: PEER_CLUSTER_ARN }, REGION);
    await putControl(REGION, 3);
    const result = await preflight(dependencies(), 'unplanned');
    expect(result.alreadyActive).toBe(true);
    expect(result.promotion.kind).toBe('none');
  });

  it('is not already active when the table names this region but Aurora has not promoted it (a rerun after a failed promotion)', async () => {
    await putControl(REGION, 3);
    const result = await preflight(dependencies(), 'unplanned');
    expect(result.alreadyActive).toBe(false);
  });
});

describe('preflight against a silent region', () => {
  let silent: Server;
  let silentUrl: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    // Accepts connections and never answers: a region dropping responses, not refusing them.
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address() as { port: number };
    silentUrl = `http://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('fails fast: the cross-region clients time out, so the peer counts as silent within seconds, not the task timeout', async () => {
    const timeouts = { connectionTimeoutMs: 300, requestTimeoutMs: 700 };
    const { RDSClient } = await import('@aws-sdk/client-rds');
    const silentRds = new RDSClient(crossRegionClientConfig(PEER_REGION, timeouts, silentUrl));
    const deps = dependencies({
      httpTimeoutMs: 1000,
      peerApiUrl: peerParameterReader(PEER_REGION, '/app/test/api/url', timeouts, silentUrl),
      rds: (region) => (region === REGION ? aurora.client(region) : silentRds),
    });
    const started = Date.now();
    const result = await preflight(deps, 'unplanned');
    const elapsed = Date.now() - started;
    expect(result.peer.answered).toBe(false);
    expect(result.promotion.kind).toBe('failover');
    expect(result.ready).toBe(true);
    // Two attempts of each cross-region call, each bounded by the request timeout, all at once.
    expect(elapsed).toBeLessThan(deps.httpTimeoutMs + 2 * (timeouts.connectionTimeoutMs + timeouts.requestTimeoutMs) + 1500);
    silentRds.destroy();
  });

  it('has defaults that bound one cross-region call to under 10 s', async () => {
    const { worstCaseCallMs } = await import('../../lambda/shared/cross-region');
    expect(worstCaseCallMs()).toBeLessThanOrEqual(10_000);
  });
});

describe('promote', () => {
  it("sends a switchover to the primary's region (Aurora User Guide), naming this region's cluster by ARN", async () => {
    const result = await runStep({ action: 'promote', kind: 'switchover' }, dependencies());
    expect(result).toEqual({ requested: true, kind: 'switchover', sentTo: PEER_REGION });
    expect(aurora.calls.filter((call) => call.action === 'switchover')).toEqual([{ action: 'switchover', region: PEER_REGION }]);
    expect(aurora.status).toBe('switching-over');
  });

  it("sends a failover allowing data loss to this region (the secondary's), which works with the primary region down", async () => {
    aurora.setRegionUp(PEER_REGION, false);
    const result = await runStep({ action: 'promote', kind: 'failover' }, dependencies());
    expect(result).toEqual({ requested: true, kind: 'failover', sentTo: REGION });
    expect(aurora.status).toBe('failing-over');
  });

  it('asks nothing when this region is already the writer (a retry after a lost answer)', async () => {
    aurora = new AuroraGlobalModel(GLOBAL_CLUSTER, { [REGION]: OWN_CLUSTER_ARN, [PEER_REGION]: PEER_CLUSTER_ARN }, REGION);
    const result = await runStep({ action: 'promote', kind: 'switchover' }, dependencies());
    expect(result).toEqual({ requested: false, kind: 'none' });
    expect(aurora.calls.map((call) => call.action)).toEqual(['describe']);
  });

  it('throws PromotionBusy while the global cluster refuses for now (the state machine retries it)', async () => {
    aurora.busyRefusals = 1;
    await expect(runStep({ action: 'promote', kind: 'switchover' }, dependencies())).rejects.toMatchObject({ name: 'PromotionBusy' });
  });
});

describe('setSwitches', () => {
  async function position(ssm: SSMClient, name: string): Promise<string | undefined> {
    try {
      return (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
    } catch {
      return undefined;
    }
  }

  it("with the secondary active: throws the primary's switch (hosted here) and releases its own (hosted there), publishing both", async () => {
    const deps = dependencies();
    const result = await runStep({ action: 'setSwitches', activeRegion: REGION }, deps);
    expect(result).toEqual({
      switches: [
        { evacuatedRegion: PEER_REGION, hostRegion: REGION, position: 'thrown', set: true },
        { evacuatedRegion: REGION, hostRegion: PEER_REGION, position: 'released', set: true },
      ],
    });
    expect(await position(ownSsm, deps.switchParameterName)).toBe('thrown');
    expect(await position(peerSsm, deps.switchParameterName)).toBe('released');
    expect((await datapoints(ownCloudwatch, deps.metricNamespace, 'EvacuateRegion', { Name: 'Region', Value: PEER_REGION }))[0]).toMatchObject({ Maximum: 1 });
    expect((await datapoints(peerCloudwatch, deps.metricNamespace, 'EvacuateRegion', { Name: 'Region', Value: REGION }))[0]).toMatchObject({ Maximum: 0 });
  });

  it('with the primary active (failback): releases both switches', async () => {
    const deps = dependencies();
    const result = (await runStep({ action: 'setSwitches', activeRegion: PEER_REGION }, deps)) as { switches: { position: string }[] };
    expect(result.switches.map((each) => each.position)).toEqual(['released', 'released']);
    expect(await position(ownSsm, deps.switchParameterName)).toBe('released');
  });

  it('carries on when the peer region cannot be reached, saying so; the switch it hosts is set by the prober later', async () => {
    const deps = dependencies({ peerSwitch: deadPeer });
    const result = (await runStep({ action: 'setSwitches', activeRegion: REGION }, deps)) as { switches: { set: boolean; error?: string }[] };
    expect(result.switches[0].set).toBe(true);
    expect(result.switches[1]).toMatchObject({ set: false, error: expect.stringContaining('failed after') });
  });

  it('fails when the switch hosted in its own region cannot be set (the state machine retries)', async () => {
    const deps = dependencies({ localSwitch: deadPeer });
    await expect(runStep({ action: 'setSwitches', activeRegion: REGION }, deps)).rejects.toThrow(/set the evacuation switch .* in us-east-2 to thrown failed/);
  });
});

describe('validate', () => {
  it('passes when /health answers 200, DNS names this region and the canary is processed into Aurora', async () => {
    // Route 53 answers with its own case and a trailing dot.
    cnameAnswers = async () => ['D-Target.Execute-Api.US-East-2.amazonaws.com.'];
    const result = await validate(dependencies({ validationTimeoutMs: 3000 }), 'canary-7f3a');
    expect(result.canaryOrderId).toBe('canary-7f3a');
    for (const ms of [result.healthMs, result.dnsMs, result.canaryAcceptedMs, result.canaryProcessedMs]) {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(3000);
    }
    expect(resolved).toEqual([API_HOST]);
    const posts = ownApi.requests.filter((request) => request.method === 'POST');
    expect(posts).toEqual([{ method: 'POST', path: '/v1/orders', body: JSON.stringify(canaryOrder('canary-7f3a')) }]);
    expect(ownApi.count('GET', '/v1/orders/canary-7f3a')).toBe(1);
    // Nothing of the peer is needed to validate this region.
    expect(peerApi.requests).toEqual([]);
  });

  it('matches a target configured with a trailing dot and upper case', async () => {
    cnameAnswers = async () => [API_TARGET];
    await expect(validate(dependencies({ ownApiTarget: `${API_TARGET.toUpperCase()}.`, validationTimeoutMs: 3000 }))).resolves.toMatchObject({
      canaryOrderId: 'canary-0001',
    });
  });

  it('retries each check until it passes within the timeout', async () => {
    ownApi.healthScript = [503, 503];
    let dnsAttempts = 0;
    cnameAnswers = async () => (++dnsAttempts < 3 ? ['d-old.execute-api.us-east-1.amazonaws.com'] : [API_TARGET]);
    ownApi.sourceScript = ['journal', 'journal'];
    const result = await validate(dependencies({ validationTimeoutMs: 3000 }));
    expect(ownApi.count('GET', '/v1/health')).toBe(3);
    expect(dnsAttempts).toBe(3);
    expect(ownApi.count('POST', '/v1/orders')).toBe(1);
    expect(ownApi.count('GET', '/v1/orders/')).toBe(3);
    // Two waits of 20 ms before each check passed.
    expect(result.healthMs).toBeGreaterThanOrEqual(40);
    expect(result.dnsMs).toBeGreaterThanOrEqual(40);
    expect(result.canaryProcessedMs).toBeGreaterThanOrEqual(40);
  });

  it('reports each check as the milliseconds from the start of validation until it first passed', async () => {
    // A clock that moves only when validation waits: each wait is exactly pollMs.
    let clock = 1_000_000;
    ownApi.healthScript = [503, 503];
    let dnsAttempts = 0;
    cnameAnswers = async () => (++dnsAttempts < 3 ? [] : [API_TARGET]);
    ownApi.sourceScript = ['journal', 'journal'];
    const result = await validate(
      dependencies({
        validationTimeoutMs: 1000,
        now: () => clock,
        sleep: async (ms) => {
          clock += ms;
        },
      }),
    );
    // Health passes after two waits; DNS after two more; the canary is accepted at once and read back after two more.
    expect(result).toEqual({ healthMs: 40, dnsMs: 80, canaryAcceptedMs: 80, canaryProcessedMs: 120, canaryOrderId: 'canary-0001' });
  });

  it('gives up at the deadline counted on the injected clock, naming the last answer', async () => {
    let clock = 0;
    let sleeps = 0;
    ownApi.healthStatus = 503;
    ownApi.failingChecks = ['journal'];
    const attempt = validate(
      dependencies({
        validationTimeoutMs: 100,
        now: () => clock,
        sleep: async (ms) => {
          sleeps++;
          clock += ms;
        },
      }),
    );
    await expect(attempt).rejects.toThrow(new ValidationFailedError(`GET ${ownApi.url}health answers 200`, 'HTTP 503 (journal: down)', 100));
    // Attempts at 0, 20, 40, 60 and 80 ms, each followed by a wait; at 100 ms time is up.
    expect(sleeps).toBe(5);
    expect(ownApi.count('GET', '/v1/health')).toBe(5);
  });

  it('retries a canary the API refuses, and passes once it is accepted', async () => {
    let refusals = 2;
    const deps = dependencies({ validationTimeoutMs: 3000 });
    const signed = deps.signed;
    const result = await validate({
      ...deps,
      signed: async (request) => (request.method === 'POST' && refusals-- > 0 ? { status: 503, body: '{"error":"journal_unavailable"}' } : signed(request)),
    });
    expect(refusals).toBeLessThan(0);
    expect(result.canaryAcceptedMs).toBeGreaterThanOrEqual(40);
    expect(ownApi.count('POST', '/v1/orders')).toBe(1);
  });

  async function expectValidationFailure(deps: StepDependencies, check: string, lastAnswer: string): Promise<void> {
    const started = Date.now();
    const error = await validate(deps).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(ValidationFailedError);
    expect((error as Error).message).toBe(`validation failed: ${check} did not pass within 300 ms (last answer: ${lastAnswer})`);
    expect(elapsed).toBeGreaterThanOrEqual(300);
    expect(elapsed).toBeLessThan(3000);
  }

  it('fails naming the health check when /health keeps answering 503', async () => {
    ownApi.healthStatus = 503;
    ownApi.failingChecks = ['control'];
    await expectValidationFailure(dependencies(), `GET ${ownApi.url}health answers 200`, 'HTTP 503 (control: down)');
    expect(ownApi.count('GET', '/v1/health')).toBeGreaterThan(1);
    // The first check that never passes ends validation: no canary is placed.
    expect(resolved).toEqual([]);
    expect(ownApi.count('POST', '/v1/orders')).toBe(0);
  });

  it('fails naming the DNS check when the name resolves elsewhere', async () => {
    cnameAnswers = async () => ['d-old.execute-api.us-east-1.amazonaws.com'];
    await expectValidationFailure(dependencies(), `${API_HOST} resolves to ${API_TARGET}`, 'd-old.execute-api.us-east-1.amazonaws.com');
    expect(resolved.length).toBeGreaterThan(1);
    expect(ownApi.count('POST', '/v1/orders')).toBe(0);
  });

  it('fails naming the DNS check with the resolver error when the name has no CNAME', async () => {
    cnameAnswers = async () => {
      throw new Error(`queryCname ENODATA ${API_HOST}`);
    };
    await expectValidationFailure(dependencies(), `${API_HOST} resolves to ${API_TARGET}`, `queryCname ENODATA ${API_HOST}`);
  });

  it('fails naming the canary check when the order is only ever read back from the journal', async () => {
    ownApi.source = 'journal';
    await expectValidationFailure(
      dependencies(),
      'canary order canary-0001 is processed into Aurora',
      `HTTP 200 ${JSON.stringify({ ...canaryOrder('canary-0001'), source: 'journal' })}`,
    );
    expect(ownApi.count('POST', '/v1/orders')).toBe(1);
    expect(ownApi.count('GET', '/v1/orders/canary-0001')).toBeGreaterThan(1);
  });

  it('fails naming the canary acceptance when the API keeps refusing the order', async () => {
    const deps = dependencies();
    await expectValidationFailure(
      { ...deps, signed: async (request) => (request.method === 'POST' ? { status: 403, body: '{"message":"Forbidden"}' } : deps.signed(request)) },
      'canary order canary-0001 is accepted',
      'HTTP 403 {"message":"Forbidden"}',
    );
    expect(ownApi.count('GET', '/v1/orders/')).toBe(0);
  });
});

describe('the canary order', () => {
  it('is an order the API accepts: a market buy of 1 on the canary account and symbol', () => {
    const parsed = OrderRequestSchema.safeParse(canaryOrder('canary-3b1e0c2a-7d4f-4c61-9a8e-0f5b2d6c9e11'));
    expect(parsed.success).toBe(true);
    expect(parsed.data).toEqual({
      clientOrderId: 'canary-3b1e0c2a-7d4f-4c61-9a8e-0f5b2d6c9e11',
      accountId: 'dr-canary',
      symbol: 'CANARY',
      side: 'buy',
      orderType: 'market',
      quantity: '1',
    });
  });
});

let eventId = 0;
function stateEvent(type: HistoryEventType, name: string, at: string): HistoryEvent {
  const details = { name };
  const entered = type.endsWith('Entered');
  return { id: ++eventId, type, timestamp: new Date(at), ...(entered ? { stateEnteredEventDetails: details } : { stateExitedEventDetails: details }) };
}

describe('stepDurations', () => {
  it('spans each step from the first of its states entered to the last exited, by the text before the colon', () => {
    const events: HistoryEvent[] = [
      { id: ++eventId, type: 'ExecutionStarted', timestamp: new Date('2025-01-01T00:00:00.000Z') },
      stateEvent('TaskStateEntered', 'Preflight: check regions', '2025-01-01T00:00:00.100Z'),
      stateEvent('TaskStateExited', 'Preflight: check regions', '2025-01-01T00:00:02.100Z'),
      stateEvent('TaskStateEntered', 'Fence: set active region', '2025-01-01T00:00:02.200Z'),
      stateEvent('TaskStateExited', 'Fence: set active region', '2025-01-01T00:00:03.000Z'),
      stateEvent('TaskStateEntered', 'Fence: set switches', '2025-01-01T00:00:03.100Z'),
      // A task's own events carry no state name: they do not count.
      { id: ++eventId, type: 'TaskScheduled', timestamp: new Date('2025-01-01T00:10:00.000Z') },
      stateEvent('TaskStateExited', 'Fence: set switches', '2025-01-01T00:00:05.700Z'),
      stateEvent('WaitStateEntered', 'Promote: wait', '2025-01-01T00:00:06.000Z'),
      stateEvent('WaitStateExited', 'Promote: wait', '2025-01-01T00:00:16.000Z'),
      stateEvent('TaskStateEntered', 'Promote: read progress', '2025-01-01T00:00:16.000Z'),
      stateEvent('TaskStateExited', 'Promote: read progress', '2025-01-01T00:00:16.500Z'),
      stateEvent('WaitStateEntered', 'Promote: wait', '2025-01-01T00:00:16.500Z'),
      stateEvent('WaitStateExited', 'Promote: wait', '2025-01-01T00:00:26.000Z'),
      stateEvent('SucceedStateEntered', 'Done', '2025-01-01T00:00:30.000Z'),
      stateEvent('SucceedStateExited', 'Done', '2025-01-01T00:00:30.250Z'),
      // No timestamp: cannot be placed.
      { id: ++eventId, type: 'PassStateEntered', timestamp: undefined, stateEnteredEventDetails: { name: 'Notify: tell operators' } },
    ];
    expect(stepDurations(events)).toEqual({ Preflight: 2, Fence: 3.5, Promote: 20, Done: 0.25 });
  });

  it('is empty for an empty history', () => {
    expect(stepDurations([])).toEqual({});
  });

  it('gives a step that was only entered a duration of 0', () => {
    expect(stepDurations([stateEvent('TaskStateEntered', 'Validate: region serves', '2025-01-01T00:00:00Z')])).toEqual({ Validate: 0 });
  });
});

describe('record', () => {
  it("emits the failover's total seconds since it started and each step's seconds from the execution's history", async () => {
    const executionArn = 'arn:aws:states:us-east-2:123456789012:execution:failover:run-1';
    const asked: string[] = [];
    const history: HistoryEvent[] = [
      stateEvent('TaskStateEntered', 'Preflight: check regions', '2025-01-01T00:00:01.000Z'),
      stateEvent('TaskStateExited', 'Preflight: check regions', '2025-01-01T00:00:04.000Z'),
      stateEvent('TaskStateEntered', 'Validate: region serves', '2025-01-01T00:03:00.000Z'),
      stateEvent('TaskStateExited', 'Validate: region serves', '2025-01-01T00:04:15.500Z'),
    ];
    const deps = dependencies({
      now: () => Date.parse('2025-01-01T00:04:30.500Z'),
      history: async (arn) => {
        asked.push(arn);
        return history;
      },
    });
    const result = await runStep({ action: 'record', executionArn, startedAt: '2025-01-01T00:00:00.000Z', outcome: 'succeeded', mode: 'planned' }, deps);
    const expected: FailoverFigures = { outcome: 'succeeded', mode: 'planned', totalSeconds: 270.5, stepSeconds: { Preflight: 3, Validate: 75.5 } };
    expect(result).toEqual(expected);
    expect(figures).toEqual([expected]);
    expect(asked).toEqual([executionArn]);
  });

  it('reads a start time with an offset, and records a failed run of unknown mode', async () => {
    const deps = dependencies({ now: () => Date.parse('2025-01-01T00:01:00.000Z') });
    const result = await runStep({ action: 'record', executionArn: 'arn:x', startedAt: '2025-01-01T01:00:00+01:00', outcome: 'failed', mode: 'unknown' }, deps);
    expect(result).toEqual({ outcome: 'failed', mode: 'unknown', totalSeconds: 60, stepSeconds: {} });
    expect(figures).toHaveLength(1);
  });

  it('retries a failing history read and emits once', async () => {
    let calls = 0;
    const deps = dependencies({
      now: () => Date.parse('2025-01-01T00:00:10.000Z'),
      history: async () => {
        if (++calls < 3) throw new Error('ThrottlingException');
        return [
          stateEvent('TaskStateEntered', 'Reconcile: replay journal', '2025-01-01T00:00:02Z'),
          stateEvent('TaskStateExited', 'Reconcile: replay journal', '2025-01-01T00:00:05Z'),
        ];
      },
    });
    const result = await runStep({ action: 'record', executionArn: 'arn:x', startedAt: '2025-01-01T00:00:00Z', outcome: 'succeeded', mode: 'unplanned' }, deps);
    expect(calls).toBe(3);
    expect(result).toEqual({ outcome: 'succeeded', mode: 'unplanned', totalSeconds: 10, stepSeconds: { Reconcile: 3 } });
    expect(figures).toEqual([result]);
  });

  it('emits nothing when the history cannot be read', async () => {
    const deps = dependencies({
      history: async () => {
        throw new Error('AccessDenied');
      },
    });
    await expect(
      runStep({ action: 'record', executionArn: 'arn:x', startedAt: '2025-01-01T00:00:00Z', outcome: 'failed', mode: 'planned' }, deps),
    ).rejects.toThrow('read the execution history failed after 4 attempt(s): AccessDenied');
    expect(figures).toEqual([]);
  });
});
