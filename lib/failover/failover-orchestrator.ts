import { Arn, ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { FAILOVER_METRICS, FAILOVER_STEPS } from '../../lambda/contracts/failover-steps';
import { acknowledgeScopedWildcards } from '../core/compliance';
import type { HandlerFunction } from '../core/handler-function';
import { Naming, Purpose } from '../core/naming';
import { buildOrchestratorFunctions } from './orchestrator-functions';
import { failoverDefinition } from './orchestrator-phases';
import { FAILED_NOTIFICATION_METRIC, FailoverOrchestratorProps, orchestratorSettings } from './orchestrator-props';
import { FailoverStates } from './orchestrator-states';
import { serviceMetric } from '../core/service-metric';

export { FAILED_NOTIFICATION_METRIC, type FailoverOrchestratorProps } from './orchestrator-props';

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
  /** What the failover state machine of `naming.region` reports, by name alone. */
  public static metricsIn(naming: Naming, stack: Stack) {
    const stateMachineArn = failoverStateMachineArn(stack, naming);
    const states = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/States',
        metricName,
        dimensionsMap: { StateMachineArn: stateMachineArn },
        statistic,
        period: Duration.minutes(1),
        region: naming.region,
      });
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
      failoverDuration: serviceMetric(naming, {
        service: FAILOVER_STEPS.service,
        metricName: FAILOVER_METRICS.duration,
        dimensions: { Outcome: 'succeeded' },
        statistic: 'Maximum',
        period: Duration.hours(1),
      }),
    };
  }

  /** The state machine. */
  public readonly stateMachine: sfn.StateMachine;
  /** The function behind preflight, validation and recording. */
  public readonly stepsFunction: HandlerFunction;
  /** The function that replays the journal into Aurora. */
  public readonly reconcileFunction: HandlerFunction;

  constructor(scope: Construct, id: string, props: FailoverOrchestratorProps) {
    super(scope, id);
    const { naming } = props;
    const settings = orchestratorSettings(this, props);
    const functions = buildOrchestratorFunctions(this, props, settings);
    this.stepsFunction = functions.steps;
    this.reconcileFunction = functions.reconcile;
    const definition = failoverDefinition(new FailoverStates(this, props, settings, functions));

    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${naming.name('stateMachine', Purpose.failover)}`,
      retention: props.config.logRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    props.alertTopic.grantPublish(props.role);
    Validations.of(props.role).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: 'Publishing to the encrypted alert topic needs data keys of its own key, and only that key',
    });
    acknowledgeScopedWildcards(
      props.role,
      [this.stepsFunction.function.functionArn, this.reconcileFunction.function.functionArn].map((arn) => `${arn}:*`),
      'Invokes versions of its own two step functions only (the Lambda task grants the function and its qualifiers)',
    );
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: naming.name('stateMachine', Purpose.failover),
      comment: `Moves the active role of ${naming.parameterPrefix()} to ${settings.region}. Input: {"mode": "planned" | "unplanned", "reason": "..."}`,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      role: props.role,
      timeout: settings.promotionTimeout.plus(settings.validationTimeout).plus(Duration.minutes(30)),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
  }
}

/** The failover state machine's ARN in `naming.region`, from its deterministic name. */
export function failoverStateMachineArn(stack: Stack, naming: Naming): string {
  return Arn.format(
    {
      service: 'states',
      region: naming.region,
      resource: 'stateMachine',
      resourceName: naming.name('stateMachine', Purpose.failover),
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    },
    stack,
  );
}
