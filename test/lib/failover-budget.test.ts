import * as fs from 'fs';
import * as path from 'path';
import { budgetTable, failoverBudget } from '../../lib/failover-budget';
import { ConfigError, parseConfig } from '../../lib/config';

describe('failover time budget', () => {
  it('adds detection, TTL and propagation for traffic, and reports promotion apart', () => {
    expect(
      failoverBudget({ healthCheckIntervalSeconds: 10, healthCheckFailureThreshold: 3, dnsTtlSeconds: 10, dnsPropagationAllowanceSeconds: 10, auroraPromotionSeconds: 120 }),
    ).toEqual({ detectionSeconds: 30, ttlSeconds: 10, propagationSeconds: 10, trafficSeconds: 50, processingSeconds: 150 });
  });

  it('never reports processing sooner than traffic', () => {
    const budget = failoverBudget({ healthCheckIntervalSeconds: 30, healthCheckFailureThreshold: 1, dnsTtlSeconds: 20, dnsPropagationAllowanceSeconds: 5, auroraPromotionSeconds: 5 });
    expect(budget.processingSeconds).toBe(budget.trafficSeconds);
  });

  it('fits the 60 s target with the defaults', () => {
    const config = parseConfig({});
    expect(failoverBudget(config).trafficSeconds).toBeLessThanOrEqual(config.failoverTargetSeconds);
  });

  it('refuses settings whose traffic budget exceeds the target, showing the sum', () => {
    let problems: string[] = [];
    try {
      parseConfig({ healthCheckIntervalSeconds: '30', healthCheckFailureThreshold: '3' });
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems).toEqual([
      'failoverTargetSeconds: is exceeded by the traffic failover budget: healthCheckIntervalSeconds 30 × healthCheckFailureThreshold 3 + dnsTtlSeconds 10 + dnsPropagationAllowanceSeconds 10 = 110 s > 60 s',
    ]);
  });

  it('refuses an interval Route 53 does not offer', () => {
    expect(() => parseConfig({ healthCheckIntervalSeconds: '20' })).toThrow(/healthCheckIntervalSeconds: must be one of the Route 53 intervals \(10, 30\)/);
  });

  it('renders the README table', () => {
    expect(budgetTable(parseConfig({}))).toContain('| **Traffic in the other region (worst case)** | **50** |');
  });
});

describe('the README', () => {
  it('shows the budget the defaults produce', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    expect(readme).toContain(budgetTable(parseConfig({})));
  });
});
