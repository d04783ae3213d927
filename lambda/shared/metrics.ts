import type { Datapoint } from '@aws-sdk/client-cloudwatch';

/** The newest of CloudWatch's datapoints (GetMetricStatistics returns them in no order); undefined when there are none. */
export function latestDatapoint(datapoints: readonly Datapoint[] | undefined): Datapoint | undefined {
  return [...(datapoints ?? [])].sort((a, b) => (b.Timestamp?.getTime() ?? 0) - (a.Timestamp?.getTime() ?? 0))[0];
}
