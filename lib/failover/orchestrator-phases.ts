import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { FAILOVER_STATES } from '../../lambda/contracts/failover-states';
import { ControlTableSchema } from '../../lambda/contracts/tables';
import { DrEventType } from '../observability/dr-event-bus';
import { AWS_CALL_TIMEOUT, BACKOFF, CONDITION_FAILED, PROMOTION_BUSY } from './orchestrator-props';
import type { FailoverStates } from './orchestrator-states';
import { executionPath } from '../../lambda/contracts/failover-execution';

/**
 * The failover state machine, one builder per phase (README, "What the state machine does").
 * State names start with their phase, which the recorded durations group by. Each builder
 * creates its phase's states and wires them among themselves; `failoverDefinition` joins the
 * phases in order.
 */

/** Sends a state's errors to the failure path, with the error at `$.failure`. */
type Fail = (state: { addCatch(handler: sfn.IChainable, props?: sfn.CatchProps): unknown }) => void;

/** Failure: alert, event, record, release the lock, fail. Each step that cannot be done is passed by. */
function failureAlertPath(s: FailoverStates): tasks.SnsPublish {
  const { region } = s.settings;
  const failed = new sfn.Fail(s.scope, 'Failed', { errorPath: executionPath('$.failure.Error'), causePath: executionPath('$.failure.Cause') });
  const releaseLockAfterFailure = s.releaseLock('Unlock: release after failure');
  // Not holding the lock (preflight failed, or it lapsed and another run took it) is fine here.
  releaseLockAfterFailure.addCatch(failed, { resultPath: executionPath('$.unlockError') });
  releaseLockAfterFailure.next(failed);
  const recordFailure = s.record('Alert: record failure', 'failed');
  recordFailure.addCatch(releaseLockAfterFailure, { resultPath: executionPath('$.recordError') });
  recordFailure.next(releaseLockAfterFailure);
  const failureEvent = s.event('Alert: failure event', DrEventType.failoverFailed, 'failed');
  failureEvent.addCatch(recordFailure, { resultPath: executionPath('$.eventError') });
  failureEvent.next(recordFailure);
  const failureAlert = s.alert('Alert: failure', `Failover to ${region} FAILED`, {
    outcome: 'failed',
    region,
    mode: sfn.JsonPath.stringAt(executionPath('$.mode')),
    reason: sfn.JsonPath.stringAt(executionPath('$.reason')),
    error: sfn.JsonPath.stringAt(executionPath('$.failure.Error')),
    cause: sfn.JsonPath.stringAt(executionPath('$.failure.Cause')),
    execution: sfn.JsonPath.executionId,
    runbook: 'README.md, "Failover": check the execution history, the control table item active-region and the global cluster writer before starting again',
  });
  s.countFailedAlert(failureAlert, 'Alert: count failed alert', failureEvent);
  failureAlert.next(failureEvent);
  return failureAlert;
}

interface FailurePath {
  /** Where every failing state goes: a rollback when a planned failover fenced but did not promote, else the alert. */
  readonly onFailure: sfn.Choice;
  readonly fail: Fail;
  /** The promotion is done: shared by the success path and a rollback that finds the switchover completed after all. */
  readonly promoted: sfn.Pass;
}

