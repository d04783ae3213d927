import { promises as dns } from 'dns';
import { Sha256 } from '@aws-crypto/sha256-js';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RDSClient } from '@aws-sdk/client-rds';
import { HistoryEvent, paginateGetExecutionHistory, SFNClient } from '@aws-sdk/client-sfn';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Context } from 'aws-lambda';
import { DRILL_FORCED_FAILOVER, FAILOVER_METRICS, FAILOVER_STEPS } from '../contracts/failover-steps';
import { crossRegionClientConfig } from '../shared/cross-region';
import { fetchGet } from '../shared/health-probe';
import { createLogger } from '../shared/logger';
import { peerParameterReader } from '../shared/peer-parameter';
import { FailoverFigures, runStep, SignedRequest, StepDependencies } from './steps';

const environment = FAILOVER_STEPS.environment.read();

const logger = createLogger(FAILOVER_STEPS.service);
const metrics = new Metrics({ serviceName: FAILOVER_STEPS.service, namespace: environment.METRIC_NAMESPACE });
const dynamodb = new DynamoDBClient({ maxAttempts: 5 });
const documents = DynamoDBDocumentClient.from(dynamodb);
const cloudwatch = new CloudWatchClient({ maxAttempts: 3 });
// Clients of the peer region have connection and request timeouts: a silent region fails fast.
const peerConfig = crossRegionClientConfig(environment.PEER_REGION);
const localSwitch = { ssm: new SSMClient({ maxAttempts: 3 }), cloudwatch };
const peerSwitch = { ssm: new SSMClient(peerConfig), cloudwatch: new CloudWatchClient(peerConfig) };
const rdsClients = new Map<string, RDSClient>([
  [environment.AWS_REGION, new RDSClient({ maxAttempts: 3 })],
  [environment.PEER_REGION, new RDSClient(peerConfig)],
]);
function rds(region: string): RDSClient {
  const client = rdsClients.get(region);
  if (!client) throw new Error(`no RDS client for ${region}: the global cluster has members only in ${[...rdsClients.keys()].join(' and ')}`);
  return client;
}
const sfn = new SFNClient({ maxAttempts: 5 });
const signer = new SignatureV4({ service: 'execute-api', region: environment.AWS_REGION, credentials: () => dynamodb.config.credentials(), sha256: Sha256 });

const peerApiUrl = peerParameterReader(environment.PEER_REGION, environment.PEER_API_URL_PARAMETER);
async function signedRequest(request: SignedRequest): Promise<{ status: number; body: string }> {
  const url = new URL(request.url);
  const signedRequest = await signer.sign({
    method: request.method,
    protocol: url.protocol,
    hostname: url.hostname,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: { host: url.hostname, 'content-type': 'application/json', ...(request.body ? { 'content-length': String(Buffer.byteLength(request.body)) } : {}) },
    body: request.body,
  });
  const response = await fetch(url, {
    method: request.method,
    headers: signedRequest.headers,
    body: request.body,
    signal: AbortSignal.timeout(environment.HTTP_TIMEOUT_MS),
  });
  return { status: response.status, body: await response.text() };
}

async function executionHistory(executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  for await (const page of paginateGetExecutionHistory({ client: sfn }, { executionArn, includeExecutionData: false })) {
    events.push(...(page.events ?? []));
  }
  return events;
}

function emit(figures: FailoverFigures): void {
  metrics.addDimension('Outcome', figures.outcome);
  metrics.addMetric(FAILOVER_METRICS.duration, MetricUnit.Seconds, figures.totalSeconds);
  for (const [step, seconds] of Object.entries(figures.stepSeconds)) {
    const single = metrics.singleMetric();
    single.addDimension('Step', step);
    single.addMetric(FAILOVER_METRICS.stepDuration, MetricUnit.Seconds, seconds);
  }
}

/** The unplanned drill's switch in this region: `failover` forces one (a missing parameter is no switch). */
async function readDrillSwitch(): Promise<boolean> {
  try {
    const response = await localSwitch.ssm.send(new GetParameterCommand({ Name: environment.DRILL_SWITCH_PARAMETER }));
    return response.Parameter?.Value === DRILL_FORCED_FAILOVER;
  } catch (error) {
    if ((error as Error).name === 'ParameterNotFound') return false;
    throw error;
  }
}

const dependencies: StepDependencies = {
  region: environment.AWS_REGION,
  peerRegion: environment.PEER_REGION,
  primaryRegion: environment.PRIMARY_REGION,
  controlTable: environment.CONTROL_TABLE,
  ownApiUrl: environment.OWN_API_URL,
  apiHostName: environment.API_HOST_NAME,
  ownApiTarget: environment.OWN_API_TARGET,
  dbClusterId: environment.DB_CLUSTER_ID,
  metricNamespace: environment.METRIC_NAMESPACE,
  switchMetricName: environment.EVACUATION_METRIC_NAME,
  switchParameterName: environment.SWITCH_PARAMETER,
  requireDataLossApproval: environment.REQUIRE_DATA_LOSS_APPROVAL,
  globalClusterId: environment.GLOBAL_CLUSTER_ID,
  ownClusterArn: environment.OWN_CLUSTER_ARN,
  rds,
  localSwitch,
  peerSwitch,
  lockSeconds: environment.LOCK_SECONDS,
  validationTimeoutMs: environment.VALIDATION_TIMEOUT_SECONDS * 1000,
  httpTimeoutMs: environment.HTTP_TIMEOUT_MS,
  pollMs: environment.POLL_MS,
  documents,
  cloudwatch,
  peerApiUrl,
  get: fetchGet,
  signed: signedRequest,
  resolveCname: (name) => dns.resolveCname(name),
  history: executionHistory,
  emit,
  logger,
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ...(environment.DRILL_SWITCH_ENABLED ? { forcedFailover: readDrillSwitch } : {}),
};

/** One of the orchestrator's steps that need logic: preflight, promote, setSwitches, validate, record. */
export async function handler(event: unknown, context: Context): Promise<unknown> {
  logger.addContext(context);
  try {
    return await runStep(event, dependencies);
  } finally {
    metrics.publishStoredMetrics();
  }
}
