import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Naming } from './naming';

/** The checks the readiness function runs, in its order (lambda/readiness/checks.ts). */
export const READINESS_CHECK_NAMES = ['own-health', 'peer-health', 'database', 'replication-lag', 'global-tables', 'storage-replication', 'state-machine', 'dns'] as const;

/** What the readiness check of `naming.region` reports, by name alone: one metric per check and a summary (1 ready, 0 not). */
export function readinessMetrics(naming: Naming) {
  const metric = (metricName: string, dimensionsMap: Record<string, string>) =>
    new cloudwatch.Metric({ namespace: naming.metricNamespace(), metricName, dimensionsMap, statistic: 'Minimum', period: Duration.hours(1), region: naming.region });
  return {
    summary: metric('ReadinessSummary', { Region: naming.region }),
    checks: Object.fromEntries(READINESS_CHECK_NAMES.map((check) => [check, metric('ReadinessCheck', { Region: naming.region, Check: check })])) as Record<(typeof READINESS_CHECK_NAMES)[number], cloudwatch.Metric>,
  };
}
