import { Arn, ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { FAILOVER_METRICS, FAILOVER_STEPS } from '../../lambda/contracts/failover-steps';
import { RECONCILE } from '../../lambda/contracts/reconcile';
import { ControlTableSchema, OrderJournalSchema } from '../../lambda/contracts/tables';
import { DrEventType } from '../observability/dr-event-bus';
import { evacuationSignal } from '../routing/evacuation-switch';
import { clusterArn, GlobalDatabase, globalClusterArn } from '../data/global-database';
import { grantItemActions } from '../data/global-table';
import { HandlerFunction } from '../core/handler-function';
import { acknowledgeScopedWildcards } from '../core/compliance';
import { Naming, ParameterKey, Purpose } from '../core/naming';
import { readPeerParameterStatement } from '../core/peer-parameter';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** Errors worth another attempt on every AWS call: throttling, timeouts, service faults. */
const TRANSIENT_LAMBDA_ERRORS = ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException', 'States.Timeout'];
const TRANSIENT_DYNAMODB_ERRORS = [
  'DynamoDB.InternalServerErrorException',
  'DynamoDB.ProvisionedThroughputExceededException',
  'DynamoDB.RequestLimitExceededException',
  'DynamoDB.ThrottlingException',
  'DynamoDB.AmazonDynamoDBException',
  'States.Timeout',
];
const CONDITION_FAILED = 'DynamoDB.ConditionalCheckFailedException';
/** A switchover or failover already under way, or a member still settling: wait and try again. */
const RDS_BUSY_ERRORS = ['Rds.InvalidGlobalClusterStateException', 'Rds.InvalidDbClusterStateException', 'Rds.RdsException', 'Rds.SdkClientException', 'States.Timeout'];
/** What the promote step throws while the global cluster refuses for now (lambda/failover-steps/promotion.ts). */
const PROMOTION_BUSY = 'PromotionBusy';
/** Counted when an alert could not be published; lib/observability/regional-alarms.ts alarms on it. */
export const FAILED_NOTIFICATION_METRIC = 'FailoverNotificationsFailed';

/** One HTTP request of the steps to an API: API Gateway's own limit is 29 s, a healthy /health answers in under 2 s. */
const HTTP_TIMEOUT = Duration.seconds(5);
/** Pause between validation attempts: DNS answers change at most once per TTL, the canary needs a processor batch. */
const VALIDATION_POLL = Duration.seconds(2);

/** How long one DynamoDB, SNS or EventBridge call may take before it is retried. */
const AWS_CALL_TIMEOUT = sfn.Timeout.duration(Duration.seconds(30));

/** Backoff shared by every retry: exponential with full jitter, capped. */
const BACKOFF = { backoffRate: 2, jitterStrategy: sfn.JitterType.FULL, maxDelay: Duration.seconds(30) } as const;

export interface FailoverOrchestratorProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The region failover leaves (the other one). */
  readonly peerRegion: string;
  /** The deployment's primary region (active until the control table says otherwise). */
  readonly primaryRegion: string;
  /** The control table (active region, fencing epoch, the failover lock). */
  readonly controlTable: dynamodb.ITableV2;
  /** The order journal (reconciliation replays its pending entries). */
  readonly journal: dynamodb.ITableV2;
  /** This region's member of the global database. */
  readonly database: GlobalDatabase;
  /** This region's VPC (reconciliation reaches the database there). */
  readonly vpc: ec2.IVpc;
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
  /** How long a failover's lock lasts. @default Duration.hours(1) */
  readonly lockDuration?: Duration;
  /** Pause between checks of the promotion. @default Duration.seconds(10) */
  readonly promotionPollInterval?: Duration;
  /** How long to wait for the promotion before failing. @default Duration.minutes(15) */
  readonly promotionTimeout?: Duration;
  /** How long validation may take. @default Duration.minutes(3) */
  readonly validationTimeout?: Duration;
  /** Partitions of the journal's pending index. @default 8 */
  readonly pendingShards?: number;
  /** Database connections of the reconcile function. @default 4 */
  readonly poolSize?: number;
  /** How long an order stays in the journal's pending index after it reached the writer. @default Duration.minutes(5) */
  readonly journalDurableAfter?: Duration;
  /** Clock allowance before an order counts as in the secondary (journalReplicationMarginSeconds). @default Duration.seconds(5) */
  readonly journalReplicationMargin?: Duration;
  /** The end-to-end bound of an acknowledged order (reconciliation counts entries past it). @default Duration.minutes(2) */
  readonly orderBound?: Duration;
  /** Ask a person (a Step Functions callback) before a failover that allows data loss. @default false */
  readonly requireDataLossApproval?: boolean;
  /** How long a data-loss approval may wait before the run fails. @default Duration.minutes(30) */
  readonly approvalTimeout?: Duration;
  /** Log retention of the state machine and its functions. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The failover state machine of one region: it moves the active role *to this region*. Input:
 * `{"mode": "planned" | "unplanned", "reason": "..."}`. Failback is the same machine run in the
 * primary region. Steps (state names start with the step, which the recorded durations use):
 * 1. Preflight: this region can serve, the peer answers (planned needs it), lag and control state read;
 *    then the lock in the control table (a second failover stops here);
 * 2. Fence: conditional write of active region and epoch+1 (a conflict stops), then the peer's
 *    evacuation switch is thrown and this region's own switch released;
 * 3. Promote: Aurora global switchover (planned) or failover allowing data loss (unplanned), then
 *    polling until this region's cluster is the writer;
 * 4. Reconcile: journal entries not yet in Aurora are replayed;
 * 5. Validate: /health 200, DNS answers with this region, a canary order is processed;
 * 6. Record and notify: durations as metrics, SNS alert, EventBridge event; the lock is released.
 * Any failure alerts and releases the lock; a planned failover that fails before the promotion
 * completed puts the active region back, so nothing is left half-moved.
 */
export class FailoverOrchestrator extends Construct {
  /** The state machine. */
  public readonly stateMachine: sfn.StateMachine;
  /** The function behind preflight, validation and recording. */
  public readonly stepsFunction: HandlerFunction;
  /** The function that replays the journal into Aurora. */
  public readonly reconcileFunction: HandlerFunction;

  constructor(scope: Construct, id: string, props: FailoverOrchestratorProps) {
    super(scope, id);
    const { naming } = props;
    const stack = Stack.of(this);
    const region = naming.region;
    const lockSeconds = (props.lockDuration ?? Duration.hours(1)).toSeconds();
    const pollInterval = props.promotionPollInterval ?? Duration.seconds(10);
    const promotionTimeout = props.promotionTimeout ?? Duration.minutes(15);
    const validationTimeout = props.validationTimeout ?? Duration.minutes(3);
    const maxPolls = Math.ceil(promotionTimeout.toSeconds() / pollInterval.toSeconds());
    const ownClusterArn = clusterArn(stack, naming, region);
    const globalClusterId = naming.name('globalCluster', Purpose.orders);
    const ownEvacuation = evacuationSignal(naming, region, props.peerRegion);
    const requireApproval = props.requireDataLossApproval ?? false;
    const switchParameterArns = [region, props.peerRegion].map((each) =>
      Arn.format({ service: 'ssm', region: each, resource: 'parameter', resourceName: naming.parameterName(ParameterKey.evacuationSwitch).slice(1) }, stack),
    );
    const promotableClusterArns = [globalClusterArn(stack, naming), ...[region, props.peerRegion].map((each) => clusterArn(stack, naming, each))];
    const executionArns = Arn.format(
      { service: 'states', resource: 'execution', resourceName: `${naming.name('stateMachine', Purpose.failover)}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
      stack,
    );

    this.stepsFunction = new HandlerFunction(this, 'Steps', {
      naming,
      purpose: Purpose.failoverSteps,
      contract: FAILOVER_STEPS,
      description: 'Failover steps that need logic: preflight, promotion, evacuation switches, validation (DNS, canary), recording',
      // Validation retries inside until its own timeout; a minute more to answer.
      timeout: validationTimeout.plus(Duration.minutes(1)),
      logRetention: props.logRetention,
      variables: {
        PEER_REGION: props.peerRegion,
        PRIMARY_REGION: props.primaryRegion,
        CONTROL_TABLE: props.controlTable.tableName,
        OWN_API_URL: props.apiUrl,
        PEER_API_URL_PARAMETER: naming.parameterName(ParameterKey.apiUrl),
        API_HOST_NAME: props.apiHostName,
        OWN_API_TARGET: props.apiTarget,
        DB_CLUSTER_ID: props.database.clusterIdentifier,
        METRIC_NAMESPACE: naming.metricNamespace(),
        EVACUATION_METRIC_NAME: ownEvacuation.metricName,
        SWITCH_PARAMETER: naming.parameterName(ParameterKey.evacuationSwitch),
        GLOBAL_CLUSTER_ID: globalClusterId,
        OWN_CLUSTER_ARN: ownClusterArn,
        REQUIRE_DATA_LOSS_APPROVAL: requireApproval,
        LOCK_SECONDS: lockSeconds,
        VALIDATION_TIMEOUT_SECONDS: validationTimeout.toSeconds(),
        HTTP_TIMEOUT_MS: HTTP_TIMEOUT.toMilliseconds(),
        POLL_MS: VALIDATION_POLL.toMilliseconds(),
      },
    });
    const steps = this.stepsFunction.function;
    grantItemActions(props.controlTable, steps, 'dynamodb:GetItem');
    steps.addToRolePolicy(readPeerParameterStatement(stack, naming, props.peerRegion, ParameterKey.apiUrl));
    steps.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadReplicationLag',
        // GetMetricStatistics supports no resource-level permissions.
        actions: ['cloudwatch:GetMetricStatistics'],
        resources: ['*'],
      }),
    );
    steps.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PublishEvacuationSwitches',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': naming.metricNamespace() } },
      }),
    );
    steps.addToRolePolicy(new iam.PolicyStatement({ sid: 'SetEvacuationSwitches', actions: ['ssm:GetParameter', 'ssm:PutParameter'], resources: switchParameterArns }));
    // Switchover goes to the primary's region, failover to this one (lambda/failover-steps/promotion.ts).
    steps.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PromoteGlobalDatabase',
        actions: ['rds:DescribeGlobalClusters', 'rds:SwitchoverGlobalCluster', 'rds:FailoverGlobalCluster'],
        resources: promotableClusterArns,
      }),
    );
    steps.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadOwnExecutionHistory',
        actions: ['states:GetExecutionHistory'],
        resources: [executionArns],
      }),
    );
    steps.addToRolePolicy(new iam.PolicyStatement({ sid: 'PlaceCanaryOrders', actions: ['execute-api:Invoke'], resources: props.canaryRouteArns }));
    Validations.of(this.stepsFunction.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudwatch:GetMetricStatistics and PutMetricData support no resource-level permissions; PutMetricData is limited to the deployment\'s namespace by condition',
    });
    acknowledgeScopedWildcards(this.stepsFunction.role, [executionArns], 'Reads the history of executions of its own state machine only; execution names are not known in advance');
    acknowledgeScopedWildcards(this.stepsFunction.role, props.canaryRouteArns, 'The canary reads back the order it placed; order ids are not known in advance');

    this.reconcileFunction = new HandlerFunction(this, 'Reconcile', {
      naming,
      purpose: Purpose.reconcile,
      contract: RECONCILE,
      description: 'Makes the order journal and Aurora agree: on a schedule and after every promotion',
      vpc: props.vpc,
      securityGroups: [props.database.clientSecurityGroup],
      timeout: Duration.minutes(10),
      logRetention: props.logRetention,
      variables: {
        JOURNAL_TABLE: props.journal.tableName,
        CONTROL_TABLE: props.controlTable.tableName,
        PRIMARY_REGION: props.primaryRegion,
        PENDING_SHARDS: props.pendingShards ?? 8,
        DB_POOL_SIZE: props.poolSize ?? 4,
        DURABLE_AFTER_SECONDS: (props.journalDurableAfter ?? Duration.minutes(5)).toSeconds(),
        REPLICATION_MARGIN_SECONDS: (props.journalReplicationMargin ?? Duration.seconds(5)).toSeconds(),
        ORDER_BOUND_SECONDS: (props.orderBound ?? Duration.minutes(2)).toSeconds(),
        ...props.database.connectionVariables(),
      },
    });
    const reconcile = this.reconcileFunction.function;
    // Candidates come from the pending index; decisions from strongly consistent reads of the entries.
    grantItemActions(props.journal, reconcile, 'dynamodb:UpdateItem', 'dynamodb:BatchGetItem');
    grantItemActions(props.controlTable, reconcile, 'dynamodb:GetItem');
    // Where a run that ran out of time stopped: it may write that item and no other.
    reconcile.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RecordReconcileCursor',
        actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        resources: [props.controlTable.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [ControlTableSchema.reconcileCursorItem] } },
      }),
    );
    reconcile.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'QueryPendingIndex', actions: ['dynamodb:Query'], resources: [`${props.journal.tableArn}/index/${OrderJournalSchema.pendingIndex}`] }),
    );
    props.database.secret.grantRead(reconcile);

    const lambdaStep = (stateName: string, fn: HandlerFunction, payload: Record<string, unknown>, resultPath: string, timeout: Duration): tasks.LambdaInvoke => {
      const task = new tasks.LambdaInvoke(this, stateName, {
        lambdaFunction: fn.function,
        payload: sfn.TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        resultPath,
        taskTimeout: sfn.Timeout.duration(timeout),
      });
      task.addRetry({ errors: TRANSIENT_LAMBDA_ERRORS, interval: Duration.seconds(2), maxAttempts: 3, ...BACKOFF });
      return task;
    };
    const dynamoRetry = <T extends sfn.TaskStateBase>(task: T): T => {
      // Listed first so a failed condition is never retried: it is an answer, not a fault.
      task.addRetry({ errors: [CONDITION_FAILED], maxAttempts: 0 });
      task.addRetry({ errors: TRANSIENT_DYNAMODB_ERRORS, interval: Duration.seconds(1), maxAttempts: 4, ...BACKOFF });
      return task;
    };
    /** After `alert`, `next`; an alert that cannot be published is counted on the way (`countStateName`). */
    const countFailedAlert = (alert: tasks.SnsPublish, countStateName: string, next: sfn.IChainable): void => {
      const notSent = countFailedNotification(countStateName);
      alert.addCatch(notSent, { resultPath: '$.alertError' });
      notSent.addCatch(next, { resultPath: '$.metricError' });
      notSent.next(next);
    };
    const countFailedNotification = (stateName: string): sfn.CustomState => {
      // An alert that could not be sent is itself worth an alarm (lib/observability/regional-alarms.ts).
      const state = new sfn.CustomState(this, stateName, {
        stateJson: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:cloudwatch:putMetricData',
          Parameters: {
            Namespace: naming.metricNamespace(),
            MetricData: [{ MetricName: FAILED_NOTIFICATION_METRIC, Dimensions: [{ Name: 'Region', Value: region }], Value: 1, Unit: 'Count' }],
          },
          ResultPath: null,
          TimeoutSeconds: 30,
        },
      });
      state.addRetry({ errors: ['CloudWatch.InternalServiceException', 'CloudWatch.CloudWatchException', 'States.Timeout'], interval: Duration.seconds(1), maxAttempts: 3, ...BACKOFF });
      return state;
    };
    const describeGlobalCluster = (stateName: string): tasks.CallAwsService => {
      const task = new tasks.CallAwsService(this, stateName, {
        service: 'rds',
        action: 'describeGlobalClusters',
        parameters: { GlobalClusterIdentifier: globalClusterId },
        iamResources: [globalClusterArn(stack, naming)],
        resultSelector: {
          'status.$': '$.GlobalClusters[0].Status',
          'writers.$': '$.GlobalClusters[0].GlobalClusterMembers[?(@.IsWriter == true)].DBClusterArn',
        },
        resultPath: '$.cluster',
        taskTimeout: sfn.Timeout.duration(Duration.seconds(30)),
      });
      task.addRetry({ errors: RDS_BUSY_ERRORS, interval: Duration.seconds(2), maxAttempts: 5, ...BACKOFF });
      return task;
    };
    const isWriter = sfn.Condition.and(
      sfn.Condition.isPresent('$.cluster.writers[0]'),
      sfn.Condition.stringEquals('$.cluster.writers[0]', ownClusterArn),
      sfn.Condition.stringEquals('$.cluster.status', 'available'),
    );
    const lockKey = { [ControlTableSchema.pk]: tasks.DynamoAttributeValue.fromString(ControlTableSchema.failoverLockItem) };
    const executionId = tasks.DynamoAttributeValue.fromString(sfn.JsonPath.executionId);
    const notification = (outcome: string) =>
      sfn.TaskInput.fromObject({
        outcome,
        region,
        peerRegion: props.peerRegion,
        mode: sfn.JsonPath.stringAt('$.mode'),
        reason: sfn.JsonPath.stringAt('$.reason'),
        execution: sfn.JsonPath.executionId,
        startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
      });

    const releaseLockState = (stateName: string): tasks.DynamoDeleteItem =>
      dynamoRetry(
        new tasks.DynamoDeleteItem(this, stateName, {
          table: props.controlTable,
          key: lockKey,
          // Only its own lock: one that lapsed and was taken over belongs to the other run now.
          conditionExpression: 'holder = :holder',
          expressionAttributeValues: { ':holder': executionId },
          resultPath: sfn.JsonPath.DISCARD,
          taskTimeout: AWS_CALL_TIMEOUT,
        }),
      );
    const alertState = (stateName: string, subject: string, message: Record<string, unknown>): tasks.SnsPublish => {
      const state = new tasks.SnsPublish(this, stateName, {
        topic: props.alertTopic,
        subject,
        message: sfn.TaskInput.fromObject(message),
        resultPath: sfn.JsonPath.DISCARD,
        taskTimeout: AWS_CALL_TIMEOUT,
      });
      state.addRetry({ errors: ['SNS.InternalErrorException', 'SNS.ThrottledException', 'States.Timeout'], interval: Duration.seconds(1), maxAttempts: 3, ...BACKOFF });
      return state;
    };
    const eventState = (stateName: string, detailType: string, outcome: string): tasks.EventBridgePutEvents => {
      const state = new tasks.EventBridgePutEvents(this, stateName, {
        entries: [{ eventBus: props.eventBus, source: props.eventSource, detailType, detail: notification(outcome) }],
        resultPath: sfn.JsonPath.DISCARD,
        taskTimeout: AWS_CALL_TIMEOUT,
      });
      state.addRetry({ errors: ['EventBridge.InternalException', 'States.Timeout'], interval: Duration.seconds(1), maxAttempts: 3, ...BACKOFF });
      return state;
    };

    // --- Failure path: alert, put back a half-done planned failover, release the lock, fail. ---
    const failed = new sfn.Fail(this, 'Failed', { errorPath: '$.failure.Error', causePath: '$.failure.Cause' });
    const releaseLockAfterFailure = releaseLockState('Unlock: release after failure');
    // Not holding the lock (preflight failed, or it lapsed and another run took it) is fine here.
    releaseLockAfterFailure.addCatch(failed, { resultPath: '$.unlockError' });
    releaseLockAfterFailure.next(failed);
    const recordFailure = lambdaStep(
      'Alert: record failure',
      this.stepsFunction,
      { action: 'record', outcome: 'failed', executionArn: sfn.JsonPath.executionId, startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'), mode: sfn.JsonPath.stringAt('$.mode') },
      '$.figures',
      Duration.seconds(60),
    );
    recordFailure.addCatch(releaseLockAfterFailure, { resultPath: '$.recordError' });
    recordFailure.next(releaseLockAfterFailure);
    const failureEvent = eventState('Alert: failure event', DrEventType.failoverFailed, 'failed');
    failureEvent.addCatch(recordFailure, { resultPath: '$.eventError' });
    failureEvent.next(recordFailure);
    const failureAlert = alertState('Alert: failure', `Failover to ${region} FAILED`, {
        outcome: 'failed',
        region,
        mode: sfn.JsonPath.stringAt('$.mode'),
        reason: sfn.JsonPath.stringAt('$.reason'),
        error: sfn.JsonPath.stringAt('$.failure.Error'),
        cause: sfn.JsonPath.stringAt('$.failure.Cause'),
        execution: sfn.JsonPath.executionId,
        runbook: 'README.md, "Failover": check the execution history, the control table item active-region and the global cluster writer before starting again',
      });
    countFailedAlert(failureAlert, 'Alert: count failed alert', failureEvent);
    failureAlert.next(failureEvent);

    const restoreActiveRegion = dynamoRetry(
      new tasks.DynamoUpdateItem(this, 'Rollback: restore active region', {
        table: props.controlTable,
        key: { [ControlTableSchema.pk]: tasks.DynamoAttributeValue.fromString(ControlTableSchema.activeRegionItem) },
        updateExpression: 'SET #active = :previous, #epoch = :restored, #drained = :drained, fencedBy = :holder',
        // Only this run's own fence (also when its response was lost and $.fence never set).
        conditionExpression: '#epoch = :fenced AND fencedBy = :holder',
        expressionAttributeNames: { '#active': ControlTableSchema.activeRegion, '#epoch': ControlTableSchema.fencingEpoch, '#drained': ControlTableSchema.drainedRegions },
        expressionAttributeValues: {
          ':previous': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.preflight.control.activeRegion')),
          ':restored': tasks.DynamoAttributeValue.numberFromString(sfn.JsonPath.stringAt('$.preflight.control.restoreEpochText')),
          ':fenced': tasks.DynamoAttributeValue.numberFromString(sfn.JsonPath.stringAt('$.preflight.control.nextEpochText')),
          ':drained': tasks.DynamoAttributeValue.listFromJsonPath(sfn.JsonPath.stringAt('$.preflight.rollbackRoles.drainedList')),
          ':holder': executionId,
        },
        resultPath: '$.rollback',
        taskTimeout: AWS_CALL_TIMEOUT,
      }),
    );
    const restoreSwitches = lambdaStep(
      'Rollback: set switches',
      this.stepsFunction,
      { action: 'setSwitches', activeRegion: sfn.JsonPath.stringAt('$.preflight.control.activeRegion') },
      '$.rollbackSwitches',
      Duration.seconds(60),
    );
    restoreActiveRegion.addCatch(failureAlert, { resultPath: '$.rollbackError' });
    restoreActiveRegion.next(restoreSwitches);
    restoreSwitches.addCatch(failureAlert, { resultPath: '$.rollbackError' });
    restoreSwitches.next(failureAlert);
    // The switchover may have completed after all (it finished after the timeout): then the
    // failover is finished instead of reverted, or the writer and the active region would part.
    const rereadCluster = describeGlobalCluster('Rollback: read global cluster');
    rereadCluster.addCatch(restoreActiveRegion, { resultPath: '$.rollbackError' });
    const promoted = new sfn.Pass(this, 'Promote: done', { parameters: { writer: ownClusterArn }, resultPath: '$.promoted' });
    rereadCluster.next(new sfn.Choice(this, 'Rollback: switchover completed?').when(isWriter, promoted).otherwise(restoreActiveRegion));
    const onFailure = new sfn.Choice(this, 'Rollback: needed?')
      .when(
        sfn.Condition.and(sfn.Condition.stringEquals('$.mode', 'planned'), sfn.Condition.isPresent('$.locked'), sfn.Condition.not(sfn.Condition.isPresent('$.promoted'))),
        rereadCluster,
      )
      .otherwise(failureAlert);
    const fail = (state: { addCatch(handler: sfn.IChainable, props?: sfn.CatchProps): unknown }): void => {
      state.addCatch(onFailure, { resultPath: '$.failure' });
    };

    // --- 1. Preflight and lock ---
    const preflight = lambdaStep('Preflight: check regions', this.stepsFunction, {
      action: 'preflight',
      input: sfn.JsonPath.objectAt('$$.Execution.Input'),
    }, '$.preflight', Duration.seconds(60));
    fail(preflight);
    const preflightFailed = new sfn.Pass(this, 'Preflight: not ready', {
      parameters: { Error: 'PreflightFailed', 'Cause.$': 'States.JsonToString($.preflight.problems)' },
      resultPath: '$.failure',
    }).next(onFailure);
    const alreadyActive = new sfn.Succeed(this, 'Preflight: already active', { comment: 'This region is active, undrained and holds the writer: nothing to do, nothing changed' });
    const acquireLock = dynamoRetry(
      new tasks.DynamoUpdateItem(this, 'Preflight: acquire lock', {
        table: props.controlTable,
        key: lockKey,
        updateExpression: 'SET holder = :holder, targetRegion = :region, #mode = :mode, reason = :reason, expiresAt = :expires',
        // Its own lock too: a retry after a lost response finds the lock it already holds.
        conditionExpression: 'attribute_not_exists(holder) OR expiresAt < :now OR holder = :holder',
        expressionAttributeNames: { '#mode': 'mode' },
        expressionAttributeValues: {
          ':holder': executionId,
          ':region': tasks.DynamoAttributeValue.fromString(region),
          ':mode': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.mode')),
          ':reason': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.reason')),
          ':expires': tasks.DynamoAttributeValue.numberFromString(sfn.JsonPath.stringAt('$.preflight.lock.expiresAtText')),
          ':now': tasks.DynamoAttributeValue.numberFromString(sfn.JsonPath.stringAt('$.preflight.lock.nowText')),
        },
        resultSelector: { held: true },
        resultPath: '$.locked',
        taskTimeout: AWS_CALL_TIMEOUT,
      }),
    );
    // Another failover holds the lock: this one alerts and stops without touching anything, and
    // without releasing a lock that is not its own.
    const lockHeld = new sfn.Fail(this, 'Preflight: another failover is running', { error: 'FailoverInProgress', cause: 'the control table\'s failover lock is held by another execution' });
    const lockHeldAlert = alertState('Preflight: alert another failover', `Failover to ${region} not started: another failover holds the lock`, {
      outcome: 'not-started',
      region,
      mode: sfn.JsonPath.stringAt('$.mode'),
      reason: sfn.JsonPath.stringAt('$.reason'),
      execution: sfn.JsonPath.executionId,
      lock: sfn.JsonPath.stringAt('$.lockError.Cause'),
      runbook: 'README.md, "Runbook": read the control table item failover-lock; stop a stuck execution and delete the item, or wait until it lapses',
    });
    countFailedAlert(lockHeldAlert, 'Preflight: count failed alert', lockHeld);
    lockHeldAlert.next(lockHeld);
    acquireLock.addCatch(lockHeldAlert, { errors: [CONDITION_FAILED], resultPath: '$.lockError' });
    fail(acquireLock);

    const startedEvent = eventState('Preflight: announce start', DrEventType.failoverStarted, 'started');

    // --- 2. Fence ---
    const fence = dynamoRetry(
      new tasks.DynamoUpdateItem(this, 'Fence: set active region', {
        table: props.controlTable,
        key: { [ControlTableSchema.pk]: tasks.DynamoAttributeValue.fromString(ControlTableSchema.activeRegionItem) },
        // The roles for this region being active (lambda/shared/roles.ts): the primary drained
        // when the secondary takes over; nothing drained when the primary does (failback), so
        // the secondary is a healthy standby for the next outage.
        updateExpression: 'SET #active = :region, #epoch = :next, #drained = :drained, fencedBy = :holder',
        // The epoch read in preflight must still be current: a concurrent change wins, this run
        // stops. (No item yet means epoch 0, which is what preflight read then.) Its own earlier
        // write passes too: a retry after a lost response finds the fence already set by this run.
        conditionExpression: 'attribute_not_exists(#epoch) OR #epoch = :observed OR (#epoch = :next AND fencedBy = :holder)',
        expressionAttributeNames: { '#active': ControlTableSchema.activeRegion, '#epoch': ControlTableSchema.fencingEpoch, '#drained': ControlTableSchema.drainedRegions },
        expressionAttributeValues: {
          ':region': tasks.DynamoAttributeValue.fromString(region),
          ':next': tasks.DynamoAttributeValue.numberFromString(sfn.JsonPath.stringAt('$.preflight.control.nextEpochText')),
          ':observed': tasks.DynamoAttributeValue.numberFromString(sfn.JsonPath.stringAt('$.preflight.control.fencingEpochText')),
          ':drained': tasks.DynamoAttributeValue.listFromJsonPath(sfn.JsonPath.stringAt('$.preflight.roles.drainedList')),
          ':holder': executionId,
        },
        resultPath: '$.fence',
        taskTimeout: AWS_CALL_TIMEOUT,
      }),
    );
    fail(fence);
    // Announcing is not worth stopping a failover for.
    startedEvent.addCatch(fence, { resultPath: '$.eventError' });
    const setSwitches = lambdaStep('Fence: set switches', this.stepsFunction, { action: 'setSwitches', activeRegion: region }, '$.switches', Duration.seconds(60));
    fail(setSwitches);

    // --- 3. Promote ---
    const readCluster = describeGlobalCluster('Promote: read global cluster');
    fail(readCluster);
    const requestPromotion = lambdaStep(
      'Promote: request',
      this.stepsFunction,
      { action: 'promote', kind: sfn.JsonPath.stringAt('$.preflight.promotion.kind') },
      '$.promotionRequest',
      Duration.seconds(60),
    );
    requestPromotion.addRetry({ errors: [PROMOTION_BUSY], interval: Duration.seconds(5), maxAttempts: 6, ...BACKOFF });
    // Still busy after the retries: a promotion may already be under way (this run's own, whose
    // answer was lost); polling decides, within the promotion timeout.
    const startPolling = new sfn.Pass(this, 'Promote: start polling', { result: sfn.Result.fromObject({ polls: 0 }), resultPath: '$.promotion' });
    requestPromotion.addCatch(startPolling, { errors: [PROMOTION_BUSY], resultPath: '$.promotionBusy' });
    fail(requestPromotion);
    const askApproval = new tasks.SnsPublish(this, 'Promote: wait for approval', {
      topic: props.alertTopic,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      subject: `Failover to ${region} needs approval: it allows data loss`,
      message: sfn.TaskInput.fromObject({
        region,
        reason: sfn.JsonPath.stringAt('$.reason'),
        promotion: sfn.JsonPath.stringAt('$.preflight.promotion.detail'),
        replicationLagMs: sfn.JsonPath.objectAt('$.preflight.replicationLagMs'),
        approve: sfn.JsonPath.format(`aws stepfunctions send-task-success --region ${region} --task-output '\\{"approved":true\\}' --task-token {}`, sfn.JsonPath.taskToken),
        deny: sfn.JsonPath.format(`aws stepfunctions send-task-failure --region ${region} --error DataLossDenied --cause 'denied by <name>' --task-token {}`, sfn.JsonPath.taskToken),
      }),
      resultPath: '$.approval',
      taskTimeout: sfn.Timeout.duration(props.approvalTimeout ?? Duration.minutes(30)),
    });
    fail(askApproval);
    askApproval.next(requestPromotion);
    const waitForPromotion = new sfn.Wait(this, 'Promote: wait', { time: sfn.WaitTime.duration(pollInterval) });
    const readProgress = describeGlobalCluster('Promote: read progress');
    fail(readProgress);
    const countPoll = new sfn.Pass(this, 'Promote: count poll', {
      parameters: { 'polls.$': 'States.MathAdd($.promotion.polls, 1)' },
      resultPath: '$.promotion',
    });
    const promotionTimedOut = new sfn.Pass(this, 'Promote: timed out', {
      parameters: { Error: 'PromotionTimedOut', 'Cause.$': `States.Format('${region} did not become the writer of ${globalClusterId} within ${maxPolls} checks; last status {}', $.cluster.status)` },
      resultPath: '$.failure',
    }).next(onFailure);

    // --- 4. Reconcile ---
    const replay = lambdaStep('Reconcile: replay journal', this.reconcileFunction, { action: 'reconcile' }, '$.reconcile', Duration.minutes(10));
    fail(replay);

    // --- 5. Validate ---
    const nameCanary = new sfn.Pass(this, 'Validate: name canary', { parameters: { 'orderId.$': "States.Format('canary-{}', States.UUID())" }, resultPath: '$.canary' });
    const validate = lambdaStep('Validate: region serves', this.stepsFunction, { action: 'validate', canaryOrderId: sfn.JsonPath.stringAt('$.canary.orderId') }, '$.validation', validationTimeout.plus(Duration.seconds(30)));
    fail(validate);

    // --- 6. Record and notify ---
    const done = new sfn.Succeed(this, 'Done');
    const releaseLock = releaseLockState('Unlock: release');
    releaseLock.addCatch(done, { errors: [CONDITION_FAILED], resultPath: '$.unlockError' });
    fail(releaseLock);
    const recordSuccess = lambdaStep(
      'Record: durations',
      this.stepsFunction,
      { action: 'record', outcome: 'succeeded', executionArn: sfn.JsonPath.executionId, startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'), mode: sfn.JsonPath.stringAt('$.mode') },
      '$.figures',
      Duration.seconds(60),
    );
    const successAlert = alertState('Notify: alert', `Failover to ${region} completed`, {
        outcome: 'succeeded',
        region,
        mode: sfn.JsonPath.stringAt('$.mode'),
        reason: sfn.JsonPath.stringAt('$.reason'),
        execution: sfn.JsonPath.executionId,
        validation: sfn.JsonPath.objectAt('$.validation'),
        reconciled: sfn.JsonPath.objectAt('$.reconcile'),
        switches: sfn.JsonPath.objectAt('$.switches'),
      });
    const successEvent = eventState('Notify: event', DrEventType.failoverCompleted, 'succeeded');
    // The failover is done by now: a metric, alert or event that cannot be sent must not undo it;
    // a lost alert is counted, and that count has its own alarm.
    recordSuccess.addCatch(successAlert, { resultPath: '$.recordError' });
    countFailedAlert(successAlert, 'Notify: count failed alert', successEvent);
    successEvent.addCatch(releaseLock, { resultPath: '$.eventError' });

    const checkInput = new sfn.Choice(this, 'Preflight: valid input?')
      .when(
        sfn.Condition.and(
          sfn.Condition.isPresent('$.mode'),
          sfn.Condition.or(sfn.Condition.stringEquals('$.mode', 'planned'), sfn.Condition.stringEquals('$.mode', 'unplanned')),
          sfn.Condition.isPresent('$.reason'),
          sfn.Condition.isString('$.reason'),
          sfn.Condition.or(sfn.Condition.not(sfn.Condition.isPresent('$.allowDataLoss')), sfn.Condition.isBoolean('$.allowDataLoss')),
        ),
        preflight,
      )
      .otherwise(new sfn.Fail(this, 'Preflight: invalid input', { error: 'InvalidInput', cause: 'input must be {"mode": "planned" | "unplanned", "reason": "<why>", "allowDataLoss"?: true | false}' }));
    preflight.next(
      new sfn.Choice(this, 'Preflight: ready?')
        .when(sfn.Condition.booleanEquals('$.preflight.alreadyActive', true), alreadyActive)
        .when(sfn.Condition.booleanEquals('$.preflight.ready', true), acquireLock)
        .otherwise(preflightFailed),
    );
    acquireLock
      .next(startedEvent)
      .next(fence)
      .next(setSwitches)
      .next(readCluster)
      .next(
        new sfn.Choice(this, 'Promote: already writer?')
          .when(isWriter, promoted)
          .when(sfn.Condition.booleanEquals('$.preflight.approvalRequired', true), askApproval)
          .otherwise(requestPromotion),
      );
    requestPromotion.next(startPolling);
    startPolling
      .next(waitForPromotion)
      .next(readProgress)
      .next(
        new sfn.Choice(this, 'Promote: writer yet?')
          .when(isWriter, promoted)
          .when(sfn.Condition.numberGreaterThanEquals('$.promotion.polls', maxPolls), promotionTimedOut)
          .otherwise(countPoll.next(waitForPromotion)),
      );
    promoted
      .next(replay)
      .next(new sfn.Choice(this, 'Reconcile: complete?').when(sfn.Condition.booleanEquals('$.reconcile.complete', false), replay).otherwise(nameCanary));
    nameCanary.next(validate).next(recordSuccess).next(successAlert).next(successEvent).next(releaseLock).next(done);

    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${naming.name('stateMachine', Purpose.failover)}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    props.alertTopic.grantPublish(props.role);
    Validations.of(props.role).acknowledge({ id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', reason: 'Publishing to the encrypted alert topic needs data keys of its own key, and only that key' });
    acknowledgeScopedWildcards(
      props.role,
      [this.stepsFunction.function.functionArn, this.reconcileFunction.function.functionArn].map((arn) => `${arn}:*`),
      'Invokes versions of its own two step functions only (the Lambda task grants the function and its qualifiers)',
    );
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: naming.name('stateMachine', Purpose.failover),
      comment: `Moves the active role of ${naming.parameterPrefix()} to ${region}. Input: {"mode": "planned" | "unplanned", "reason": "..."}`,
      definitionBody: sfn.DefinitionBody.fromChainable(checkInput),
      role: props.role,
      timeout: promotionTimeout.plus(validationTimeout).plus(Duration.minutes(30)),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
  }
}

/** The failover state machine's ARN in `naming.region`, from its deterministic name. */
export function failoverStateMachineArn(stack: Stack, naming: Naming): string {
  return Arn.format(
    { service: 'states', region: naming.region, resource: 'stateMachine', resourceName: naming.name('stateMachine', Purpose.failover), arnFormat: ArnFormat.COLON_RESOURCE_NAME },
    stack,
  );
}

/** What the failover state machine of `naming.region` reports, by name alone. */
export function failoverMetrics(naming: Naming, stack: Stack) {
  const stateMachineArn = failoverStateMachineArn(stack, naming);
  const states = (metricName: string, statistic: string) =>
    new cloudwatch.Metric({ namespace: 'AWS/States', metricName, dimensionsMap: { StateMachineArn: stateMachineArn }, statistic, period: Duration.minutes(1), region: naming.region });
  return {
    failedExecutions: states('ExecutionsFailed', 'Sum'),
    timedOutExecutions: states('ExecutionsTimedOut', 'Sum'),
    /** Execution time in milliseconds. */
    executionTime: states('ExecutionTime', 'Maximum'),
    /** Alerts the state machine could not publish (each counted as 1 by the run). */
    failedNotifications: new cloudwatch.Metric({
      namespace: naming.metricNamespace(),
      metricName: FAILED_NOTIFICATION_METRIC,
      dimensionsMap: { Region: naming.region },
      statistic: 'Sum',
      period: Duration.minutes(1),
      region: naming.region,
    }),
    /** The recorded duration of completed failovers to this region, in seconds (the steps function's EMF metric). */
    failoverDuration: new cloudwatch.Metric({
      namespace: naming.metricNamespace(),
      metricName: FAILOVER_METRICS.duration,
      dimensionsMap: { service: Purpose.failoverSteps, Outcome: 'succeeded' },
      statistic: 'Maximum',
      period: Duration.hours(1),
      region: naming.region,
    }),
  };
}