/** Failure, with the rollback of a half-done planned failover: put back the active region and the switches. */
function failurePath(s: FailoverStates): FailurePath {
  const failureAlert = failureAlertPath(s);
  const restoreActiveRegion = s.dynamoRetry(
    new tasks.DynamoUpdateItem(s.scope, 'Rollback: restore active region', {
      table: s.props.controlTable.table,
      key: s.activeRegionKey,
      updateExpression: 'SET #active = :previous, #epoch = :restored, #drained = :drained, fencedBy = :holder',
      // Only this run's own fence (also when its response was lost and $.fence never set).
      conditionExpression: '#epoch = :fenced AND fencedBy = :holder',
      expressionAttributeNames: {
        '#active': ControlTableSchema.activeRegion,
        '#epoch': ControlTableSchema.fencingEpoch,
        '#drained': ControlTableSchema.drainedRegions,
      },
      expressionAttributeValues: {
        ':previous': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt(executionPath('$.preflight.control.activeRegion'))),
        ':restored': tasks.DynamoAttributeValue.numberFromString(sfn.JsonPath.stringAt(executionPath('$.preflight.control.restoreEpochText'))),
        ':fenced': tasks.DynamoAttributeValue.numberFromString(sfn.JsonPath.stringAt(executionPath('$.preflight.control.nextEpochText'))),
        ':drained': tasks.DynamoAttributeValue.listFromJsonPath(sfn.JsonPath.stringAt(executionPath('$.preflight.rollbackRoles.drainedList'))),
        ':holder': s.executionId,
      },
      resultPath: executionPath('$.rollback'),
      taskTimeout: AWS_CALL_TIMEOUT,
    }),
  );
  const restoreSwitches = s.setSwitches(
    'Rollback: set switches',
    sfn.JsonPath.stringAt(executionPath('$.preflight.control.activeRegion')),
    executionPath('$.rollbackSwitches'),
  );
  restoreActiveRegion.addCatch(failureAlert, { resultPath: executionPath('$.rollbackError') });
  restoreActiveRegion.next(restoreSwitches);
  restoreSwitches.addCatch(failureAlert, { resultPath: executionPath('$.rollbackError') });
  restoreSwitches.next(failureAlert);
  // The switchover may have completed after all (it finished after the timeout): then the
  // failover is finished instead of reverted, or the writer and the active region would part.
  const rereadCluster = s.describeGlobalCluster('Rollback: read global cluster');
  rereadCluster.addCatch(restoreActiveRegion, { resultPath: executionPath('$.rollbackError') });
  const promoted = new sfn.Pass(s.scope, 'Promote: done', { parameters: { writer: s.settings.ownClusterArn }, resultPath: executionPath('$.promoted') });
  rereadCluster.next(new sfn.Choice(s.scope, 'Rollback: switchover completed?').when(s.isWriter, promoted).otherwise(restoreActiveRegion));
  const onFailure = new sfn.Choice(s.scope, 'Rollback: needed?')
    .when(
      sfn.Condition.and(
        sfn.Condition.stringEquals(executionPath('$.mode'), 'planned'),
        sfn.Condition.isPresent(executionPath('$.locked')),
        sfn.Condition.not(sfn.Condition.isPresent(executionPath('$.promoted'))),
      ),
      rereadCluster,
    )
    .otherwise(failureAlert);
  return { onFailure, promoted, fail: (state) => state.addCatch(onFailure, { resultPath: executionPath('$.failure') }) };
}

