import { Arn, ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { FAILOVER_STEPS } from '../../lambda/contracts/failover-steps';
import { RECONCILE } from '../../lambda/contracts/reconcile';
import { acknowledgeScopedWildcards } from '../core/compliance';
import { HandlerFunction } from '../core/handler-function';
import { publishMetricsStatement } from '../core/service-metric';
import { ParameterKey, Purpose } from '../core/naming';
import { readPeerParameterStatement } from '../core/peer-parameter';
import { clusterArn, globalClusterArn } from '../data/global-database';
import { evacuationSignal } from '../routing/evacuation-switch';
import { FailoverOrchestratorProps, HTTP_TIMEOUT, OrchestratorSettings, VALIDATION_POLL } from './orchestrator-props';

/**
 * The orchestrator's two functions and their grants. They are built in the orchestrator's own
 * scope (ids `Steps` and `Reconcile`), not under a construct of their own: another level would
 * change their logical ids, and CloudFormation cannot replace a function whose name is fixed.
 */
export interface OrchestratorFunctions {
  /** Preflight, promotion, evacuation switches, validation, recording. */
  readonly steps: HandlerFunction;
  /** Replays the journal into Aurora. */
  readonly reconcile: HandlerFunction;
}

export function buildOrchestratorFunctions(scope: Construct, props: FailoverOrchestratorProps, settings: OrchestratorSettings): OrchestratorFunctions {
  return { steps: buildSteps(scope, props, settings), reconcile: buildReconcile(scope, props) };
}

function buildSteps(scope: Construct, props: FailoverOrchestratorProps, settings: OrchestratorSettings): HandlerFunction {
  const { naming } = props;
  const { region } = settings;
  const stack = Stack.of(scope);
  const steps = new HandlerFunction(scope, 'Steps', {
    naming,
    purpose: Purpose.failoverSteps,
    contract: FAILOVER_STEPS,
    description: 'Failover steps that need logic: preflight, promotion, evacuation switches, validation (DNS, canary), recording',
    // Validation retries inside until its own timeout; a minute more to answer.
    timeout: settings.validationTimeout.plus(Duration.minutes(1)),
    logRetention: props.config.logRetentionDays,
    sourceMaps: props.config.lambdaSourceMaps,
    variables: {
      PEER_REGION: props.peerRegion,
      PRIMARY_REGION: props.primaryRegion,
      CONTROL_TABLE: props.controlTable.table.tableName,
      OWN_API_URL: props.apiUrl,
      PEER_API_URL_PARAMETER: naming.parameterName(ParameterKey.apiUrl),
      API_HOST_NAME: props.apiHostName,
      OWN_API_TARGET: props.apiTarget,
      DB_CLUSTER_ID: props.database.clusterIdentifier,
      METRIC_NAMESPACE: naming.metricNamespace(),
      EVACUATION_METRIC_NAME: evacuationSignal(naming, region, props.peerRegion).metricName,
      SWITCH_PARAMETER: naming.parameterName(ParameterKey.evacuationSwitch),
      GLOBAL_CLUSTER_ID: settings.globalClusterId,
      OWN_CLUSTER_ARN: settings.ownClusterArn,
      REQUIRE_DATA_LOSS_APPROVAL: settings.requireApproval,
      LOCK_SECONDS: settings.lockSeconds,
      VALIDATION_TIMEOUT_SECONDS: settings.validationTimeout.toSeconds(),
      HTTP_TIMEOUT_MS: HTTP_TIMEOUT.toMilliseconds(),
      POLL_MS: VALIDATION_POLL.toMilliseconds(),
      DRILL_SWITCH_ENABLED: props.config.faultInjectionDrills,
      DRILL_SWITCH_PARAMETER: naming.parameterName(ParameterKey.drillForcedPromotion),
    },
  });
  const fn = steps.function;
  const switchParameterArns = [region, props.peerRegion].map((each) =>
    Arn.format({ service: 'ssm', region: each, resource: 'parameter', resourceName: naming.parameterName(ParameterKey.evacuationSwitch).slice(1) }, stack),
  );
  const promotableClusterArns = [globalClusterArn(stack, naming), ...[region, props.peerRegion].map((each) => clusterArn(stack, naming, each))];
  const executionArns = Arn.format(
    { service: 'states', resource: 'execution', resourceName: `${naming.name('stateMachine', Purpose.failover)}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
    stack,
  );
  props.controlTable.grantReadState(fn);
  fn.addToRolePolicy(readPeerParameterStatement(stack, naming, props.peerRegion, ParameterKey.apiUrl));
  // GetMetricStatistics supports no resource-level permissions.
  fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadReplicationLag', actions: ['cloudwatch:GetMetricStatistics'], resources: ['*'] }));
  fn.addToRolePolicy(publishMetricsStatement(naming, 'PublishEvacuationSwitches'));
  fn.addToRolePolicy(
    new iam.PolicyStatement({ sid: 'SetEvacuationSwitches', actions: ['ssm:GetParameter', 'ssm:PutParameter'], resources: switchParameterArns }),
  );
  // Switchover goes to the primary's region, failover to this one (lambda/failover-steps/promotion.ts).
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'PromoteGlobalDatabase',
      actions: ['rds:DescribeGlobalClusters', 'rds:SwitchoverGlobalCluster', 'rds:FailoverGlobalCluster'],
      resources: promotableClusterArns,
    }),
  );
  if (props.config.faultInjectionDrills) {
    // The test environment's drill switch; production's functions can neither read nor honour it.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadDrillSwitch',
        actions: ['ssm:GetParameter'],
        resources: [
          Arn.format({ service: 'ssm', resource: 'parameter', resourceName: naming.parameterName(ParameterKey.drillForcedPromotion).slice(1) }, stack),
        ],
      }),
    );
  }
  fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadOwnExecutionHistory', actions: ['states:GetExecutionHistory'], resources: [executionArns] }));
  fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'PlaceCanaryOrders', actions: ['execute-api:Invoke'], resources: props.canaryRouteArns }));
  Validations.of(steps.role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      "cloudwatch:GetMetricStatistics and PutMetricData support no resource-level permissions; PutMetricData is limited to the deployment's namespace by condition",
  });
  acknowledgeScopedWildcards(
    steps.role,
    [executionArns],
    'Reads the history of executions of its own state machine only; execution names are not known in advance',
  );
  acknowledgeScopedWildcards(steps.role, props.canaryRouteArns, 'The canary reads back the order it placed; order ids are not known in advance');
  return steps;
}

function buildReconcile(scope: Construct, props: FailoverOrchestratorProps): HandlerFunction {
  const reconcile = new HandlerFunction(scope, 'Reconcile', {
    naming: props.naming,
    purpose: Purpose.reconcile,
    contract: RECONCILE,
    description: 'Makes the order journal and Aurora agree: on a schedule and after every promotion',
    database: props.database,
    timeout: Duration.minutes(10),
    logRetention: props.config.logRetentionDays,
    sourceMaps: props.config.lambdaSourceMaps,
    variables: {
      JOURNAL_TABLE: props.journal.table.tableName,
      CONTROL_TABLE: props.controlTable.table.tableName,
      PRIMARY_REGION: props.primaryRegion,
      PENDING_SHARDS: props.config.journalPendingShards,
      DB_POOL_SIZE: props.config.dbPoolSize,
      DURABLE_AFTER_SECONDS: props.config.journalDurableAfterSeconds,
      REPLICATION_MARGIN_SECONDS: props.config.journalReplicationMarginSeconds,
      ORDER_BOUND_SECONDS: props.config.orderBoundSeconds,
    },
  });
  const fn = reconcile.function;
  props.journal.grantReconcile(fn);
  props.controlTable.grantReadState(fn);
  props.controlTable.grantReconcileCursor(fn);
  return reconcile;
}
