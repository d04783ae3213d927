import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { FailoverOrchestrator } from '../failover/failover-orchestrator';
import { FailoverRouting, ROUTE53_METRICS_REGION } from '../routing/failover-routing';
import { GlobalDatabase } from '../data/global-database';
import { tableReplicationLatency } from '../data/global-table';
import { HandlerFunction } from '../core/handler-function';
import type { AppConfig } from '../core/config';
import { Naming } from '../core/naming';
import { OrderApi } from '../order-path/order-api';
import { OrderProcessing } from '../order-path/order-processing';
import { ReadinessCheck } from './readiness-check';
import { Storage } from '../data/storage';

/**
 * The config keys the alarms read: the thresholds, the periods a condition must hold, and the
 * readiness check's schedule, whose summary alarm tolerates one missed run (lib/core/config.ts
 * documents and defaults each; the README's monitoring table says what each means).
 */
export type AlarmThresholds = Pick<
  AppConfig,
  | 'maxReplicationLagMs'
  | 'maxRpoLagMs'
  | 'maxTableReplicationLatencyMs'
  | 'maxStorageReplicationLatencySeconds'
  | 'maxFunctionErrorRatePercent'
  | 'maxQueueAgeSeconds'
  | 'maxApi5xxRatePercent'
  | 'maxApi4xxRatePercent'
  | 'maxApiP99LatencyMs'
  | 'maxFailoverDurationSeconds'
  | 'alarmEvaluationPeriods'
  | 'readinessIntervalHours'
>;

export interface RegionalAlarmsProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The other region (replication goes there). */
  readonly peerRegion: string;
  /** Where every alarm (and its recovery) is sent. */
  readonly topic: sns.ITopic;
  /** The thresholds. */
  readonly config: AlarmThresholds;
  /** This region's functions, by purpose (each gets error-rate and throttle alarms). */
  readonly functionPurposes: string[];
  /** The global tables replicated to the peer region, by purpose. */
  readonly tablePurposes: string[];
  /** This region's Route 53 checks by alarm purpose, alarmed where their metrics are: us-east-1 only. @default - none */
  readonly healthChecks?: Record<string, route53.IHealthCheck>;
}

/**
 * Every alarm of one region, each sent to the region's alert topic when it fires and when it
 * recovers. Metrics come from the factories next to each capability. Missing data is decided per
 * alarm: where silence means "nothing happened" (no errors, no queued orders) it is fine; where
 * silence means the signal is gone (a health check, the readiness check) it is an alarm.
 */
/** Missing data is fine (no traffic, or the metric exists in one region only). */
const ok = cloudwatch.TreatMissingData.NOT_BREACHING;
/** Missing data means the thing did not run or report: a failure. */
const silenceIsFailure = cloudwatch.TreatMissingData.BREACHING;

export class RegionalAlarms extends Construct {
  /** Every alarm, by its purpose (`api-5xx`, `err-order-processor`, ...): its name is `alarm-<purpose>-<region code>-<suffix>`. */
  public readonly alarms = new Map<string, cloudwatch.Alarm>();

  private readonly naming: Naming;
  private readonly topic: sns.ITopic;
  private readonly evaluationPeriods: number;

  constructor(scope: Construct, id: string, props: RegionalAlarmsProps) {
    super(scope, id);
    this.naming = props.naming;
    this.topic = props.topic;
    this.evaluationPeriods = props.config.alarmEvaluationPeriods;
    // In this order: the alarms' order is the dashboard's.
    this.addDataAlarms(props);
    this.addFunctionAlarms(props);
    this.addOrderPathAlarms(props);
    this.addFailoverAlarms(props);
    this.addRoute53Alarms(props);
  }

  /** Replication: Aurora's lag, each global table's, each bucket's. */
  private addDataAlarms(props: RegionalAlarmsProps): void {
    const { config: thresholds } = props;
    const database = GlobalDatabase.metricsIn(props.naming);
    // Aurora reports lag on the secondary member only: no data in the writer's region is normal.
    this.add(
      'aurora-lag',
      database.replicationLag,
      thresholds.maxReplicationLagMs,
      ok,
      'Aurora global replication lag (ms) above the limit: an unplanned failover now would lose more',
    );
    this.add(
      'aurora-rpo-lag',
      database.rpoLag,
      thresholds.maxRpoLagMs,
      ok,
      'Aurora global RPO lag (ms) above the limit: the writer will pause commits at the managed RPO',
    );

    for (const tablePurpose of props.tablePurposes) {
      const tableName = props.naming.name('table', tablePurpose);
      this.add(
        `repl-${tablePurpose}`,
        tableReplicationLatency(props.naming, tableName, props.peerRegion),
        thresholds.maxTableReplicationLatencyMs,
        ok,
        `DynamoDB replication of ${tableName} to ${props.peerRegion} slower than the limit (ms)`,
      );
    }

    for (const bucket of Storage.replicationMetricsIn(props.naming, props.peerRegion)) {
      this.add(
        `s3-lag-${bucket.purpose}`,
        bucket.latency,
        thresholds.maxStorageReplicationLatencySeconds,
        ok,
        `S3 ${bucket.purpose} replication to ${props.peerRegion} slower than the limit (s)`,
      );
      this.add(`s3-fail-${bucket.purpose}`, bucket.failedOperations, 1, ok, `S3 ${bucket.purpose} objects failed to replicate to ${props.peerRegion}`, 1);
    }
  }

