import * as fs from 'fs';
import * as path from 'path';
import {
  budgetTable,
  failoverBudget,
  FailoverTimings,
  HEALTH_CHECKER_CONNECT_TIMEOUT_SECONDS,
  HEALTH_CHECKER_RESPONSE_TIMEOUT_SECONDS,
} from '../../lib/failover/failover-budget';
import { ConfigError, parseConfig } from '../../lib/core/config';

const TIMINGS: FailoverTimings = {
  healthCheckIntervalSeconds: 10,
  healthCheckFailureThreshold: 3,
  calculatedCheckAllowanceSeconds: 4,
  alarmEvaluationAllowanceSeconds: 60,
  dnsTtlSeconds: 10,
  dnsPropagationAllowanceSeconds: 10,
  auroraPromotionSeconds: 120,
};

describe('failover time budget', () => {
  it("counts the last check's connect and response timeouts in detection, and the calculated check before the TTL", () => {
    expect(failoverBudget(TIMINGS)).toEqual({
      failedChecksSeconds: 30,
      connectTimeoutSeconds: 4,
      responseTimeoutSeconds: 2,
      detectionSeconds: 36,
      calculatedCheckSeconds: 4,
      ttlSeconds: 10,
      propagationSeconds: 10,
      trafficSeconds: 60,
      processingSeconds: 156,
      alarmPeriodSeconds: 60,
      alarmEvaluationSeconds: 60,
      switchTrafficSeconds: 144,
    });
  });

  it("takes the checker timeouts from Route 53's documented figures (4 s to connect, 2 s to respond)", () => {
    expect([HEALTH_CHECKER_CONNECT_TIMEOUT_SECONDS, HEALTH_CHECKER_RESPONSE_TIMEOUT_SECONDS]).toEqual([4, 2]);
  });

  it('never reports processing sooner than traffic', () => {
    const budget = failoverBudget({
      ...TIMINGS,
      healthCheckIntervalSeconds: 30,
      healthCheckFailureThreshold: 1,
      dnsTtlSeconds: 20,
      dnsPropagationAllowanceSeconds: 5,
      auroraPromotionSeconds: 5,
    });
    expect(budget.processingSeconds).toBe(budget.trafficSeconds);
  });

  it('is 45 s on the health-check path with the defaults: 2 × 10 + 4 + 2 + 4 + 5 + 10, with the 10 s propagation allowance kept', () => {
    const config = parseConfig({});
    const budget = failoverBudget(config);
    expect(config.dnsPropagationAllowanceSeconds).toBe(10);
    expect(budget.trafficSeconds).toBe(45);
    expect(budget.detectionSeconds).toBe(2 * 10 + 4 + 2);
    expect(budget.trafficSeconds).toBeLessThanOrEqual(config.failoverTargetSeconds);
  });

  it('reports the evacuation-switch path apart: alarm period + evaluation allowance + calculated check + TTL + propagation', () => {
    const budget = failoverBudget(parseConfig({}));
    expect(budget.switchTrafficSeconds).toBe(60 + 60 + 4 + 5 + 10);
    expect(failoverBudget({ ...TIMINGS, alarmEvaluationAllowanceSeconds: 30, calculatedCheckAllowanceSeconds: 10 }).switchTrafficSeconds).toBe(
      60 + 30 + 10 + 10 + 10,
    );
  });

  it('does not refuse a switch path longer than the target (it is reported, not enforced)', () => {
    expect(() => parseConfig({ alarmEvaluationAllowanceSeconds: '600' })).not.toThrow();
  });

  it('refuses settings whose traffic budget exceeds the target, naming every term of the sum', () => {
    let problems: string[] = [];
    try {
      parseConfig({ healthCheckIntervalSeconds: '30', healthCheckFailureThreshold: '3' });
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems).toEqual([
      'failoverTargetSeconds: is exceeded by the traffic failover budget: healthCheckIntervalSeconds 30 × healthCheckFailureThreshold 3 + Route 53 connect timeout 4 + ' +
        'Route 53 response timeout 2 + calculatedCheckAllowanceSeconds 4 + dnsTtlSeconds 5 + dnsPropagationAllowanceSeconds 10 = 115 s > 60 s',
    ]);
  });

  it('refuses a budget one second over the target, where the old formula (without the checker timeouts) fitted', () => {
    // 3 × 10 + 4 + 2 + 4 + 10 + 10 = 60 fits; a calculated-check allowance of 5 makes it 61.
    expect(() => parseConfig({ healthCheckFailureThreshold: '3', dnsTtlSeconds: '10' })).not.toThrow();
    expect(() => parseConfig({ healthCheckFailureThreshold: '3', dnsTtlSeconds: '10', calculatedCheckAllowanceSeconds: '5' })).toThrow(
      /failoverTargetSeconds: is exceeded by the traffic failover budget: .* = 61 s > 60 s/,
    );
  });

  it('refuses an interval Route 53 does not offer', () => {
    expect(() => parseConfig({ healthCheckIntervalSeconds: '20' })).toThrow(/healthCheckIntervalSeconds: must be one of the Route 53 intervals \(10, 30\)/);
  });

  it('renders every term of both paths in the README table', () => {
    const table = budgetTable(parseConfig({}));
    const seconds = (label: string) =>
      table
        .split('\n')
        .find((row) => row.startsWith(`| ${label} |`))
        ?.split(' | ')[1];
    expect({
      failedChecks: seconds('Detection: 10 s interval × 2 failed checks'),
      connect: seconds("Detection: the last check's TCP connect timeout"),
      response: seconds("Detection: the last check's response timeout"),
      calculated: seconds('Calculated check (/health AND evacuation switch) follows'),
      ttl: seconds('Record TTL'),
      propagation: seconds('Propagation to name servers and resolvers'),
      traffic: seconds('**Traffic in the other region (worst case)**'),
      promotion: seconds('Aurora promotion (expected, from detection)'),
      processing: seconds('Orders processed again (expected)'),
      alarmPeriod: seconds('Switch: alarm period (Route 53 reads only one-minute alarms)'),
      alarmEvaluation: seconds('Switch: CloudWatch evaluates the alarm, Route 53 reads it'),
      switchCalculated: seconds('Switch: calculated check follows'),
      switchTtl: seconds('Switch: record TTL'),
      switchPropagation: seconds('Switch: propagation to name servers and resolvers'),
      switchTraffic: seconds('**Traffic in the other region after the switch is thrown (worst case)**'),
    }).toEqual({
      failedChecks: '20',
      connect: '4',
      response: '2',
      calculated: '4',
      ttl: '5',
      propagation: '10',
      traffic: '**45**',
      promotion: '120',
      processing: '146',
      alarmPeriod: '60',
      alarmEvaluation: '60',
      switchCalculated: '4',
      switchTtl: '5',
      switchPropagation: '10',
      switchTraffic: '**139**',
    });
  });
});

describe('the README', () => {
  it('shows the budget the defaults produce', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    expect(readme).toContain(budgetTable(parseConfig({})));
  });
});
