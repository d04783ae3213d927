import { Duration, Stack } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { AppConfig } from '../core/config';
import { Naming, Purpose } from '../core/naming';
import type { ControlTable } from '../data/control-table';
import { clusterArn, GlobalDatabase } from '../data/global-database';
import type { OrderJournal } from '../data/order-journal';

/** Errors worth another attempt on every AWS call: throttling, timeouts, service faults. */
export const TRANSIENT_LAMBDA_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'States.Timeout',
];
export const TRANSIENT_DYNAMODB_ERRORS = [
  'DynamoDB.InternalServerErrorException',
  'DynamoDB.ProvisionedThroughputExceededException',
  'DynamoDB.RequestLimitExceededException',
  'DynamoDB.ThrottlingException',
  'DynamoDB.AmazonDynamoDBException',
  'States.Timeout',
];
export const CONDITION_FAILED = 'DynamoDB.ConditionalCheckFailedException';
/** A switchover or failover already under way, or a member still settling: wait and try again. */
export const RDS_BUSY_ERRORS = [
  'Rds.InvalidGlobalClusterStateException',
  'Rds.InvalidDbClusterStateException',
  'Rds.RdsException',
  'Rds.SdkClientException',
  'States.Timeout',
];
/** What the promote step throws while the global cluster refuses for now (lambda/failover-steps/promotion.ts). */
export const PROMOTION_BUSY = 'PromotionBusy';
/** Counted when an alert could not be published; lib/observability/regional-alarms.ts alarms on it. */
export const FAILED_NOTIFICATION_METRIC = 'FailoverNotificationsFailed';

/** One HTTP request of the steps to an API: API Gateway's own limit is 29 s, a healthy /health answers in under 2 s. */
export const HTTP_TIMEOUT = Duration.seconds(5);
/** Pause between validation attempts: DNS answers change at most once per TTL, the canary needs a processor batch. */
export const VALIDATION_POLL = Duration.seconds(2);

/** How long one DynamoDB, SNS or EventBridge call may take before it is retried. */
export const AWS_CALL_TIMEOUT = sfn.Timeout.duration(Duration.seconds(30));

/** Backoff shared by every retry: exponential with full jitter, capped. */
export const BACKOFF = { backoffRate: 2, jitterStrategy: sfn.JitterType.FULL, maxDelay: Duration.seconds(30) } as const;

/** The config keys the orchestrator reads (lib/core/config.ts documents and defaults each). */
export type OrchestratorConfig = Pick<
  AppConfig,
  | 'failoverLockSeconds'
  | 'promotionPollSeconds'
  | 'promotionTimeoutSeconds'
  | 'validationTimeoutSeconds'
  | 'requireDataLossApproval'
  | 'faultInjectionDrills'
  | 'dataLossApprovalTimeoutSeconds'
  | 'journalPendingShards'
  | 'dbPoolSize'
  | 'journalDurableAfterSeconds'
  | 'journalReplicationMarginSeconds'
  | 'orderBoundSeconds'
  | 'logRetentionDays'
  | 'lambdaSourceMaps'
>;

export interface FailoverOrchestratorProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The region failover leaves (the other one). */
  readonly peerRegion: string;
  /** The deployment's primary region (active until the control table says otherwise). */
  readonly primaryRegion: string;
  /** The control table (active region, fencing epoch, the failover lock). */
  readonly controlTable: ControlTable;
  /** The order journal (reconciliation replays its pending entries). */
  readonly journal: OrderJournal;
  /** This region's member of the global database; reconciliation runs in its VPC. */
  readonly database: GlobalDatabase;
  /** The state machine's role: scoped to this deployment, without Route 53 permissions. */
  readonly role: iam.IRole;
  /** Where success and failure are announced. */
  readonly alertTopic: sns.ITopic;
  /** Where the failover events go. */
  readonly eventBus: events.IEventBus;
  /** The `source` of those events. */
  readonly eventSource: string;
  /** This region's API stage URL (validation calls /health and the order routes). */
  readonly apiUrl: string;
  /** The execute-api ARNs of the routes the canary calls (place an order, read it back). */
  readonly canaryRouteArns: string[];
  /** `api.<zone>`. */
  readonly apiHostName: string;
  /** This region's API Gateway domain target, what `api.<zone>` resolves to when traffic is here. */
  readonly apiTarget: string;
  /** The lock, promotion, validation, approval, reconciliation and log settings. */
  readonly config: OrchestratorConfig;
}

/** The props' defaults resolved once, and the names every phase uses. */
export interface OrchestratorSettings {
  readonly region: string;
  readonly lockSeconds: number;
  readonly pollInterval: Duration;
  readonly promotionTimeout: Duration;
  readonly validationTimeout: Duration;
  /** Checks of the promotion before it times out. */
  readonly maxPolls: number;
  /** This region's cluster, the writer a completed promotion shows. */
  readonly ownClusterArn: string;
  readonly globalClusterId: string;
  readonly requireApproval: boolean;
}

export function orchestratorSettings(scope: Construct, props: FailoverOrchestratorProps): OrchestratorSettings {
  const { naming, config } = props;
  const pollInterval = Duration.seconds(config.promotionPollSeconds);
  const promotionTimeout = Duration.seconds(config.promotionTimeoutSeconds);
  return {
    region: naming.region,
    lockSeconds: config.failoverLockSeconds,
    pollInterval,
    promotionTimeout,
    validationTimeout: Duration.seconds(config.validationTimeoutSeconds),
    maxPolls: Math.ceil(promotionTimeout.toSeconds() / pollInterval.toSeconds()),
    ownClusterArn: clusterArn(Stack.of(scope), naming, naming.region),
    globalClusterId: naming.name('globalCluster', Purpose.orders),
    requireApproval: config.requireDataLossApproval,
  };
}