/** 1. Preflight and lock: the input is valid, the regions are ready, the lock is this run's. Returns the acquired lock's state. */
function preflightPhase(s: FailoverStates, { onFailure, fail }: FailurePath): { checkInput: sfn.Choice; acquireLock: tasks.DynamoUpdateItem } {
  const { region } = s.settings;
  const preflight = s.step(
    'Preflight: check regions',
    { action: 'preflight', input: sfn.JsonPath.objectAt('$$.Execution.Input') },
    executionPath('$.preflight'),
    Duration.seconds(60),
  );
  fail(preflight);
  const preflightFailed = new sfn.Pass(s.scope, 'Preflight: not ready', {
    parameters: { Error: 'PreflightFailed', 'Cause.$': 'States.JsonToString($.preflight.problems)' },
    resultPath: executionPath('$.failure'),
  }).next(onFailure);
  const alreadyActive = new sfn.Succeed(s.scope, 'Preflight: already active', {
    comment: 'This region is active, undrained and holds the writer: nothing to do, nothing changed',
  });
  const acquireLock = s.dynamoRetry(
    new tasks.DynamoUpdateItem(s.scope, 'Preflight: acquire lock', {
      table: s.props.controlTable.table,
      key: s.lockKey,
      updateExpression: 'SET holder = :holder, targetRegion = :region, #mode = :mode, reason = :reason, expiresAt = :expires',
      // Its own lock too: a retry after a lost response finds the lock it already holds.
      conditionExpression: 'attribute_not_exists(holder) OR expiresAt < :now OR holder = :holder',
      expressionAttributeNames: { '#mode': 'mode' },
      expressionAttributeValues: {
        ':holder': s.executionId,
        ':region': tasks.DynamoAttributeValue.fromString(region),
        ':mode': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt(executionPath('$.mode'))),
        ':reason': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt(executionPath('$.reason'))),
        ':expires': tasks.DynamoAttributeValue.numberFromString(sfn.JsonPath.stringAt(executionPath('$.preflight.lock.expiresAtText'))),
        ':now': tasks.DynamoAttributeValue.numberFromString(sfn.JsonPath.stringAt(executionPath('$.preflight.lock.nowText'))),
      },
      resultSelector: { held: true },
      resultPath: executionPath('$.locked'),
      taskTimeout: AWS_CALL_TIMEOUT,
    }),
  );
  // Another failover holds the lock: this one alerts and stops without touching anything, and
  // without releasing a lock that is not its own.
  const lockHeld = new sfn.Fail(s.scope, 'Preflight: another failover is running', {
    error: 'FailoverInProgress',
    cause: "the control table's failover lock is held by another execution",
  });
  const lockHeldAlert = s.alert('Preflight: alert another failover', `Failover to ${region} not started: another failover holds the lock`, {
    outcome: 'not-started',
    region,
    mode: sfn.JsonPath.stringAt(executionPath('$.mode')),
    reason: sfn.JsonPath.stringAt(executionPath('$.reason')),
    execution: sfn.JsonPath.executionId,
    lock: sfn.JsonPath.stringAt(executionPath('$.lockError.Cause')),
    runbook: 'README.md, "Runbook": read the control table item failover-lock; stop a stuck execution and delete the item, or wait until it lapses',
  });
  s.countFailedAlert(lockHeldAlert, 'Preflight: count failed alert', lockHeld);
  lockHeldAlert.next(lockHeld);
  acquireLock.addCatch(lockHeldAlert, { errors: [CONDITION_FAILED], resultPath: executionPath('$.lockError') });
  fail(acquireLock);
  const checkInput = new sfn.Choice(s.scope, 'Preflight: valid input?')
    .when(
      sfn.Condition.and(
        sfn.Condition.isPresent(executionPath('$.mode')),
        sfn.Condition.or(sfn.Condition.stringEquals(executionPath('$.mode'), 'planned'), sfn.Condition.stringEquals(executionPath('$.mode'), 'unplanned')),
        sfn.Condition.isPresent(executionPath('$.reason')),
        sfn.Condition.isString(executionPath('$.reason')),
        sfn.Condition.or(
          sfn.Condition.not(sfn.Condition.isPresent(executionPath('$.allowDataLoss'))),
          sfn.Condition.isBoolean(executionPath('$.allowDataLoss')),
        ),
      ),
      preflight,
    )
    .otherwise(
      new sfn.Fail(s.scope, 'Preflight: invalid input', {
        error: 'InvalidInput',
        cause: 'input must be {"mode": "planned" | "unplanned", "reason": "<why>", "allowDataLoss"?: true | false}',
      }),
    );
  preflight.next(
    new sfn.Choice(s.scope, 'Preflight: ready?')
      .when(sfn.Condition.booleanEquals(executionPath('$.preflight.alreadyActive'), true), alreadyActive)
      .when(sfn.Condition.booleanEquals(executionPath('$.preflight.ready'), true), acquireLock)
      .otherwise(preflightFailed),
  );
  return { checkInput, acquireLock };
}

/** 2. Fence: announce the start, set the active region under epoch+1 (a conflict stops), set the switches. */
function fencePhase(s: FailoverStates, { fail }: FailurePath): { first: sfn.TaskStateBase; last: sfn.TaskStateBase } {
  const startedEvent = s.event('Preflight: announce start', DrEventType.failoverStarted, 'started');
  const fence = s.dynamoRetry(
    new tasks.DynamoUpdateItem(s.scope, 'Fence: set active region', {
      table: s.props.controlTable.table,
      key: s.activeRegionKey,
      // The roles for this region being active (lambda/shared/roles.ts): the primary drained
      // when the secondary takes over; nothing drained when the primary does (failback), so
      // the secondary is a healthy standby for the next outage.
      updateExpression: 'SET #active = :region, #epoch = :next, #drained = :drained, fencedBy = :holder',
      // The epoch read in preflight must still be current: a concurrent change wins, this run
      // stops. (No item yet means epoch 0, which is what preflight read then.) Its own earlier
      // write passes too: a retry after a lost response finds the fence already set by this run.
      conditionExpression: 'attribute_not_exists(#epoch) OR #epoch = :observed OR (#epoch = :next AND fencedBy = :holder)',
      expressionAttributeNames: {
        '#active': ControlTableSchema.activeRegion,
        '#epoch': ControlTableSchema.fencingEpoch,
        '#drained': ControlTableSchema.drainedRegions,
      },
      expressionAttributeValues: {
        ':region': tasks.DynamoAttributeValue.fromString(s.settings.region),
        ':next': tasks.DynamoAttributeValue.numberFromString(sfn.JsonPath.stringAt(executionPath('$.preflight.control.nextEpochText'))),
        ':observed': tasks.DynamoAttributeValue.numberFromString(sfn.JsonPath.stringAt(executionPath('$.preflight.control.fencingEpochText'))),
        ':drained': tasks.DynamoAttributeValue.listFromJsonPath(sfn.JsonPath.stringAt(executionPath('$.preflight.roles.drainedList'))),
        ':holder': s.executionId,
      },
      resultPath: executionPath('$.fence'),
      taskTimeout: AWS_CALL_TIMEOUT,
    }),
  );
  fail(fence);
  // Announcing is not worth stopping a failover for.
  startedEvent.addCatch(fence, { resultPath: executionPath('$.eventError') });
  const setSwitches = s.setSwitches('Fence: set switches', s.settings.region, executionPath('$.switches'));
  fail(setSwitches);
  startedEvent.next(fence).next(setSwitches);
  return { first: startedEvent, last: setSwitches };
}

