import { Arn, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { AppConfig } from '../core/config';
import { PROBER, PROBER_METRICS } from '../../lambda/contracts/prober';
import { evacuationSignal } from '../routing/evacuation-switch';
import { failoverStateMachineArn } from './failover-orchestrator';
import type { ControlTable } from '../data/control-table';
import { HandlerFunction } from '../core/handler-function';
import { Naming, ParameterKey, Purpose } from '../core/naming';
import { readPeerParameterStatement } from '../core/peer-parameter';
import { publishMetricsStatement, serviceMetric } from '../core/service-metric';

/** One probe of /health: the health function answers within Route 53's 2 s, so 5 s means no answer. */
const PROBE_TIMEOUT = Duration.seconds(5);

/** EventBridge schedules run at most once a minute; the prober probes repeatedly within it. */
const SCHEDULE = Duration.minutes(1);

/** The config keys the prober reads (lib/core/config.ts documents and defaults each). */
export type ProberConfig = Pick<
  AppConfig,
  | 'probeIntervalSeconds'
  | 'probeFailureThreshold'
  | 'probeMinimumOutageSeconds'
  | 'probeRestartAfterSeconds'
  | 'autoFailback'
  | 'failbackAfterHealthySeconds'
  | 'logRetentionDays'
  | 'lambdaSourceMaps'
>;

export interface FailoverProberProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The region it watches: the primary. */
  readonly peerRegion: string;
  /** The deployment's primary region. */
  readonly primaryRegion: string;
  /** The control table (active region; the prober keeps its count there). */
  readonly controlTable: ControlTable;
  /** This region's failover state machine, started when the peer fails. */
  readonly stateMachine: sfn.IStateMachine;
  /** Where a failback request goes when failback is not automatic. */
  readonly alertTopic: sns.ITopic;
  /** `api.<zone>`: resolved to see whether Route 53's checkers moved traffic here (evidence beyond the probes). */
  readonly apiHostName: string;
  /** This region's API Gateway domain target: what `api.<zone>` resolves to once traffic is here. */
  readonly apiTarget: string;
  /** Probe interval, threshold, minimum outage, restart delay, failback and log retention. */
  readonly config: ProberConfig;
}

/**
 * The automatic trigger, in the secondary region: a function run every minute that probes the
 * primary's /health every `probeInterval`. After `failureThreshold` consecutive failures it starts
 * this region's failover (unplanned). After a failover, once the primary's own dependencies have
 * worked for `failbackAfterHealthy`, it starts the primary's state machine (planned), or alerts
 * when automatic failback is off. Detection here is apart from Route 53's: DNS moves on its own
 * health checks; the prober starts the promotion and the reconciliation.
 */
export class FailoverProber extends Construct {
  /** What the prober in `naming.region` reports, by name alone. */
  public static metricsIn(naming: Naming) {
    return {
      /** 1 for the region the control table names active, at each probe. */
      activeRegion: (region: string) =>
        serviceMetric(naming, { service: PROBER.service, metricName: PROBER_METRICS.activeRegion, dimensions: { Region: region }, statistic: 'Maximum' }),
    };
  }

  /** The prober function. */
  public readonly function: HandlerFunction;

  constructor(scope: Construct, id: string, props: FailoverProberProps) {
    super(scope, id);
    const { naming } = props;
    const stack = Stack.of(this);
    const peerStateMachineArn = failoverStateMachineArn(stack, naming.forRegion(props.peerRegion));
    const { config } = props;
    const interval = Duration.seconds(config.probeIntervalSeconds);
    const signal = evacuationSignal(naming, props.peerRegion, naming.region);
    const switchParameterArns = [naming.region, props.peerRegion].map((each) =>
      Arn.format({ service: 'ssm', region: each, resource: 'parameter', resourceName: naming.parameterName(ParameterKey.evacuationSwitch).slice(1) }, stack),
    );
    this.function = new HandlerFunction(this, 'Prober', {
      naming,
      purpose: Purpose.prober,
      contract: PROBER,
      description: `Probes ${props.peerRegion}'s /health; starts failover on a corroborated outage and failback after recovery; holds both regions to their roles`,
      // Just under the schedule, so one invocation ends before the next begins.
      timeout: SCHEDULE.minus(Duration.seconds(5)),
      logRetention: config.logRetentionDays,
      sourceMaps: config.lambdaSourceMaps,
      variables: {
        PEER_REGION: props.peerRegion,
        PRIMARY_REGION: props.primaryRegion,
        CONTROL_TABLE: props.controlTable.table.tableName,
        OWN_STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
        PEER_STATE_MACHINE_ARN: peerStateMachineArn,
        PEER_API_URL_PARAMETER: naming.parameterName(ParameterKey.apiUrl),
        ALERT_TOPIC_ARN: props.alertTopic.topicArn,
        FAILURE_THRESHOLD: config.probeFailureThreshold,
        MINIMUM_OUTAGE_SECONDS: config.probeMinimumOutageSeconds,
        RESTART_AFTER_SECONDS: config.probeRestartAfterSeconds,
        API_HOST_NAME: props.apiHostName,
        OWN_API_TARGET: props.apiTarget,
        SWITCH_PARAMETER: naming.parameterName(ParameterKey.evacuationSwitch),
        METRIC_NAMESPACE: signal.namespace,
        EVACUATION_METRIC_NAME: signal.metricName,
        AUTO_FAILBACK: config.autoFailback,
        FAILBACK_AFTER_HEALTHY_SECONDS: config.failbackAfterHealthySeconds,
        PROBE_INTERVAL_SECONDS: interval.toSeconds(),
        HTTP_TIMEOUT_MS: PROBE_TIMEOUT.toMilliseconds(),
      },
    });
    const fn = this.function.function;
    props.controlTable.grantTrackOutages(fn);
    fn.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'HoldEvacuationSwitches', actions: ['ssm:GetParameter', 'ssm:PutParameter'], resources: switchParameterArns }),
    );
    fn.addToRolePolicy(publishMetricsStatement(naming, 'PublishEvacuationSwitches'));
    Validations.of(this.function.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: "cloudwatch:PutMetricData supports no resource-level permissions; limited to the deployment's namespace by condition",
    });
    props.stateMachine.grantStartExecution(fn);
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'StartFailback', actions: ['states:StartExecution'], resources: [peerStateMachineArn] }));
    fn.addToRolePolicy(readPeerParameterStatement(stack, naming, props.peerRegion, ParameterKey.apiUrl));
    props.alertTopic.grantPublish(fn);
    Validations.of(this.function.role).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: 'Publishing to the encrypted alert topic needs data keys of its own key, and only that key',
    });

    new events.Rule(this, 'Schedule', {
      ruleName: naming.name('rule', Purpose.prober),
      description: `Runs the prober of ${props.peerRegion} every minute`,
      schedule: events.Schedule.rate(SCHEDULE),
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 0 })],
    });
  }
}
