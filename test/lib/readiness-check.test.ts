import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { RegionRole } from '../../lib/core/region-settings';
import { ControlTable } from '../../lib/data/control-table';
import { ReadinessCheck } from '../../lib/observability/readiness-check';
import { DEFAULT_CONFIG, regionalStack } from '../helpers/stacks';

const { stack, naming, peerRegion } = regionalStack(RegionRole.PRIMARY);
new ReadinessCheck(stack, 'Readiness', {
  naming,
  peerRegion,
  primaryRegion: 'us-east-1',
  // The secondary's kind: the replica by name, so this stack holds no table of its own.
  controlTable: new ControlTable(stack, 'Control', { naming, role: RegionRole.SECONDARY, peerRegion, witnessRegion: 'us-west-2' }),
  apiUrl: 'https://abc123.execute-api.us-east-1.amazonaws.com/v1/',
  apiHostName: 'api.trading.example.com',
  hostedZone: route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789', zoneName: 'trading.example.com' }),
  setIdentifier: 'primary-us-east-1',
  healthChecks: ['hc-endpoint', 'hc-routing'].map((id) => route53.HealthCheck.fromHealthCheckId(stack, id, id)),
  stateMachine: sfn.StateMachine.fromStateMachineName(stack, 'Machine', 'sfn-failover-use1-dev'),
  tablePurposes: ['order-journal', 'control'],
  eventBus: events.EventBus.fromEventBusName(stack, 'Bus', 'bus-dr-events-use1-dev'),
  eventSource: 'trading-dr.failover',
  config: { ...DEFAULT_CONFIG, maxReplicationLagMs: 3000, readinessIntervalHours: 2 },
});
const template = Template.fromStack(stack);
const [readiness] = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: 'fn-readiness-use1-dev' } }));
const environment = readiness.Properties.Environment.Variables as Record<string, unknown>;

describe('the readiness check', () => {
  it('runs on the configured schedule, outside the VPC (it must reach Route 53, the peer region and both public APIs)', () => {
    template.hasResourceProperties('AWS::Events::Rule', { Name: 'rule-readiness-use1-dev', ScheduleExpression: 'rate(2 hours)' });
    expect(readiness.Properties.VpcConfig).toBeUndefined();
  });

  it('gives the function an environment its handler accepts', () => {
    const saved = { ...process.env };
    try {
      for (const [key, value] of Object.entries(environment)) {
        // Values that are deploy-time references stand in as plausible literals.
        process.env[key] =
          typeof value === 'string' ? value : key.endsWith('_URL') ? 'https://token.example/v1/' : `arn:aws:token:us-east-1:111111111111:${key}`;
      }
      jest.isolateModules(() => {
        expect(() => jest.requireActual('../../lambda/readiness/index')).not.toThrow();
      });
      delete process.env.GLOBAL_TABLE_NAMES;
      jest.isolateModules(() => {
        expect(() => jest.requireActual('../../lambda/readiness/index')).toThrow(/GLOBAL_TABLE_NAMES/);
      });
    } finally {
      process.env = saved;
    }
  });

  it('checks the configured tables, the replicated buckets and both clusters, against the configured lag', () => {
    expect(environment).toEqual(
      expect.objectContaining({
        GLOBAL_TABLE_NAMES: 'ddb-order-journal-dev,ddb-control-dev',
        REPLICATED_BUCKET_NAMES: 's3-config-use1-111111111111-dev,s3-audit-logs-use1-111111111111-dev',
        DB_CLUSTER_ID: 'aurora-orders-use1-dev',
        PEER_DB_CLUSTER_ID: 'aurora-orders-use2-dev',
        PEER_REGION_CODE: 'use2',
        MAX_REPLICATION_LAG_MS: '3000',
        HEALTH_CHECK_IDS: 'hc-endpoint,hc-routing',
        SET_IDENTIFIER: 'primary-us-east-1',
      }),
    );
  });

  it('tells the roles and automation checks where the control table, the primary and the evacuation switches are', () => {
    expect(environment).toEqual(
      expect.objectContaining({
        CONTROL_TABLE: 'ddb-control-dev',
        PRIMARY_REGION: 'us-east-1',
        SWITCH_PARAMETER: '/trading-dr/dev/dns/evacuation-switch',
        EVACUATION_METRIC_NAME: 'EvacuateRegion',
      }),
    );
  });

  it('may read only what it checks, and write metrics only in the deployment namespace', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.Roles).includes('Readiness'))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<Record<string, any>>);
    const bySid = (sid: string) => statements.find((statement) => statement.Sid === sid)!;
    expect(bySid('ReadHealthChecks').Resource).toEqual(['arn:aws:route53:::healthcheck/hc-endpoint', 'arn:aws:route53:::healthcheck/hc-routing']);
    expect(bySid('ReadFailoverRecord').Resource).toBe('arn:aws:route53:::hostedzone/Z0123456789');
    expect(bySid('PublishReadiness').Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'trading-dr/dev' } });
    // Both switches: the one this region hosts and the one the peer hosts, by the same path.
    expect(bySid('ReadEvacuationSwitches')).toMatchObject({
      Action: 'ssm:GetParameter',
      Resource: ['us-east-1', 'us-east-2'].map((region) => `arn:aws:ssm:${region}:111111111111:parameter/trading-dr/dev/dns/evacuation-switch`),
    });
    // The control table's items only (not its indexes), and only read.
    const controlTable = statements.filter(
      (statement) =>
        JSON.stringify(statement.Resource).includes('ddb-control-dev') && [statement.Action].flat().some((action: string) => action.startsWith('dynamodb:')),
    );
    expect(controlTable.map((statement) => ({ Action: statement.Action, Resource: statement.Resource }))).toEqual([
      { Action: 'dynamodb:DescribeTable', Resource: expect.anything() },
      { Action: 'dynamodb:GetItem', Resource: 'arn:aws:dynamodb:us-east-1:111111111111:table/ddb-control-dev' },
    ]);
    for (const statement of statements) {
      for (const action of [statement.Action].flat() as string[]) expect(action).not.toMatch(/^route53:(Change|Create|Delete|Update)|:\*$|^\*$/);
    }
  });
});
