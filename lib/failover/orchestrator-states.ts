import { Duration, IResolvable, Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { StepPayload } from '../../lambda/contracts/failover-steps';
import { ControlTableSchema } from '../../lambda/contracts/tables';
import type { HandlerFunction } from '../core/handler-function';
import { globalClusterArn } from '../data/global-database';
import type { OrchestratorFunctions } from './orchestrator-functions';
import {
  AWS_CALL_TIMEOUT,
  BACKOFF,
  CONDITION_FAILED,
  FAILED_NOTIFICATION_METRIC,
  FailoverOrchestratorProps,
  OrchestratorSettings,
  RDS_BUSY_ERRORS,
  TRANSIENT_DYNAMODB_ERRORS,
  TRANSIENT_LAMBDA_ERRORS,
} from './orchestrator-props';
import { executionPath } from '../../lambda/contracts/failover-execution';

/**
 * The kinds of state the failover state machine is made of, each with its retries, timeout and
 * result handling, created in the orchestrator's scope (a state's id is its name). The phases
 * (orchestrator-phases.ts) build the machine from these.
 */
export class FailoverStates {
  /** This run's id, the lock's and the fence's holder. */
  public readonly executionId = tasks.DynamoAttributeValue.fromString(sfn.JsonPath.executionId);
  /** The control table's failover lock item. */
  public readonly lockKey = { [ControlTableSchema.pk]: tasks.DynamoAttributeValue.fromString(ControlTableSchema.failoverLockItem) };
  /** The control table's active-region item. */
  public readonly activeRegionKey = { [ControlTableSchema.pk]: tasks.DynamoAttributeValue.fromString(ControlTableSchema.activeRegionItem) };
  /** The last read of the global cluster shows this region's cluster as the available writer. */
  public readonly isWriter: sfn.Condition;

  constructor(
    public readonly scope: Construct,
    public readonly props: FailoverOrchestratorProps,
    public readonly settings: OrchestratorSettings,
    public readonly functions: OrchestratorFunctions,
  ) {
    this.isWriter = sfn.Condition.and(
      sfn.Condition.isPresent('$.cluster.writers[0]'),
      sfn.Condition.stringEquals('$.cluster.writers[0]', settings.ownClusterArn),
      sfn.Condition.stringEquals(executionPath('$.cluster.status'), 'available'),
    );
  }

  /** A call of one of the orchestrator's functions, its answer at `resultPath`, retried on Lambda's own faults. */
  lambdaStep(stateName: string, fn: HandlerFunction, payload: Record<string, unknown>, resultPath: string, timeout: Duration): tasks.LambdaInvoke {
    const task = new tasks.LambdaInvoke(this.scope, stateName, {
      lambdaFunction: fn.function,
      payload: sfn.TaskInput.fromObject(payload),
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      resultPath,
      taskTimeout: sfn.Timeout.duration(timeout),
    });
    task.addRetry({ errors: TRANSIENT_LAMBDA_ERRORS, interval: Duration.seconds(2), maxAttempts: 3, ...BACKOFF });
    return task;
  }

  /** A call of the steps function with a request typed against its schema (lambda/contracts/failover-steps.ts); a field may be a JsonPath. */
  step(stateName: string, request: StepPayload<string | IResolvable>, resultPath: string, timeout: Duration): tasks.LambdaInvoke {
    return this.lambdaStep(stateName, this.functions.steps, request, resultPath, timeout);
  }

  /** A DynamoDB task retried on throttling and faults, never on a failed condition (that is an answer). */
  dynamoRetry<T extends sfn.TaskStateBase>(task: T): T {
    // Listed first so a failed condition is never retried.
    task.addRetry({ errors: [CONDITION_FAILED], maxAttempts: 0 });
    task.addRetry({ errors: TRANSIENT_DYNAMODB_ERRORS, interval: Duration.seconds(1), maxAttempts: 4, ...BACKOFF });
    return task;
  }

  /** After `alert`, `next`; an alert that cannot be published is counted on the way (`countStateName`). */
  countFailedAlert(alert: tasks.SnsPublish, countStateName: string, next: sfn.IChainable): void {
    const notSent = this.countFailedNotification(countStateName);
    alert.addCatch(notSent, { resultPath: executionPath('$.alertError') });
    notSent.addCatch(next, { resultPath: executionPath('$.metricError') });
    notSent.next(next);
  }

  /** Counts one alert that could not be sent: itself worth an alarm (lib/observability/regional-alarms.ts). */
  private countFailedNotification(stateName: string): sfn.CustomState {
    const state = new sfn.CustomState(this.scope, stateName, {
      stateJson: {
        Type: 'Task',
        Resource: 'arn:aws:states:::aws-sdk:cloudwatch:putMetricData',
        Parameters: {
          Namespace: this.props.naming.metricNamespace(),
          MetricData: [{ MetricName: FAILED_NOTIFICATION_METRIC, Dimensions: [{ Name: 'Region', Value: this.settings.region }], Value: 1, Unit: 'Count' }],
        },
        ResultPath: null,
        TimeoutSeconds: 30,
      },
    });
    state.addRetry({
      errors: ['CloudWatch.InternalServiceException', 'CloudWatch.CloudWatchException', 'States.Timeout'],
      interval: Duration.seconds(1),
      maxAttempts: 3,
      ...BACKOFF,
    });
    return state;
  }

  /** Reads the global cluster's status and writer into `$.cluster`. */
  describeGlobalCluster(stateName: string): tasks.CallAwsService {
    const task = new tasks.CallAwsService(this.scope, stateName, {
      service: 'rds',
      action: 'describeGlobalClusters',
      parameters: { GlobalClusterIdentifier: this.settings.globalClusterId },
      iamResources: [globalClusterArn(Stack.of(this.scope), this.props.naming)],
      resultSelector: {
        'status.$': '$.GlobalClusters[0].Status',
        'writers.$': '$.GlobalClusters[0].GlobalClusterMembers[?(@.IsWriter == true)].DBClusterArn',
      },
      resultPath: executionPath('$.cluster'),
      taskTimeout: sfn.Timeout.duration(Duration.seconds(30)),
    });
    task.addRetry({ errors: RDS_BUSY_ERRORS, interval: Duration.seconds(2), maxAttempts: 5, ...BACKOFF });
    return task;
  }

  /** Deletes the failover lock, only this run's own. */
  releaseLock(stateName: string): tasks.DynamoDeleteItem {
    return this.dynamoRetry(
      new tasks.DynamoDeleteItem(this.scope, stateName, {
        table: this.props.controlTable.table,
        key: this.lockKey,
        // Only its own lock: one that lapsed and was taken over belongs to the other run now.
        conditionExpression: 'holder = :holder',
        expressionAttributeValues: { ':holder': this.executionId },
        resultPath: sfn.JsonPath.DISCARD,
        taskTimeout: AWS_CALL_TIMEOUT,
      }),
    );
  }

  /** Publishes `message` to the alert topic. */
  alert(stateName: string, subject: string, message: Record<string, unknown>): tasks.SnsPublish {
    const state = new tasks.SnsPublish(this.scope, stateName, {
      topic: this.props.alertTopic,
      subject,
      message: sfn.TaskInput.fromObject(message),
      resultPath: sfn.JsonPath.DISCARD,
      taskTimeout: AWS_CALL_TIMEOUT,
    });
    state.addRetry({
      errors: ['SNS.InternalErrorException', 'SNS.ThrottledException', 'States.Timeout'],
      interval: Duration.seconds(1),
      maxAttempts: 3,
      ...BACKOFF,
    });
    return state;
  }

  /** Puts a failover event of `detailType` on the DR bus. */
  event(stateName: string, detailType: string, outcome: string): tasks.EventBridgePutEvents {
    const { props, settings } = this;
    const detail = sfn.TaskInput.fromObject({
      outcome,
      region: settings.region,
      peerRegion: props.peerRegion,
      mode: sfn.JsonPath.stringAt(executionPath('$.mode')),
      reason: sfn.JsonPath.stringAt(executionPath('$.reason')),
      execution: sfn.JsonPath.executionId,
      startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
    });
    const state = new tasks.EventBridgePutEvents(this.scope, stateName, {
      entries: [{ eventBus: props.eventBus, source: props.eventSource, detailType, detail }],
      resultPath: sfn.JsonPath.DISCARD,
      taskTimeout: AWS_CALL_TIMEOUT,
    });
    state.addRetry({ errors: ['EventBridge.InternalException', 'States.Timeout'], interval: Duration.seconds(1), maxAttempts: 3, ...BACKOFF });
    return state;
  }

  /** The recording step (durations as metrics), with the run's outcome. */
  record(stateName: string, outcome: 'succeeded' | 'failed'): tasks.LambdaInvoke {
    return this.step(
      stateName,
      {
        action: 'record',
        outcome,
        executionArn: sfn.JsonPath.executionId,
        startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
        mode: sfn.JsonPath.stringAt(executionPath('$.mode')),
      },
      executionPath('$.figures'),
      Duration.seconds(60),
    );
  }

  /** The evacuation switches set for `activeRegion` (a JSONPath or a region). */
  setSwitches(stateName: string, activeRegion: string, resultPath: string): tasks.LambdaInvoke {
    return this.step(stateName, { action: 'setSwitches', activeRegion }, resultPath, Duration.seconds(60));
  }
}
