import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Naming } from './naming';

export interface ServiceMetricProps {
  /** The function's service name (its contract's `service`): Powertools adds it as the `service` dimension. */
  readonly service: string;
  /** The metric's name (its contract's metric names). */
  readonly metricName: string;
  /** How the datapoints of a period combine. */
  readonly statistic: string;
  /** Dimensions the handler adds besides `service`. @default - none */
  readonly dimensions?: Record<string, string>;
  /** The period. @default Duration.minutes(1) */
  readonly period?: Duration;
}

/**
 * A metric a handler publishes through Powertools (EMF) in `naming.region`: the deployment's
 * namespace, and the `service` dimension Powertools adds to every metric. CloudWatch matches a
 * metric by its whole set of dimensions, so an alarm or a widget that names another service, or
 * leaves `service` out, watches a metric nothing publishes.
 */
export function serviceMetric(naming: Naming, props: ServiceMetricProps): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: naming.metricNamespace(),
    metricName: props.metricName,
    dimensionsMap: { service: props.service, ...props.dimensions },
    statistic: props.statistic,
    period: props.period ?? Duration.minutes(1),
    region: naming.region,
  });
}

/**
 * Lets a principal publish metrics into the deployment's namespace and no other. PutMetricData
 * supports no resource-level permissions (Service Authorization Reference, Amazon CloudWatch), so
 * the statement names `*` and the `cloudwatch:namespace` condition scopes it.
 */
export function publishMetricsStatement(naming: Naming, sid: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions: ['cloudwatch:PutMetricData'],
    resources: ['*'],
    conditions: { StringEquals: { 'cloudwatch:namespace': naming.metricNamespace() } },
  });
}
