/**
 * A small model of a Route 53 health check of type CLOUDWATCH_METRIC, to test what Route 53
 * would make of a metric's data stream. Nothing here calls AWS; every rule cites the documentation
 * it follows:
 * - [DG] Route 53 Developer Guide, "How Amazon Route 53 determines whether a health check is
 *   healthy", https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html
 * - [API] Route 53 API reference, HealthCheckConfig (InsufficientDataHealthStatus) and
 *   AlarmIdentifier.
 *
 * The model covers the alarms the evacuation switch uses (one evaluation period, a plain
 * statistic) and refuses anything else rather than guess.
 */

/** One value put to the metric. */
export interface Datapoint {
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly value: number;
}

/** The alarm's settings, spelled as in PutMetricAlarm. */
export interface AlarmSettings {
  readonly Statistic: string;
  readonly Period: number;
  readonly EvaluationPeriods: number;
  readonly Threshold: number;
  readonly ComparisonOperator: string;
}

export type InsufficientDataHealthStatus = 'Healthy' | 'Unhealthy' | 'LastKnownStatus';
export type HealthStatus = 'healthy' | 'unhealthy';

/**
 * [API] AlarmIdentifier: "Route 53 supports CloudWatch alarms with the following features:
 * Standard-resolution metrics. High-resolution metrics aren't supported... Statistics: Average,
 * Minimum, Maximum, Sum, and SampleCount. Extended statistics aren't supported."
 */
const SUPPORTED_STATISTICS = ['Average', 'Minimum', 'Maximum', 'Sum', 'SampleCount'];
/** Standard resolution: the shortest period is one minute. */
const MINIMUM_PERIOD_SECONDS = 60;

const COMPARE: Record<string, (value: number, threshold: number) => boolean> = {
  GreaterThanOrEqualToThreshold: (value, threshold) => value >= threshold,
  GreaterThanThreshold: (value, threshold) => value > threshold,
  LessThanThreshold: (value, threshold) => value < threshold,
  LessThanOrEqualToThreshold: (value, threshold) => value <= threshold,
};

function aggregate(statistic: string, values: number[]): number {
  switch (statistic) {
    case 'Maximum':
      return Math.max(...values);
    case 'Minimum':
      return Math.min(...values);
    case 'Sum':
      return values.reduce((sum, value) => sum + value, 0);
    case 'Average':
      return values.reduce((sum, value) => sum + value, 0) / values.length;
    default:
      return values.length;
  }
}

function checkSupported(alarm: AlarmSettings): void {
  if (!SUPPORTED_STATISTICS.includes(alarm.Statistic)) {
    throw new Error(`route53 alarm check model: statistic ${alarm.Statistic} is not one Route 53 supports (${SUPPORTED_STATISTICS.join(', ')})`);
  }
  if (alarm.Period < MINIMUM_PERIOD_SECONDS || alarm.Period % MINIMUM_PERIOD_SECONDS !== 0) {
    throw new Error(`route53 alarm check model: period ${alarm.Period} s is not standard resolution (whole minutes)`);
  }
  if (alarm.EvaluationPeriods !== 1) {
    throw new Error(`route53 alarm check model: only one evaluation period is modelled, not ${alarm.EvaluationPeriods}`);
  }
  if (!(alarm.ComparisonOperator in COMPARE)) {
    throw new Error(`route53 alarm check model: comparison ${alarm.ComparisonOperator} is not modelled`);
  }
}

/**
 * The health check's status at `at`, evaluating every period of the stream that ended by then,
 * oldest first, from `since` (a period boundary; the health check's creation).
 */
export function healthStatusAt(
  datapoints: readonly Datapoint[],
  alarm: AlarmSettings,
  insufficientData: InsufficientDataHealthStatus,
  since: number,
  at: number,
): HealthStatus {
  checkSupported(alarm);
  const periodMs = alarm.Period * 1000;
  if (since % periodMs !== 0) throw new Error('route53 alarm check model: `since` must be a period boundary');
  // [API] InsufficientDataHealthStatus, LastKnownStatus: "For new health checks that have no last
  // known status, the default status for the health check is healthy."
  let lastKnown: HealthStatus = 'healthy';
  let status: HealthStatus = insufficientData === 'Unhealthy' ? 'unhealthy' : 'healthy';
  for (let start = since; start + periodMs <= at; start += periodMs) {
    // [DG] "Route 53 monitors the data stream for the corresponding alarm instead of monitoring the
    // alarm state": each period is judged from the datapoints in it (CloudWatch groups datapoints
    // into periods aligned to the period's length), never from what the alarm last said.
    const values = datapoints.filter((point) => point.timestamp >= start && point.timestamp < start + periodMs).map((point) => point.value);
    if (values.length === 0) {
      // [DG] "If the data stream doesn't provide enough information to determine the state of the
      // alarm, the health check status depends on the setting for Health check status: healthy,
      // unhealthy, or last known status."
      // [API] LastKnownStatus: "Route 53 uses the status of the health check from the last time
      // that CloudWatch had sufficient data to determine the alarm state."
      status = insufficientData === 'Healthy' ? 'healthy' : insufficientData === 'Unhealthy' ? 'unhealthy' : lastKnown;
      continue;
    }
    // [DG], in short: unhealthy when the data puts the alarm in ALARM, healthy when in OK.
    const breaching = COMPARE[alarm.ComparisonOperator](aggregate(alarm.Statistic, values), alarm.Threshold);
    status = breaching ? 'unhealthy' : 'healthy';
    lastKnown = status;
  }
  return status;
}

/** The status at the end of each of `minutes` minutes after `since`: index 0 is since + 1 min. */
export function healthTimeline(
  datapoints: readonly Datapoint[],
  alarm: AlarmSettings,
  insufficientData: InsufficientDataHealthStatus,
  since: number,
  minutes: number,
): HealthStatus[] {
  return Array.from({ length: minutes }, (_, minute) => healthStatusAt(datapoints, alarm, insufficientData, since, since + (minute + 1) * 60_000));
}
