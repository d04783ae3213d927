import { Match, Template } from 'aws-cdk-lib/assertions';
import { RegionRole } from '../../lib/core/region-settings';
import { EVACUATION_ALARM, switchRefFor } from '../../lib/routing/evacuation-switch';
import { ParameterKey, Purpose } from '../../lib/core/naming';
import { SwitchKeeper } from '../../lib/routing/switch-keeper';
import { MAX_PUBLISHES_PER_MINUTE, SWITCH_KEEPER } from '../../lambda/contracts/switch-keeper';
import { namingFor, synthDeployment } from '../helpers/app';
import { DEFAULT_CONFIG, regionalStack } from '../helpers/stacks';

/**
 * The evacuation switch of each region: the alarm and health check its own stage builds (on the
 * alarm in the other region), and the position and keeper of the switch each region hosts (the
 * other region's). One synthesized app for the file.
 */

const { deployment, config } = synthDeployment();
const templates = {
  primary: Template.fromStack(deployment.primary.regionalStack),
  secondary: Template.fromStack(deployment.secondary.regionalStack),
};

/** The keeper function of a template, by its name. */
function keeperFunction(template: Template, region: string): Record<string, any> {
  const functions = Object.values(
    template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: namingFor(config, region).name('function', Purpose.switchKeeper) } }),
  );
  expect(functions).toHaveLength(1);
  return functions[0];
}

/** Every statement of the policies attached to a role, by the role's logical id. */
function statementsOfRole(template: Template, roleLogicalId: string): Array<Record<string, any>> {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => (policy.Properties.Roles as Array<{ Ref: string }>).some((role) => role.Ref === roleLogicalId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<Record<string, any>>);
}

describe.each([
  ['primary', 'us-east-1', 'us-east-2', templates.primary],
  ['secondary', 'us-east-2', 'us-east-1', templates.secondary],
] as const)('the evacuation switches of the %s region (%s)', (role, region, peerRegion, template) => {
  const naming = namingFor(config, region);

  it('judges its own switch with LastKnownStatus, so a minute without data never releases it', () => {
    const checks = Object.values(template.findResources('AWS::Route53::HealthCheck', { Properties: { HealthCheckConfig: { Type: 'CLOUDWATCH_METRIC' } } }));
    expect(checks).toHaveLength(1);
    expect(checks[0].Properties.HealthCheckConfig).toEqual(
      expect.objectContaining({
        AlarmIdentifier: { Name: naming.name('alarm', Purpose.evacuate), Region: peerRegion },
        InsufficientDataHealthStatus: 'LastKnownStatus',
      }),
    );
  });

  it('creates the alarm in the other region with the settings the data-stream tests use', () => {
    const create = Object.values(template.findResources('Custom::AWS'))
      .map((resource) => resource.Properties.Create)
      .find((call) => typeof call === 'string' && call.includes('putMetricAlarm'));
    const call = JSON.parse(create as string);
    expect(call.region).toBe(peerRegion);
    expect(call.parameters).toEqual(
      expect.objectContaining({ ...EVACUATION_ALARM, MetricName: 'EvacuateRegion', Dimensions: [{ Name: 'Region', Value: region }] }),
    );
  });

  it("hosts the other region's switch position in a parameter that starts released and goes with the stack", () => {
    template.hasResource('AWS::SSM::Parameter', {
      Properties: { Name: naming.parameterName(ParameterKey.evacuationSwitch), Type: 'String', Value: 'released', Tier: 'Standard' },
      DeletionPolicy: 'Delete',
    });
  });

  it('runs the keeper outside any VPC, every minute, ending before the next run, with no retry of a failed run', () => {
    const keeper = keeperFunction(template, region);
    expect(keeper.Properties.VpcConfig).toBeUndefined();
    expect(keeper.Properties.Timeout).toBe(55);
    expect(keeper.Properties.MemorySize).toBe(128);
    const [keeperId] = Object.keys(template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: keeper.Properties.FunctionName } }));
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: naming.name('rule', Purpose.switchKeeper),
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [keeperId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } })],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: keeperId }, MaximumRetryAttempts: 0 });
  });

  it('tells the keeper, in the environment its handler parses, the switch the orchestrator computes from names', () => {
    const variables = keeperFunction(template, region).Properties.Environment.Variables;
    // AWS_REGION is the Lambda runtime's.
    const environment = SWITCH_KEEPER.environment.read({ ...variables, AWS_REGION: region });
    // Any region's naming computes the same switch: the orchestrator of either region finds it.
    const ref = switchRefFor(namingFor(config, peerRegion), peerRegion, region);
    expect({
      evacuatedRegion: environment.EVACUATED_REGION,
      hostRegion: environment.AWS_REGION,
      parameterName: environment.SWITCH_PARAMETER,
      namespace: environment.METRIC_NAMESPACE,
      metricName: environment.METRIC_NAME,
    }).toEqual(ref);
    expect(environment.PUBLISHES_PER_MINUTE).toBe(3);
    expect(deployment[role].switchKeeper.switchRef).toEqual(ref);
  });

  it("lets the keeper read only its parameter and publish only in the deployment's namespace", () => {
    const roleId = keeperFunction(template, region).Properties.Role['Fn::GetAtt'][0] as string;
    // Every function's role also writes its own log group and X-Ray traces (lib/core/function-role.ts).
    const statements = statementsOfRole(template, roleId).filter(
      (statement) => statement.Sid !== 'WriteOwnLogs' && ![statement.Action].flat().every((action: string) => action.startsWith('xray:')),
    );
    expect(statements).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'ssm:GetParameter',
        Resource: `arn:aws:ssm:${region}:${config.account}:parameter${naming.parameterName(ParameterKey.evacuationSwitch)}`,
      }),
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'cloudwatch:PutMetricData',
        Resource: '*',
        Condition: { StringEquals: { 'cloudwatch:namespace': naming.metricNamespace() } },
      }),
    ]);
    // The unscoped resource is acknowledged for cdk-nag with its reason. (The template's cdk_nag
    // metadata keeps the first reason per finding id: the role's X-Ray one.)
    const reasons = deployment[role].switchKeeper.function.role.node.metadata
      .filter((entry) => entry.type === 'aws:cdk:acknowledged-rules')
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
      // aws-cdk-lib prefixes the ids it records ('Annotation::'); cdk-nag strips the prefix the same way.
      .filter(([id]) => id.replace(/^annotation::/i, '') === 'AwsSolutions-IAM5[Resource::*]')
      .map(([, reason]) => reason);
    expect(reasons).toContainEqual(expect.stringContaining('PutMetricData supports no resource-level permissions'));
  });
});

describe('switch keeper settings', () => {
  it.each([0, 1.5, MAX_PUBLISHES_PER_MINUTE + 1])('refuses %p publishes per minute, naming the rule', (publishesPerMinute) => {
    const { stack, naming, peerRegion } = regionalStack(RegionRole.PRIMARY);
    expect(
      () =>
        new SwitchKeeper(stack, 'SwitchKeeper', { naming, peerRegion, publishesPerMinute, logRetention: DEFAULT_CONFIG.logRetentionDays, sourceMaps: false }),
    ).toThrow(`SwitchKeeper: publishesPerMinute ${publishesPerMinute} breaks the rule (a whole number from 1 to ${MAX_PUBLISHES_PER_MINUTE}`);
  });

  it('refuses a switch hosted in the region it evacuates', () => {
    expect(() => switchRefFor(namingFor(config, 'us-east-1'), 'us-east-1', 'us-east-1')).toThrow(
      'switchRefFor: the switch of us-east-1 must live in the other region',
    );
  });
});
