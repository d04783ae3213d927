import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { AwsCallSupport } from './aws-call-support';
import { Naming, Purpose } from './naming';

/**
 * Route 53 reads only standard-resolution alarms, and their shortest period is one minute
 * (AlarmIdentifier, Route 53 API reference).
 */
const ALARM_PERIOD_SECONDS = 60;

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
    metricName: 'EvacuateRegion',
    dimensions: { Region: region },
    alarmName: naming.forRegion(region).name('alarm', Purpose.evacuate),
    hostRegion,
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
 * failover record's calculated check requires it to be healthy, so publishing one datapoint of 1
 * in the surviving region moves traffic away from this one, even while this region still
 * answers its own health check (a gray failure) and without any Route 53 control-plane call.
 *
 * The alarm is created in the peer region by a deploy-time call from this stage, so the health
 * check never refers to an alarm that does not exist yet (the primary deploys before the
 * secondary). Missing data keeps the alarm's state: the switch stays where it was last put, and
 * a new switch (no data yet) counts as healthy.
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
        Statistic: 'Maximum',
        Period: ALARM_PERIOD_SECONDS,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        // The switch stays where it was last put: no datapoints must not release it.
        TreatMissingData: 'ignore',
      },
      physicalResourceId: cr.PhysicalResourceId.of(signal.alarmName),
    };
    const alarm = new cr.AwsCustomResource(this, 'Alarm', {
      ...AwsCallSupport.of(this, { naming: props.naming }).customResourceProps(),
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
      // Until the switch is first used the alarm has no data: the region is not evacuated.
      insufficientDataHealthStatus: route53.InsufficientDataHealthStatusEnum.HEALTHY,
    });
    healthCheck.node.addDependency(alarm);
    this.healthCheck = healthCheck;
  }
}
