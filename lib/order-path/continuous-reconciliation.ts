import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { RECONCILE, RECONCILE_METRICS } from '../../lambda/contracts/reconcile';
import { Naming, Purpose } from '../core/naming';
import { serviceMetric } from '../core/service-metric';
import { OrderApi } from './order-api';

export interface ContinuousReconciliationProps {
  readonly naming: Naming;
  /** The reconcile function (built by the failover orchestrator, which also runs it after a promotion). */
  readonly reconcileFunction: lambda.IFunction;
  /** Where the alarms go. */
  readonly alertTopic: sns.ITopic;
  /** Time between scheduled runs (config's `reconcileIntervalMinutes`). */
  readonly interval: Duration;
}

/**
 * Journal reconciliation on a schedule, in both regions (the standby's run returns at once): the
 * active region commits every acknowledged order the processor has not, whether its message was
 * never sent, waits in the other region's queue, or was in the writer's last seconds before a
 * failover allowing data loss. Alarms: an acknowledged order past the bound and still not in the
 * writer; an order whose key another stored order holds; orders journaled but not queued (intake).
 */
export class ContinuousReconciliation extends Construct {
  /** What reconciliation in `naming.region` reports (its EMF metrics), by name alone; the most in a minute. */
  public static metricsIn(naming: Naming) {
    const metric = (metricName: string) => serviceMetric(naming, { service: RECONCILE.service, metricName, statistic: 'Maximum' });
    return {
      /** Acknowledged orders past the end-to-end bound and still not in the writer. */
      overdue: metric(RECONCILE_METRICS.overdue),
      /** Journal orders whose client order id another stored order holds. */
      conflicts: metric(RECONCILE_METRICS.conflicts),
    };
  }

  public readonly schedule: events.Rule;
  public readonly overdueAlarm: cloudwatch.Alarm;
  public readonly conflictAlarm: cloudwatch.Alarm;
  public readonly notQueuedAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ContinuousReconciliationProps) {
    super(scope, id);
    const { naming } = props;
    const { interval } = props;
    this.schedule = new events.Rule(this, 'Schedule', {
      ruleName: naming.name('rule', Purpose.reconcile),
      description: 'Reconciles the order journal with Aurora in the active region',
      schedule: events.Schedule.rate(interval),
      // A failed invocation is retried (twice, within the interval), so a run missed while the region was impaired comes soon after.
      targets: [
        new targets.LambdaFunction(props.reconcileFunction, {
          event: events.RuleTargetInput.fromObject({ trigger: 'schedule' }),
          retryAttempts: 2,
          maxEventAge: interval,
        }),
      ],
    });
    const reconciliation = ContinuousReconciliation.metricsIn(naming);
    const alarm = (id: string, purpose: string, metric: cloudwatch.Metric, description: string) => {
      const created = new cloudwatch.Alarm(this, id, {
        alarmName: naming.name('alarm', purpose),
        alarmDescription: description,
        metric,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(new actions.SnsAction(props.alertTopic));
      return created;
    };
    this.overdueAlarm = alarm(
      'Overdue',
      'orders-overdue',
      reconciliation.overdue.with({ period: interval }),
      'Acknowledged orders past the end-to-end bound are not in Aurora: is the writer available? Runbook: docs/runbooks/order-alarms.md',
    );
    this.conflictAlarm = alarm(
      'Conflicts',
      'order-conflicts',
      reconciliation.conflicts.with({ period: interval }),
      "Journal orders whose account's client order id another stored order holds (order_conflicts table). Runbook: docs/runbooks/order-alarms.md",
    );
    this.notQueuedAlarm = alarm(
      'NotQueued',
      'orders-not-queued',
      OrderApi.metricsIn(naming).notQueued,
      'Orders journaled but not queued: reconciliation applies them within the bound; is the queue reachable? Runbook: docs/runbooks/order-alarms.md',
    );
  }
}
