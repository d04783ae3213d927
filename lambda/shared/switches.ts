import { PutMetricDataCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { SwitchPosition, type SwitchRef } from '../contracts/switches';
import { withRetry } from './retry';

/**
 * An evacuation switch as the handlers see it. The switch that takes region R out of DNS lives
 * in the *other* region H (its host): an SSM parameter in H holds the position (the source of
 * truth, regional, so H needs nothing from R), and a metric in H carries it to the CloudWatch
 * alarm that Route 53's alarm health check reads.
 *
 * Route 53 evaluates an alarm health check from the alarm's *data stream*, not its state, and
 * when the stream has too little data it uses InsufficientDataHealthStatus (Route 53 Developer
 * Guide, "Monitoring other health checks and CloudWatch alarms"; API reference, HealthCheckConfig).
 * So a position is only as good as the datapoints behind it: the switch keeper in H republishes
 * the parameter's position several times a minute, every minute, and the health check keeps its
 * LastKnownStatus when data stops. A throw or release also publishes at once.
 */

/** What a handler knows of the switches: its region, the other one, and their shared names. */
export interface SwitchSettings {
  readonly region: string;
  readonly peerRegion: string;
  readonly switchParameterName: string;
  readonly metricNamespace: string;
  readonly switchMetricName: string;
}

/** The switch that evacuates `evacuatedRegion` (one of the two), which lives in the other region. */
export function switchRefOf(settings: SwitchSettings, evacuatedRegion: string): SwitchRef {
  return {
    evacuatedRegion,
    hostRegion: evacuatedRegion === settings.region ? settings.peerRegion : settings.region,
    parameterName: settings.switchParameterName,
    namespace: settings.metricNamespace,
    metricName: settings.switchMetricName,
  };
}

/** The metric value of a position: the alarm fires at 1. */
export function switchValue(position: SwitchPosition): 0 | 1 {
  return position === SwitchPosition.thrown ? 1 : 0;
}

/** The position a parameter value stands for; anything but `thrown` is released, and said so. */
export function parsePosition(value: string | undefined): SwitchPosition {
  return value?.trim().toLowerCase() === SwitchPosition.thrown ? SwitchPosition.thrown : SwitchPosition.released;
}

/** Clients in the switch's host region. */
export interface SwitchClients {
  readonly ssm: SSMClient;
  readonly cloudwatch: CloudWatchClient;
}

/** The switch's position from its parameter; a parameter that does not exist yet means released. */
export async function readSwitch(ssm: SSMClient, ref: SwitchRef): Promise<SwitchPosition> {
  try {
    const response = await withRetry(
      `read the evacuation switch ${ref.parameterName} in ${ref.hostRegion}`,
      () => ssm.send(new GetParameterCommand({ Name: ref.parameterName })),
      {
        attempts: 2,
        isRetryable: (error) => !(error instanceof ParameterNotFound),
      },
    );
    return parsePosition(response.Parameter?.Value);
  } catch (error) {
    if (error instanceof ParameterNotFound) return SwitchPosition.released;
    throw error;
  }
}

/** Publishes a position's datapoint (what the alarm, and through it Route 53, sees). */
export async function publishSwitch(cloudwatch: CloudWatchClient, ref: SwitchRef, position: SwitchPosition, at?: Date): Promise<void> {
  await withRetry(
    `publish the evacuation switch of ${ref.evacuatedRegion} in ${ref.hostRegion}`,
    () =>
      cloudwatch.send(
        new PutMetricDataCommand({
          Namespace: ref.namespace,
          MetricData: [
            {
              MetricName: ref.metricName,
              Dimensions: [{ Name: 'Region', Value: ref.evacuatedRegion }],
              Value: switchValue(position),
              Unit: 'Count',
              Timestamp: at,
            },
          ],
        }),
      ),
    { attempts: 2 },
  );
}

/** Puts the switch in `position`: the parameter first (the keeper republishes it), then a datapoint at once. */
export async function setSwitch(clients: SwitchClients, ref: SwitchRef, position: SwitchPosition): Promise<void> {
  await withRetry(
    `set the evacuation switch ${ref.parameterName} in ${ref.hostRegion} to ${position}`,
    () => clients.ssm.send(new PutParameterCommand({ Name: ref.parameterName, Value: position, Type: 'String', Overwrite: true })),
    { attempts: 2 },
  );
  await publishSwitch(clients.cloudwatch, ref, position);
}
