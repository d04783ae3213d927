import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { TableDescription } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type ReadinessCheckName } from '../contracts/readiness';
import type { Database } from '../shared/database';
import { HttpGet } from '../shared/health-probe';
import { withRetry } from '../shared/retry';

/** What the readiness checks (checks.ts, route53-checks.ts) are given, and how each reports. */

/** Route 53 considers an endpoint healthy when more than this share of its checkers report success. */
export const HEALTHY_CHECKER_SHARE = 0.18;
/** Route 53 is a global service: its API and its health check metrics (`AWS/Route53`) are in this region. */
export const ROUTE53_REGION = 'us-east-1';

/** How far back the CloudWatch reads look. */
export const METRIC_WINDOW_MS = 10 * 60_000;
/** Executions that mean the failover state machine last did not work. */
export const FAILED_EXECUTION_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'];
/** Health check types without checkers of their own: their status is read from CloudWatch. */
export const CHECKERLESS_HEALTH_CHECK_TYPES = ['CALCULATED', 'CLOUDWATCH_METRIC'];
/** Pages of record sets read at most while looking for the failover record. */
export const MAX_RECORD_PAGES = 5;
/** Attempts of each AWS call (withRetry: backoff with full jitter). */
export const AWS_ATTEMPTS = 3;

export interface ReadinessSettings {
  /** The region this function runs in and reports for. */
  readonly region: string;
  readonly peerRegion: string;
  /** The peer region's short code (`use2`): the destination buckets' names contain it. */
  readonly peerRegionCode: string;
  /** This region's API stage URL (ends with `/`). */
  readonly ownApiUrl: string;
  /** Time one HTTP request may take, in milliseconds. */
  readonly httpTimeoutMs: number;
  /** Time each check may take, in milliseconds; they run at once. */
  readonly checkTimeoutMs: number;
  /** This region's Aurora cluster identifier. */
  readonly dbClusterId: string;
  /** The peer region's Aurora cluster identifier. */
  readonly peerDbClusterId: string;
  /** The replication lag above which the check fails, in milliseconds. */
  readonly maxReplicationLagMs: number;
  /** The global tables whose replica in the peer region must be active (names as in this region). */
  readonly tableNames: readonly string[];
  /** This region's buckets that must replicate to the peer region. */
  readonly bucketNames: readonly string[];
  /** This region's failover state machine. */
  readonly stateMachineArn: string;
  /** This region's Route 53 health checks (the endpoint check and the calculated routing check). */
  readonly healthCheckIds: readonly string[];
  readonly hostedZoneId: string;
  /** `api.<zone>`: the name of the failover record. */
  readonly apiHostName: string;
  /** This region's failover record's SetIdentifier. */
  readonly setIdentifier: string;
  /** The CloudWatch namespace of the deployment's metrics. */
  readonly metricNamespace: string;
  /** This region's DR event bus. */
  readonly eventBusName: string;
  /** The `source` of the deployment's events. */
  readonly eventSource: string;
  /** The control table (a global table: the same items in both regions). */
  readonly controlTable: string;
  /** The deployment's primary region (this region or the peer); the other one is the secondary. */
  readonly primaryRegion: string;
  /** The evacuation switch parameter: the same path in both regions, each holding the switch of the other region. */
  readonly switchParameterName: string;
  /** The metric the switches are published on (in `metricNamespace`). */
  readonly switchMetricName: string;
}

export interface ReadinessDependencies extends ReadinessSettings {
  readonly get: HttpGet;
  /** The peer region's API stage URL, read from its parameters at run time (the peer may be down). */
  readonly peerApiUrl: () => Promise<string>;
  /** This region's cluster (a reader is enough). */
  readonly database: Pick<Database, 'query'>;
  /** CloudWatch in this region: replication lag of this region's cluster; the readiness metrics. */
  readonly cloudwatch: CloudWatchClient;
  /** CloudWatch in the peer region: replication lag of the peer's cluster. */
  readonly peerCloudwatch: CloudWatchClient;
  /** CloudWatch in us-east-1, where Route 53 publishes health check status. */
  readonly route53Cloudwatch: CloudWatchClient;
  /** DescribeTable in this region (see `tableDescriber`). */
  readonly describeTable: (tableName: string) => Promise<TableDescription>;
  readonly s3: S3Client;
  readonly sfn: SFNClient;
  /** Route 53's API (a global service, served from us-east-1). */
  readonly route53: Route53Client;
  readonly events: EventBridgeClient;
  /** DynamoDB in this region: the control table's active-region and automation-pause items. */
  readonly documents: DynamoDBDocumentClient;
  /** SSM in this region: the switch this region hosts (the peer's). */
  readonly ssm: SSMClient;
  /** SSM in the peer region, with cross-region timeouts: the switch the peer hosts (this region's). */
  readonly peerSsm: SSMClient;
  readonly logger: Logger;
  readonly now: () => number;
}

export interface ReadinessCheckResult {
  readonly name: ReadinessCheckName;
  readonly ok: boolean;
  /** What was found, or what failed. */
  readonly detail: string;
  readonly ms: number;
}

export interface ReadinessReport {
  readonly region: string;
  /** Every check passed. */
  readonly ready: boolean;
  readonly checks: readonly ReadinessCheckResult[];
}

export interface Verdict {
  readonly ok: boolean;
  readonly detail: string;
}

export const pass = (detail: string): Verdict => ({ ok: true, detail });
export const fail = (detail: string): Verdict => ({ ok: false, detail });

export function errorName(error: unknown): string | undefined {
  return (error as { name?: string } | undefined)?.name;
}

/** Retries an AWS call unless the answer is one of `final` (a definite "no" that another attempt will not change). */
export function awsCall<T>(operation: string, call: () => Promise<T>, final: readonly string[] = []): Promise<T> {
  return withRetry(operation, call, { attempts: AWS_ATTEMPTS, isRetryable: (error) => !final.includes(errorName(error) ?? '') });
}