/** 3. Promote: switchover or failover (after approval when asked), then polling until this region's cluster is the writer. */
function promotePhase(s: FailoverStates, { onFailure, fail, promoted }: FailurePath): tasks.CallAwsService {
  const { region, maxPolls, globalClusterId } = s.settings;
  const readCluster = s.describeGlobalCluster('Promote: read global cluster');
  fail(readCluster);
  const requestPromotion = s.step(
    'Promote: request',
    { action: 'promote', kind: sfn.JsonPath.stringAt(executionPath('$.preflight.promotion.kind')) },
    executionPath('$.promotionRequest'),
    Duration.seconds(60),
  );
  requestPromotion.addRetry({ errors: [PROMOTION_BUSY], interval: Duration.seconds(5), maxAttempts: 6, ...BACKOFF });
  // Still busy after the retries: a promotion may already be under way (this run's own, whose
  // answer was lost); polling decides, within the promotion timeout.
  const startPolling = new sfn.Pass(s.scope, 'Promote: start polling', {
    result: sfn.Result.fromObject({ polls: 0 }),
    resultPath: executionPath('$.promotion'),
  });
  requestPromotion.addCatch(startPolling, { errors: [PROMOTION_BUSY], resultPath: executionPath('$.promotionBusy') });
  fail(requestPromotion);
  const askApproval = new tasks.SnsPublish(s.scope, 'Promote: wait for approval', {
    topic: s.props.alertTopic,
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    subject: `Failover to ${region} needs approval: it allows data loss`,
    message: sfn.TaskInput.fromObject({
      region,
      reason: sfn.JsonPath.stringAt(executionPath('$.reason')),
      promotion: sfn.JsonPath.stringAt(executionPath('$.preflight.promotion.detail')),
      replicationLagMs: sfn.JsonPath.objectAt(executionPath('$.preflight.replicationLagMs')),
      approve: sfn.JsonPath.format(
        `aws stepfunctions send-task-success --region ${region} --task-output '\\{"approved":true\\}' --task-token {}`,
        sfn.JsonPath.taskToken,
      ),
      deny: sfn.JsonPath.format(
        `aws stepfunctions send-task-failure --region ${region} --error DataLossDenied --cause 'denied by <name>' --task-token {}`,
        sfn.JsonPath.taskToken,
      ),
    }),
    resultPath: executionPath('$.approval'),
    taskTimeout: sfn.Timeout.duration(Duration.seconds(s.props.config.dataLossApprovalTimeoutSeconds)),
  });
  fail(askApproval);
  askApproval.next(requestPromotion);
  const waitForPromotion = new sfn.Wait(s.scope, 'Promote: wait', { time: sfn.WaitTime.duration(s.settings.pollInterval) });
  const readProgress = s.describeGlobalCluster('Promote: read progress');
  fail(readProgress);
  const countPoll = new sfn.Pass(s.scope, 'Promote: count poll', {
    parameters: { 'polls.$': 'States.MathAdd($.promotion.polls, 1)' },
    resultPath: executionPath('$.promotion'),
  });
  const promotionTimedOut = new sfn.Pass(s.scope, 'Promote: timed out', {
    parameters: {
      Error: 'PromotionTimedOut',
      'Cause.$': `States.Format('${region} did not become the writer of ${globalClusterId} within ${maxPolls} checks; last status {}', $.cluster.status)`,
    },
    resultPath: executionPath('$.failure'),
  }).next(onFailure);
  readCluster.next(
    new sfn.Choice(s.scope, 'Promote: already writer?')
      .when(s.isWriter, promoted)
      .when(sfn.Condition.booleanEquals(executionPath('$.preflight.approvalRequired'), true), askApproval)
      .otherwise(requestPromotion),
  );
  requestPromotion.next(startPolling);
  startPolling
    .next(waitForPromotion)
    .next(readProgress)
    .next(
      new sfn.Choice(s.scope, 'Promote: writer yet?')
        .when(s.isWriter, promoted)
        .when(sfn.Condition.numberGreaterThanEquals(executionPath('$.promotion.polls'), maxPolls), promotionTimedOut)
        .otherwise(countPoll.next(waitForPromotion)),
    );
  return readCluster;
}