  /** Each function's error rate and throttles. */
  private addFunctionAlarms(props: RegionalAlarmsProps): void {
    const { config: thresholds } = props;
    for (const functionPurpose of props.functionPurposes) {
      const functionName = props.naming.name('function', functionPurpose);
      const metrics = HandlerFunction.metricsOf(functionName, props.naming.region);
      this.add(`err-${functionPurpose}`, metrics.errorRate, thresholds.maxFunctionErrorRatePercent, ok, `${functionName}: error rate (%) above the limit`);
      this.add(`thr-${functionPurpose}`, metrics.throttles, 1, ok, `${functionName}: invocations throttled`);
    }
  }

  /** The order path: queue age, dead letters, the API's error rates and latency. */
  private addOrderPathAlarms(props: RegionalAlarmsProps): void {
    const { config: thresholds } = props;
    const processing = OrderProcessing.metricsIn(props.naming);
    this.add(
      'queue-age',
      processing.oldestOrderAge,
      thresholds.maxQueueAgeSeconds,
      ok,
      'Orders wait in the queue longer than the limit (s): processing is halted or behind',
    );
    // One dead letter is an order that needs a person: no waiting for more periods.
    this.add('dead-letters', processing.deadLetters, 1, ok, 'Orders in the dead-letter queue: inspect and redrive them', 1);

    const api = OrderApi.metricsIn(props.naming);
    const rate = (errors: cloudwatch.IMetric, label: string) =>
      new cloudwatch.MathExpression({
        expression: 'IF(requests > 0, 100 * errors / requests, 0)',
        usingMetrics: { errors, requests: api.requests },
        label,
        period: Duration.minutes(1),
      });
    this.add('api-5xx', rate(api.serverErrors, '5XX rate (%)'), thresholds.maxApi5xxRatePercent, ok, 'API 5XX rate (%) above the limit');
    this.add(
      'api-4xx',
      rate(api.clientErrors, '4XX rate (%)'),
      thresholds.maxApi4xxRatePercent,
      ok,
      'API 4XX rate (%) above the limit: clients send orders the API refuses',
    );
    this.add('api-p99', api.p99Latency, thresholds.maxApiP99LatencyMs, ok, 'API p99 latency (ms) above the limit');
  }

  /** Failover runs (failed, alert lost, slow) and readiness. */
  private addFailoverAlarms(props: RegionalAlarmsProps): void {
    const { config: thresholds } = props;
    const stack = Stack.of(this);
    const failover = FailoverOrchestrator.metricsIn(props.naming, stack);
    this.add(
      'failover-failed',
      new cloudwatch.MathExpression({
        expression: 'failed + timedOut',
        usingMetrics: { failed: failover.failedExecutions, timedOut: failover.timedOutExecutions },
        label: 'failed or timed-out failovers',
        period: Duration.minutes(1),
      }),
      1,
      ok,
      `A failover to ${props.naming.region} failed or timed out: see the execution and the runbook`,
      1,
    );
    // The alert topic itself may be what failed: the alarm shows on the dashboard and in the
    // console even when its own notification cannot be delivered.
    this.add(
      'failover-alert-lost',
      failover.failedNotifications,
      1,
      ok,
      `A failover alert of ${props.naming.region} could not be published: read the execution's output and fix the alert topic`,
      1,
    );
    this.add(
      'failover-slow',
      failover.executionTime,
      thresholds.maxFailoverDurationSeconds * 1000,
      ok,
      `A failover to ${props.naming.region} took longer than the limit`,
      1,
    );

    const readiness = ReadinessCheck.metricsIn(props.naming);
    // Silence means the check did not run: that is a failure of readiness too.
    this.add(
      'readiness',
      readiness.summary.with({ period: Duration.hours(props.config.readinessIntervalHours) }),
      1,
      silenceIsFailure,
      `Failover readiness of ${props.naming.region} failed or did not run: see the readiness log`,
      2,
      cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    );
  }

  /** The Route 53 checks' status, where Route 53 publishes it. */
  private addRoute53Alarms(props: RegionalAlarmsProps): void {
    if (props.healthChecks && props.naming.region === ROUTE53_METRICS_REGION) {
      for (const [purpose, check] of Object.entries(props.healthChecks)) {
        const status = FailoverRouting.metricHealthCheckStatus(check.healthCheckId);
        this.add(
          purpose,
          status,
          1,
          silenceIsFailure,
          `Route 53 check ${purpose} of ${props.naming.region} unhealthy, or silent`,
          undefined,
          cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        );
      }
    }
  }

  private add(
    purpose: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    treatMissingData: cloudwatch.TreatMissingData,
    description: string,
    evaluationPeriods = this.evaluationPeriods,
    comparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  ): void {
    const alarm = new cloudwatch.Alarm(this, purpose, {
      alarmName: this.naming.name('alarm', purpose),
      alarmDescription: description,
      metric,
      threshold,
      evaluationPeriods,
      datapointsToAlarm: evaluationPeriods,
      comparisonOperator,
      treatMissingData,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.set(purpose, alarm);
  }
}
