import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { SwitchRef } from '../../lambda/contracts/switches';
import { AwsCallSupport } from '../core/aws-call-support';
import { Naming, ParameterKey, Purpose } from '../core/naming';

/**
 * Route 53 reads only standard-resolution alarms, and their shortest period is one minute
 * (AlarmIdentifier, Route 53 API reference).
 */
const ALARM_PERIOD_SECONDS = 60;

/** The metric every switch is published on (one series per evacuated region, by dimension). */
const EVACUATE_METRIC_NAME = 'EvacuateRegion';

/**
 * How the switch's alarm reads its metric: thrown when the highest value of a one-minute period
 * is 1. Exported so tests can hold Route 53's reading of the data stream to the same settings.
 */
export const EVACUATION_ALARM = {
  Statistic: 'Maximum',
  Period: ALARM_PERIOD_SECONDS,
  EvaluationPeriods: 1,
  Threshold: 1,
  ComparisonOperator: 'GreaterThanOrEqualToThreshold',
} as const;

/** The metric that throws (1) and releases (0) the switch, and the alarm that watches it. */
export interface EvacuationSignal {
  /** CloudWatch namespace of the metric: the deployment's own. */
  readonly namespace: string;
  readonly metricName: string;
  /** One dimension: `Region` = the region to evacuate. */
  readonly dimensions: { readonly Region: string };
  /** The alarm's name; it lives in `hostRegion`. */
  readonly alarmName: string;
  /** Where the alarm and its metric live: the *other* region, never the one being evacuated. */
  readonly hostRegion: string;
}

/**
 * The switch that evacuates `region`. Both stages and the orchestrator compute it from names
 * alone, so the region that throws it needs nothing from the region it evacuates.
 */
export function evacuationSignal(naming: Naming, region: string, hostRegion: string): EvacuationSignal {
  return {
    namespace: naming.metricNamespace(),
    metricName: EVACUATE_METRIC_NAME,
    dimensions: { Region: region },
    alarmName: naming.forRegion(region).name('alarm', Purpose.evacuate),
    hostRegion,
  };
}

/**
 * Where the switch that evacuates `evacuatedRegion` keeps its position and publishes it, from
 * names alone: the parameter path is the same in both regions, and each region's parameter holds
 * the one switch it hosts (the other region's).
 */
export function switchRefFor(naming: Naming, evacuatedRegion: string, hostRegion: string): SwitchRef {
  if (evacuatedRegion === hostRegion) {
    throw new Error(`switchRefFor: the switch of ${evacuatedRegion} must live in the other region, not in ${hostRegion} itself`);
  }
  return {
    evacuatedRegion,
    hostRegion,
    parameterName: naming.parameterName(ParameterKey.evacuationSwitch),
    namespace: naming.metricNamespace(),
    metricName: EVACUATE_METRIC_NAME,
  };
}

export interface EvacuationSwitchProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The other region of the deployment: the switch for this region lives there. */
  readonly peerRegion: string;
}

/**
 * A data-plane switch that takes this region out of DNS: a CloudWatch alarm *in the other
 * region* on an "evacuate <this region>" metric, and a Route 53 health check on that alarm. The
 * failover record's calculated check requires it to be healthy, so throwing the switch in the
 * surviving region moves traffic away from this one, even while this region still answers its
 * own health check (a gray failure) and without any Route 53 control-plane call.
 *
 * The position is the SSM parameter in the other region (`thrown` or `released`), and that
 * region's `SwitchKeeper` republishes it several times a minute, so every one-minute period of
 * the alarm has data: Route 53 reads the alarm's data stream, not its state, and a single
 * datapoint would hold the switch for one period only. When the stream stops (the keeper or the
 * other region down), the health check keeps its last known status.
 *
 * The alarm is created in the peer region by a deploy-time call from this stage, so the health
 * check never refers to an alarm that does not exist yet (the primary deploys before the
 * secondary).
 */
export class EvacuationSwitch extends Construct {
  /** The Route 53 health check that is unhealthy while the switch is thrown. */
  public readonly healthCheck: route53.IHealthCheck;
  /** The metric and alarm behind the switch. */
  public readonly signal: EvacuationSignal;

  constructor(scope: Construct, id: string, props: EvacuationSwitchProps) {
    super(scope, id);
    const signal = evacuationSignal(props.naming, props.naming.region, props.peerRegion);
    this.signal = signal;
    const alarmArn = Arn.format(
      { service: 'cloudwatch', region: signal.hostRegion, resource: 'alarm', resourceName: signal.alarmName, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
      Stack.of(this),
    );
    const putAlarm: cr.AwsSdkCall = {
      service: 'CloudWatch',
      action: 'putMetricAlarm',
      region: signal.hostRegion,
      parameters: {
        AlarmName: signal.alarmName,
        AlarmDescription: `Evacuation switch for ${props.naming.region} (${props.naming.parameterPrefix()}): in ALARM, Route 53 sends no traffic there`,
        Namespace: signal.namespace,
        MetricName: signal.metricName,
        Dimensions: [{ Name: 'Region', Value: signal.dimensions.Region }],
        ...EVACUATION_ALARM,
        // The alarm's own state (what the console shows) stays where it was when data stops.
        // Route 53 does not read that state: see the health check below.
        TreatMissingData: 'ignore',
      },
      physicalResourceId: cr.PhysicalResourceId.of(signal.alarmName),
    };
    const alarm = new cr.AwsCustomResource(this, 'Alarm', {
      ...AwsCallSupport.of(this).customResourceProps(),
      onCreate: putAlarm,
      onUpdate: putAlarm,
      onDelete: { service: 'CloudWatch', action: 'deleteAlarms', region: signal.hostRegion, parameters: { AlarmNames: [signal.alarmName] } },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({ actions: ['cloudwatch:PutMetricAlarm', 'cloudwatch:DeleteAlarms'], resources: [alarmArn] }),
      ]),
    });

    const healthCheck = new route53.HealthCheck(this, 'HealthCheck', {
      type: route53.HealthCheckType.CLOUDWATCH_METRIC,
      alarmIdentifier: { name: signal.alarmName, region: signal.hostRegion },
      // "Route 53 monitors the data stream for the corresponding alarm instead of monitoring the
      // alarm state... If the data stream doesn't provide enough information to determine the
      // state of the alarm, the health check status depends on the setting for Health check
      // status" (Route 53 Developer Guide, "How Amazon Route 53 determines whether a health check
      // is healthy"). With HEALTHY, a minute without data released a thrown switch. With
      // LastKnownStatus, "Route 53 uses the status of the health check from the last time that
      // CloudWatch had sufficient data to determine the alarm state. For new health checks that
      // have no last known status, the default status for the health check is healthy" (API
      // reference, HealthCheckConfig): a stream that stops (keeper or host region down) holds
      // the switch where it was, and a new switch counts as released.
      insufficientDataHealthStatus: route53.InsufficientDataHealthStatusEnum.LAST_KNOWN_STATUS,
    });
    healthCheck.node.addDependency(alarm);
    this.healthCheck = healthCheck;
  }
}
