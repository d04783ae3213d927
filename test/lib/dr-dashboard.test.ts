import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RegionRole } from '../../lib/core/region-settings';
import { DrDashboard } from '../../lib/observability/dr-dashboard';
import { regionalStack } from '../helpers/stacks';

const { stack, naming } = regionalStack(RegionRole.SECONDARY);
new DrDashboard(stack, 'Dashboard', {
  naming,
  regions: ['us-east-1', 'us-east-2'],
  healthChecks: { 'us-east-1 /health': 'hc-primary', 'us-east-2 /health': 'hc-secondary' },
  tablePurposes: ['order-journal', 'sessions'],
  alarms: [],
});
const template = Template.fromStack(stack);
const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
const joined = Stack.of(stack).resolve(dashboard.Properties.DashboardBody)['Fn::Join'][1] as unknown[];
const body = JSON.parse(joined.map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('')) as {
  widgets: Array<{ type: string; y: number; properties: { title?: string; region?: string; metrics?: unknown[][]; markdown?: string } }>;
};
const graphs = body.widgets.filter((widget) => widget.type === 'metric');

/** The [namespace, metric, ...dimensions, options] rows of a widget, with each row's own region. */
function rows(title: string): Array<{ text: string; region?: string }> {
  const widget = graphs.find((each) => each.properties.title === title);
  expect(widget).toBeDefined();
  return widget!.properties.metrics!.map((row) => {
    const options = row[row.length - 1] as { region?: string };
    return { text: JSON.stringify(row), region: options.region ?? widget!.properties.region };
  });
}

describe('the DR dashboard', () => {
  it('is one dashboard named for the deployment', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    expect(dashboard.Properties.DashboardName).toBe('dash-dr-dev');
  });

  it('puts the failover view first: active region, health checks, last failover duration, readiness', () => {
    const top = Math.min(...graphs.map((widget) => widget.y));
    expect(graphs.filter((widget) => widget.y === top).map((widget) => widget.properties.title)).toEqual([
      'Active region (1 = active, from the prober)',
      'Route 53 health checks (1 = healthy)',
      'Last failover duration (s), by target region',
      'Failover readiness (1 = ready)',
    ]);
  });

  it('shows both regions, each metric in its own region', () => {
    for (const title of [
      'Aurora global replication lag (ms)',
      'Orders committed and failed, per region (per minute)',
      'API requests and errors, per region (per minute)',
      'Failover readiness (1 = ready)',
    ]) {
      const regions = new Set(rows(title).map((row) => row.region));
      expect({ title, regions: [...regions].sort() }).toEqual({ title, regions: ['us-east-1', 'us-east-2'] });
    }
    const lag = rows('Aurora global replication lag (ms)');
    expect(lag.find((row) => row.text.includes('aurora-orders-use1-dev'))?.region).toBe('us-east-1');
    expect(lag.find((row) => row.text.includes('aurora-orders-use2-dev'))?.region).toBe('us-east-2');
  });

  it('reads Route 53 health checks in us-east-1, where Route 53 publishes them', () => {
    const checks = rows('Route 53 health checks (1 = healthy)');
    expect(checks.map((row) => row.region)).toEqual(['us-east-1', 'us-east-1']);
    expect(checks.map((row) => row.text).join()).toMatch(/hc-primary.*hc-secondary/);
  });

  it('shows replication in both directions', () => {
    const tables = rows('DynamoDB replication latency (ms)').map((row) => row.text);
    expect(tables.some((text) => text.includes('ddb-sessions-dev') && text.includes('"ReceivingRegion","us-east-2"'))).toBe(true);
    expect(tables.some((text) => text.includes('ddb-sessions-dev') && text.includes('"ReceivingRegion","us-east-1"'))).toBe(true);
  });
});
