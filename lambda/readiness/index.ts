import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { READINESS } from '../contracts/readiness';
import { crossRegionClientConfig } from '../shared/cross-region';
import { checksPassed, healthUrlOf, probeHealth } from '../shared/health-probe';
import { fetchGet } from '../shared/health-probe';
import { createLogger } from '../shared/logger';
import { peerParameterReader } from '../shared/peer-parameter';
import { runScheduled, tableDescriber } from './checks';
import { ReadinessDependencies, ReadinessReport, ROUTE53_REGION } from './dependencies';

const environment = READINESS.environment.read();

/**
 * The readiness function runs outside the VPC: it must reach Route 53's API, the peer region's
 * CloudWatch and parameters and both public APIs, and the VPC's subnets have no path to the
 * internet. It learns whether this region's cluster answers from this region's /health, whose
 * database check queries the cluster from inside the VPC; the answer is given the shape of a
 * query so the check reads the same whichever way it is asked.
 */
function databaseThroughHealth(ownApiUrl: string, timeoutMs: number): { query<R>(operation: string, sql: string): Promise<R[]> } {
  return {
    async query<R>(operation: string): Promise<R[]> {
      const probe = await probeHealth(healthUrlOf(ownApiUrl), timeoutMs);
      if (!probe.answered) throw new Error(`${operation}: this region's /health does not answer: ${probe.detail}`);
      if (!checksPassed(probe, ['database'])) {
        const detail = probe.checks.find((check) => check.name === 'database')?.detail ?? 'no database check in the answer';
        throw new Error(`${operation}: this region's database check failed: ${detail}`);
      }
      return [{ one: 1 } as R];
    },
  };
}

const logger = createLogger(READINESS.service);
// Clients once per container. withRetry retries every call; the SDK's own attempts stay few.
const cloudwatch = new CloudWatchClient({ maxAttempts: 2 });
// Clients of the peer region have connection and request timeouts: a silent region fails its
// checks within seconds instead of holding them until the check timeout.
const peerConfig = crossRegionClientConfig(environment.PEER_REGION);
const peerCloudwatch = new CloudWatchClient(peerConfig);
const dynamodb = new DynamoDBClient({ maxAttempts: 2 });
const route53Cloudwatch = environment.AWS_REGION === ROUTE53_REGION ? cloudwatch : new CloudWatchClient({ region: ROUTE53_REGION, maxAttempts: 2 });
const dependencies: ReadinessDependencies = {
  region: environment.AWS_REGION,
  peerRegion: environment.PEER_REGION,
  peerRegionCode: environment.PEER_REGION_CODE,
  ownApiUrl: environment.OWN_API_URL,
  httpTimeoutMs: environment.HTTP_TIMEOUT_MS,
  checkTimeoutMs: environment.CHECK_TIMEOUT_MS,
  dbClusterId: environment.DB_CLUSTER_ID,
  peerDbClusterId: environment.PEER_DB_CLUSTER_ID,
  maxReplicationLagMs: environment.MAX_REPLICATION_LAG_MS,
  tableNames: environment.GLOBAL_TABLE_NAMES,
  bucketNames: environment.REPLICATED_BUCKET_NAMES,
  stateMachineArn: environment.STATE_MACHINE_ARN,
  healthCheckIds: environment.HEALTH_CHECK_IDS,
  hostedZoneId: environment.HOSTED_ZONE_ID,
  apiHostName: environment.API_HOST_NAME,
  setIdentifier: environment.SET_IDENTIFIER,
  metricNamespace: environment.METRIC_NAMESPACE,
  eventBusName: environment.EVENT_BUS_NAME,
  eventSource: environment.EVENT_SOURCE,
  controlTable: environment.CONTROL_TABLE,
  primaryRegion: environment.PRIMARY_REGION,
  switchParameterName: environment.SWITCH_PARAMETER,
  switchMetricName: environment.EVACUATION_METRIC_NAME,
  get: fetchGet,
  peerApiUrl: peerParameterReader(environment.PEER_REGION, environment.PEER_API_URL_PARAMETER),
  database: databaseThroughHealth(environment.OWN_API_URL, environment.HTTP_TIMEOUT_MS),
  cloudwatch,
  peerCloudwatch,
  route53Cloudwatch,
  describeTable: tableDescriber(dynamodb),
  s3: new S3Client({ maxAttempts: 2 }),
  sfn: new SFNClient({ maxAttempts: 2 }),
  // Route 53 is a global service whose API is served from us-east-1.
  route53: new Route53Client({ region: ROUTE53_REGION, maxAttempts: 2 }),
  events: new EventBridgeClient({ maxAttempts: 2 }),
  documents: DynamoDBDocumentClient.from(dynamodb),
  ssm: new SSMClient({ maxAttempts: 2 }),
  peerSsm: new SSMClient(peerConfig),
  logger,
  now: () => Date.now(),
};

/** Runs on the hourly EventBridge schedule; the event's content is not used. */
export async function handler(event: unknown, context: Context): Promise<ReadinessReport> {
  logger.addContext(context);
  return runScheduled(event, dependencies);
}
