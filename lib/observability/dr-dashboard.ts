import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { FailoverOrchestrator } from '../failover/failover-orchestrator';
import { FailoverRouting } from '../routing/failover-routing';
import { GlobalDatabase } from '../data/global-database';
import { tableReplicationLatency } from '../data/global-table';
import { Naming, Purpose } from '../core/naming';
import { OrderApi } from '../order-path/order-api';
import { OrderProcessing } from '../order-path/order-processing';
import { FailoverProber } from '../failover/failover-prober';
import { ReadinessCheck } from './readiness-check';
import { Storage } from '../data/storage';

const WIDTH = 24;

export interface DrDashboardProps {
  /** Names for this region's resources (the dashboard's own region). */
  readonly naming: Naming;
  /** Both regions of the deployment, primary first. */
  readonly regions: readonly [string, string];
  /** Route 53 health checks to show, by label (ids of both regions'). */
  readonly healthChecks: Record<string, string>;
  /** The global tables, by purpose. */
  readonly tablePurposes: string[];
  /** This region's alarms, shown by state. */
  readonly alarms: cloudwatch.IAlarm[];
}

/**
 * One dashboard for both regions, each widget's metrics set to their region: the failover view
 * at the top (active region, health checks, last failover durations, readiness), then
 * replication (Aurora, DynamoDB, S3), then orders per region (throughput, errors, queue), then
 * this region's alarms. Metrics come from the same factories the alarms use. It lives in the
 * secondary region, which is the one an operator looks at when the primary is failing.
 */
export class DrDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: DrDashboardProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const namings = props.regions.map((region) => props.naming.forRegion(region));
    const perRegion = <T>(build: (naming: Naming) => T): Array<[string, T]> => namings.map((naming) => [naming.region, build(naming)]);
    const labelled = (metric: cloudwatch.Metric, label: string): cloudwatch.Metric => metric.with({ label });

    const prober = FailoverProber.metricsIn(namings[1]);
    const failoverView: cloudwatch.IWidget[] = [
      new cloudwatch.SingleValueWidget({
        title: 'Active region (1 = active, from the prober)',
        metrics: props.regions.map((region) => labelled(prober.activeRegion(region), region)),
        width: 6,
        height: 4,
      }),
      new cloudwatch.GraphWidget({
        title: 'Route 53 health checks (1 = healthy)',
        left: Object.entries(props.healthChecks).map(([label, healthCheckId]) => FailoverRouting.metricHealthCheckStatus(healthCheckId).with({ label })),
        leftYAxis: { min: 0, max: 1 },
        width: 6,
        height: 4,
      }),
      new cloudwatch.SingleValueWidget({
        title: 'Last failover duration (s), by target region',
        metrics: perRegion((naming) => FailoverOrchestrator.metricsIn(naming, stack).failoverDuration.with({ period: Duration.days(7) })).map(
          ([region, metric]) => labelled(metric, region),
        ),
        width: 6,
        height: 4,
      }),
      new cloudwatch.GraphWidget({
        title: 'Failover readiness (1 = ready)',
        left: perRegion((naming) => ReadinessCheck.metricsIn(naming).summary).map(([region, metric]) => labelled(metric, region)),
        leftYAxis: { min: 0, max: 1 },
        width: 6,
        height: 4,
      }),
    ];

    const replication: cloudwatch.IWidget[] = [
      new cloudwatch.GraphWidget({
        title: 'Aurora global replication lag (ms)',
        left: perRegion((naming) => GlobalDatabase.metricsIn(naming)).flatMap(([region, metrics]) => [
          labelled(metrics.replicationLag, `${region} lag`),
          labelled(metrics.rpoLag, `${region} RPO lag`),
        ]),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'DynamoDB replication latency (ms)',
        left: namings.flatMap((naming, index) =>
          props.tablePurposes.map((purpose) =>
            labelled(
              tableReplicationLatency(naming, naming.name('table', purpose), props.regions[1 - index]),
              `${purpose} ${naming.region} → ${props.regions[1 - index]}`,
            ),
          ),
        ),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'S3 replication latency (s)',
        left: namings.flatMap((naming, index) =>
          Storage.replicationMetricsIn(naming, props.regions[1 - index]).map((bucket) =>
            labelled(bucket.latency, `${bucket.purpose} ${naming.region} → ${props.regions[1 - index]}`),
          ),
        ),
        width: 8,
      }),
    ];

    const orders: cloudwatch.IWidget[] = [
      new cloudwatch.GraphWidget({
        title: 'Orders committed and failed, per region (per minute)',
        left: perRegion((naming) => OrderProcessing.metricsIn(naming)).flatMap(([region, metrics]) => [
          labelled(metrics.committed, `${region} committed`),
          labelled(metrics.commitFailures, `${region} failed`),
        ]),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'API requests and errors, per region (per minute)',
        left: perRegion((naming) => OrderApi.metricsIn(naming)).flatMap(([region, metrics]) => [
          labelled(metrics.requests, `${region} requests`),
          labelled(metrics.serverErrors, `${region} 5XX`),
          labelled(metrics.clientErrors, `${region} 4XX`),
        ]),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Oldest queued order (s) and dead letters, per region',
        left: perRegion((naming) => OrderProcessing.metricsIn(naming)).map(([region, metrics]) => labelled(metrics.oldestOrderAge, `${region} oldest (s)`)),
        right: perRegion((naming) => OrderProcessing.metricsIn(naming)).map(([region, metrics]) => labelled(metrics.deadLetters, `${region} dead letters`)),
        width: 8,
      }),
    ];

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.naming.name('dashboard', Purpose.dashboard),
      defaultInterval: Duration.hours(3),
      widgets: [
        [new cloudwatch.TextWidget({ markdown: `# ${props.naming.parameterPrefix()}: failover view (both regions)`, width: WIDTH, height: 1 })],
        failoverView,
        replication,
        orders,
        [new cloudwatch.AlarmStatusWidget({ title: `Alarms of ${props.naming.region}`, alarms: props.alarms, width: WIDTH })],
      ],
    });
  }
}
