import { Template } from 'aws-cdk-lib/assertions';
import { namingFor, synthDeployment } from '../helpers/app';

// Non-default timings, so every value is shown to come from config.
const { deployment, config } = synthDeployment({
  healthCheckFailureThreshold: 2,
  dnsTtlSeconds: 20,
  healthCheckRegions: 'us-west-1,eu-west-1,ap-southeast-1',
});
const primary = Template.fromStack(deployment.primary.regionalStack);
const secondary = Template.fromStack(deployment.secondary.regionalStack);

function healthChecksOfType(template: Template, type: string): Array<Record<string, any>> {
  return Object.values(template.findResources('AWS::Route53::HealthCheck', { Properties: { HealthCheckConfig: { Type: type } } }));
}

describe.each([
  ['primary', primary, 'us-east-1', 'us-east-2', 'PRIMARY'],
  ['secondary', secondary, 'us-east-2', 'us-east-1', 'SECONDARY'],
])('failover routing of the %s region', (role, template, region, peerRegion, failover) => {
  it('probes its own /health on the execute-api host over HTTPS with the configured timings and checker regions', () => {
    const [check] = healthChecksOfType(template, 'HTTPS');
    expect(check.Properties.HealthCheckConfig).toEqual(
      expect.objectContaining({
        Type: 'HTTPS',
        Port: 443,
        ResourcePath: '/v1/health',
        EnableSNI: true,
        RequestInterval: 10,
        FailureThreshold: 2,
        Regions: ['us-west-1', 'eu-west-1', 'ap-southeast-1'],
      }),
    );
    // {api id}.execute-api.{region}.{url suffix}: the region's own endpoint, not api.<zone>.
    expect(JSON.stringify(check.Properties.HealthCheckConfig.FullyQualifiedDomainName)).toContain(`.execute-api.${region}.`);
  });

  it('has one failover record for api.<zone>, with the configured TTL and the calculated check', () => {
    template.resourceCountIs('AWS::Route53::RecordSet', 1);
    const record = Object.values(template.findResources('AWS::Route53::RecordSet'))[0];
    expect(record.Properties).toEqual(
      expect.objectContaining({ Name: 'api.trading.example.com.', Type: 'CNAME', TTL: '20', Failover: failover, SetIdentifier: `${role}-${region}` }),
    );
    const calculated = healthChecksOfType(template, 'CALCULATED');
    expect(calculated).toHaveLength(1);
    const [calculatedId] = Object.keys(template.findResources('AWS::Route53::HealthCheck', { Properties: { HealthCheckConfig: { Type: 'CALCULATED' } } }));
    expect(record.Properties.HealthCheckId).toEqual({ Ref: calculatedId });
  });

  it('is healthy only while both the endpoint check and the evacuation switch are healthy', () => {
    const [calculated] = healthChecksOfType(template, 'CALCULATED');
    const children = calculated.Properties.HealthCheckConfig.ChildHealthChecks as Array<{ Ref: string }>;
    expect(children).toHaveLength(2);
    expect(calculated.Properties.HealthCheckConfig.HealthThreshold).toBe(2);
    const types = children.map((child) => template.toJSON().Resources[child.Ref].Properties.HealthCheckConfig.Type).sort();
    expect(types).toEqual(['CLOUDWATCH_METRIC', 'HTTPS']);
  });

  it('keeps its evacuation switch in the other region: an alarm there, created at deploy time', () => {
    const naming = namingFor(config, region);
    const alarmName = naming.name('alarm', 'evacuate');
    const [switchCheck] = healthChecksOfType(template, 'CLOUDWATCH_METRIC');
    expect(switchCheck.Properties.HealthCheckConfig).toEqual(
      expect.objectContaining({ AlarmIdentifier: { Name: alarmName, Region: peerRegion }, InsufficientDataHealthStatus: 'LastKnownStatus' }),
    );
    const create = JSON.stringify(template.findResources('Custom::AWS'));
    expect(create).toContain('putMetricAlarm');
    expect(create).toContain(`\\"AlarmName\\":\\"${alarmName}\\"`);
    expect(create).toContain(`\\"region\\":\\"${peerRegion}\\"`);
    expect(create).toContain('\\"TreatMissingData\\":\\"ignore\\"');
    expect(create).toContain('deleteAlarms');
  });

  it('lets the deploy-time call manage only that alarm', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const statement = Object.values(policies)
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<Record<string, any>>)
      .find((each) => JSON.stringify(each.Action).includes('PutMetricAlarm'))!;
    expect([statement.Action].flat().sort()).toEqual(['cloudwatch:DeleteAlarms', 'cloudwatch:PutMetricAlarm']);
    expect([statement.Resource].flat()).toHaveLength(1);
    expect(JSON.stringify(statement.Resource)).toContain(`:cloudwatch:${peerRegion}:111111111111:alarm:${namingFor(config, region).name('alarm', 'evacuate')}`);
  });
});

it('names the switch after the evacuated region, so the orchestrator in the other region finds it by name', () => {
  expect(namingFor(config, 'us-east-1').name('alarm', 'evacuate')).toBe('alarm-evacuate-use1-dev');
});