/** 4. Reconcile (until a run completes), 5. validate (health, DNS, a canary order), 6. record, notify, release the lock. */
function completionPhases(s: FailoverStates, { fail, promoted }: FailurePath): void {
  const { region } = s.settings;
  const replay = s.lambdaStep(
    FAILOVER_STATES.replayJournal,
    s.functions.reconcile,
    { action: 'reconcile' },
    executionPath('$.reconcile'),
    Duration.minutes(10),
  );
  fail(replay);
  const nameCanary = new sfn.Pass(s.scope, 'Validate: name canary', {
    parameters: { 'orderId.$': "States.Format('canary-{}', States.UUID())" },
    resultPath: executionPath('$.canary'),
  });
  const validate = s.step(
    FAILOVER_STATES.validate,
    { action: 'validate', canaryOrderId: sfn.JsonPath.stringAt(executionPath('$.canary.orderId')) },
    executionPath('$.validation'),
    s.settings.validationTimeout.plus(Duration.seconds(30)),
  );
  fail(validate);
  const done = new sfn.Succeed(s.scope, 'Done');
  const releaseLock = s.releaseLock('Unlock: release');
  releaseLock.addCatch(done, { errors: [CONDITION_FAILED], resultPath: executionPath('$.unlockError') });
  fail(releaseLock);
  const recordSuccess = s.record('Record: durations', 'succeeded');
  const successAlert = s.alert('Notify: alert', `Failover to ${region} completed`, {
    outcome: 'succeeded',
    region,
    mode: sfn.JsonPath.stringAt(executionPath('$.mode')),
    reason: sfn.JsonPath.stringAt(executionPath('$.reason')),
    execution: sfn.JsonPath.executionId,
    validation: sfn.JsonPath.objectAt(executionPath('$.validation')),
    reconciled: sfn.JsonPath.objectAt(executionPath('$.reconcile')),
    switches: sfn.JsonPath.objectAt(executionPath('$.switches')),
  });
  const successEvent = s.event('Notify: event', DrEventType.failoverCompleted, 'succeeded');
  // The failover is done by now: a metric, alert or event that cannot be sent must not undo it;
  // a lost alert is counted, and that count has its own alarm.
  recordSuccess.addCatch(successAlert, { resultPath: executionPath('$.recordError') });
  s.countFailedAlert(successAlert, 'Notify: count failed alert', successEvent);
  successEvent.addCatch(releaseLock, { resultPath: executionPath('$.eventError') });
  promoted
    .next(replay)
    .next(
      new sfn.Choice(s.scope, 'Reconcile: complete?')
        .when(sfn.Condition.booleanEquals(executionPath('$.reconcile.complete'), false), replay)
        .otherwise(nameCanary),
    );
  nameCanary.next(validate).next(recordSuccess).next(successAlert).next(successEvent).next(releaseLock).next(done);
}

/** The whole machine, from its first state: the phases in order, each failing into the failure path. */
export function failoverDefinition(s: FailoverStates): sfn.IChainable {
  const failure = failurePath(s);
  const { checkInput, acquireLock } = preflightPhase(s, failure);
  const fence = fencePhase(s, failure);
  const promote = promotePhase(s, failure);
  completionPhases(s, failure);
  acquireLock.next(fence.first);
  fence.last.next(promote);
  return checkInput;
}
