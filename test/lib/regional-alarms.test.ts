import { Template } from 'aws-cdk-lib/assertions';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as sns from 'aws-cdk-lib/aws-sns';
import { RegionRole } from '../../lib/core/region-settings';
import { RegionalAlarms } from '../../lib/observability/regional-alarms';
import { DEFAULT_CONFIG, regionalStack } from '../helpers/stacks';

const THRESHOLDS = {
  ...DEFAULT_CONFIG,
  maxReplicationLagMs: 4000,
  maxRpoLagMs: 9000,
  maxTableReplicationLatencyMs: 1500,
  maxStorageReplicationLatencySeconds: 600,
  maxFunctionErrorRatePercent: 2,
  maxQueueAgeSeconds: 45,
  maxApi5xxRatePercent: 3,
  maxApi4xxRatePercent: 15,
  maxApiP99LatencyMs: 800,
  maxFailoverDurationSeconds: 700,
  alarmEvaluationPeriods: 4,
  readinessIntervalHours: 1,
};

function alarmsOf(role: RegionRole): { template: Template; alarms: RegionalAlarms } {
  const { stack, naming, peerRegion } = regionalStack(role);
  const topic = new sns.Topic(stack, 'Topic');
  const check = (id: string) => route53.HealthCheck.fromHealthCheckId(stack, id, `hc-${id}`);
  const alarms = new RegionalAlarms(stack, 'Alarms', {
    naming,
    peerRegion,
    topic,
    config: THRESHOLDS,
    functionPurposes: ['order-processor', 'health'],
    tablePurposes: ['order-journal', 'sessions'],
    healthChecks: { 'route53-endpoint': check('endpoint'), 'route53-routing': check('routing') },
  });
  return { template: Template.fromStack(stack), alarms };
}

const primary = alarmsOf(RegionRole.PRIMARY);
const secondary = alarmsOf(RegionRole.SECONDARY);

function alarm(template: Template, name: string): Record<string, any> {
  const found = Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: name } }));
  expect(found).toHaveLength(1);
  return found[0].Properties;
}

describe('regional alarms', () => {
  it.each([
    ['alarm-aurora-lag-use1-dev', 'AuroraGlobalDBReplicationLag', 4000, 'notBreaching'],
    ['alarm-aurora-rpo-lag-use1-dev', 'AuroraGlobalDBRPOLag', 9000, 'notBreaching'],
    ['alarm-repl-order-journal-use1-dev', 'ReplicationLatency', 1500, 'notBreaching'],
    ['alarm-s3-lag-config-use1-dev', 'ReplicationLatency', 600, 'notBreaching'],
    ['alarm-queue-age-use1-dev', 'ApproximateAgeOfOldestMessage', 45, 'notBreaching'],
    ['alarm-api-p99-use1-dev', 'Latency', 800, 'notBreaching'],
    ['alarm-failover-slow-use1-dev', 'ExecutionTime', 700000, 'notBreaching'],
    ['alarm-failover-alert-lost-use1-dev', 'FailoverNotificationsFailed', 1, 'notBreaching'],
  ])('%s watches %s with the configured threshold %d', (name, metricName, threshold, treatMissingData) => {
    const properties = alarm(primary.template, name);
    expect(properties).toEqual(expect.objectContaining({ MetricName: metricName, Threshold: threshold, TreatMissingData: treatMissingData }));
  });

  it('uses the configured evaluation periods, except where one datapoint already needs a person', () => {
    expect(alarm(primary.template, 'alarm-queue-age-use1-dev')).toEqual(expect.objectContaining({ EvaluationPeriods: 4, DatapointsToAlarm: 4 }));
    expect(alarm(primary.template, 'alarm-dead-letters-use1-dev')).toEqual(expect.objectContaining({ EvaluationPeriods: 1, Threshold: 1 }));
    expect(alarm(primary.template, 'alarm-s3-fail-audit-logs-use1-dev')).toEqual(
      expect.objectContaining({ EvaluationPeriods: 1, MetricName: 'OperationsFailedReplication' }),
    );
  });

  it('computes error rates with metric math (errors over invocations, 0 without traffic)', () => {
    const rate = alarm(primary.template, 'alarm-err-order-processor-use1-dev');
    expect(rate.Threshold).toBe(2);
    expect(JSON.stringify(rate.Metrics)).toContain('IF(invocations > 0, 100 * errors / invocations, 0)');
    expect(JSON.stringify(rate.Metrics)).toContain('fn-order-processor-use1-dev');
    const api = alarm(primary.template, 'alarm-api-5xx-use1-dev');
    expect(api.Threshold).toBe(3);
    expect(JSON.stringify(api.Metrics)).toContain('api-orders-api-use1-dev');
  });

  it('treats a silent readiness check and a silent health check as failures', () => {
    expect(alarm(primary.template, 'alarm-readiness-use1-dev')).toEqual(
      expect.objectContaining({
        MetricName: 'ReadinessSummary',
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        TreatMissingData: 'breaching',
        Period: 3600,
      }),
    );
    expect(alarm(primary.template, 'alarm-route53-endpoint-use1-dev')).toEqual(
      expect.objectContaining({
        MetricName: 'HealthCheckStatus',
        Namespace: 'AWS/Route53',
        TreatMissingData: 'breaching',
        Dimensions: [{ Name: 'HealthCheckId', Value: 'hc-endpoint' }],
      }),
    );
  });

  it('alarms on Route 53 checks only in us-east-1, the one region where their metrics exist', () => {
    expect(secondary.alarms.alarms.has('route53-endpoint')).toBe(false);
    secondary.template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { Namespace: 'AWS/Route53' }, 0);
  });

  it('watches replication towards the other region', () => {
    expect(alarm(secondary.template, 'alarm-repl-sessions-use2-dev').Dimensions).toEqual([
      { Name: 'ReceivingRegion', Value: 'us-east-1' },
      { Name: 'TableName', Value: 'ddb-sessions-dev' },
    ]);
    expect(alarm(secondary.template, 'alarm-s3-lag-config-use2-dev').Dimensions).toEqual(
      expect.arrayContaining([
        { Name: 'RuleId', Value: 'to-use1' },
        { Name: 'DestinationBucket', Value: 's3-config-use1-111111111111-dev' },
      ]),
    );
  });

  it('sends every alarm and its recovery to the alert topic', () => {
    const all = Object.values(primary.template.findResources('AWS::CloudWatch::Alarm'));
    expect(all.length).toBe(primary.alarms.alarms.size);
    for (const each of all) {
      expect(each.Properties.AlarmActions).toHaveLength(1);
      expect(each.Properties.OKActions).toEqual(each.Properties.AlarmActions);
    }
  });
});
