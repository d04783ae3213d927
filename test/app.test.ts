import * as path from 'path';
import { RemovalPolicy, Stack, Stage } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { addComplianceChecks, applyGuardrails, findSynthesisErrors } from '../lib/core/compliance';
import { newApp, synthDeployment } from './helpers/app';
import { cfnLint } from './helpers/cfn-lint';

/**
 * Whole-app checks on every synthesized template: cfn-lint, cdk-nag, destroyability, names and
 * tags. One synthesized app for the file; a second with another suffix for the naming check.
 */
const synthesized = synthDeployment();
const templates = [...synthesized.templates.entries()];

/** Properties that hold a physical name, by resource type. */
const NAME_PROPERTIES: Record<string, string> = {
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::EC2::SecurityGroup': 'GroupName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::SSM::Parameter': 'Name',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::DynamoDB::GlobalTable': 'TableName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::StepFunctions::StateMachine': 'StateMachineName',
  'AWS::RDS::DBCluster': 'DBClusterIdentifier',
  'AWS::RDS::GlobalCluster': 'GlobalClusterIdentifier',
  'AWS::CloudWatch::Alarm': 'AlarmName',
  'AWS::CloudWatch::Dashboard': 'DashboardName',
  'AWS::Events::EventBus': 'Name',
  'AWS::SecretsManager::Secret': 'Name',
};

/** Resource types that must carry the four tags (every taggable type this app creates). */
const MUST_BE_TAGGED = [
  'AWS::EC2::VPC',
  'AWS::EC2::Subnet',
  'AWS::EC2::RouteTable',
  'AWS::EC2::SecurityGroup',
  'AWS::IAM::Role',
  'AWS::Logs::LogGroup',
  'AWS::SSM::Parameter',
  'AWS::EC2::VPCPeeringConnection',
  'AWS::EC2::FlowLog',
  'AWS::Lambda::Function',
];
const TAG_KEYS = ['Application', 'Environment', 'ManagedBy', 'Region'];

/** Physical names in a set of templates, keyed by stack and logical id. */
function physicalNames(each: Array<[string, Record<string, any>]>): Map<string, string> {
  const names = new Map<string, string>();
  for (const [stackId, template] of each) {
    for (const [logicalId, resource] of Object.entries<any>(template.Resources)) {
      const property = NAME_PROPERTIES[resource.Type];
      const value = property ? resource.Properties?.[property] : undefined;
      if (typeof value === 'string') names.set(`${/use\d/.exec(stackId)![0]}/${logicalId}`, value);
    }
  }
  return names;
}

function tagKeysOf(resource: any): string[] {
  const tags = resource.Properties?.Tags;
  if (Array.isArray(tags)) return tags.map((tag: { Key: string }) => tag.Key);
  if (tags && typeof tags === 'object') return Object.keys(tags);
  return [];
}

describe('the synthesized app', () => {
  it('has a us-east-1 stack and a us-east-2 stack', () => {
    const regions = synthesized.assembly.nestedAssemblies.flatMap((nested) => nested.nestedAssembly.stacks.map((stack) => stack.environment.region));
    expect(regions.sort()).toEqual(['us-east-1', 'us-east-2']);
  });

  it('passes cfn-lint with no error and no warning', () => {
    const files = synthesized.assembly.nestedAssemblies.flatMap((nested) =>
      nested.nestedAssembly.stacks.map((stack) => path.join(nested.nestedAssembly.directory, stack.templateFile)),
    );
    expect(files).toHaveLength(2);
    const lint = cfnLint(files);
    expect(lint.error).toBeUndefined();
    expect(lint.output).toBe('');
    expect(lint.status).toBe(0);
  });

  it('passes cdk-nag AwsSolutions (synthesis would have thrown) with a real reason on every acknowledgment', () => {
    expect(findSynthesisErrors(synthesized.assembly)).toEqual([]);
    const acknowledgments = templates.flatMap(([, template]) =>
      Object.values<any>(template.Resources).flatMap((resource) => resource.Metadata?.cdk_nag?.rules_to_suppress ?? []),
    );
    expect(acknowledgments.length).toBeGreaterThan(0);
    for (const acknowledgment of acknowledgments) {
      expect(acknowledgment.id).toMatch(/^(AwsSolutions-[A-Z]+\d+|CloudFormation-Validate::[EFW]\d+)/);
      expect(acknowledgment.reason.length).toBeGreaterThanOrEqual(40);
    }
  });

  it('keeps nothing on teardown: no Retain or Snapshot policy, no deletion protection', () => {
    for (const [, template] of templates) {
      for (const resource of Object.values<any>(template.Resources)) {
        expect(resource.DeletionPolicy ?? 'Delete').toBe('Delete');
        expect(resource.UpdateReplacePolicy ?? 'Delete').toBe('Delete');
        expect(JSON.stringify(resource.Properties ?? {})).not.toMatch(/"DeletionProtection(Enabled)?":true/);
      }
    }
  });

  it('carries the environment suffix in every physical name', () => {
    const names = physicalNames(templates);
    expect(names.size).toBeGreaterThan(10);
    for (const name of names.values()) {
      expect(name).toMatch(/(^|[-/])dev($|[-/])/);
    }
  });

  it('tags every taggable resource with environment, region, application and owner', () => {
    for (const [, template] of templates) {
      const region = JSON.stringify(template).includes('us-east-2a') ? 'us-east-2' : 'us-east-1';
      for (const type of MUST_BE_TAGGED) {
        for (const resource of Object.values<any>(template.Resources).filter((each) => each.Type === type)) {
          expect({ type, keys: tagKeysOf(resource) }).toEqual({ type, keys: expect.arrayContaining(TAG_KEYS) });
        }
      }
      for (const resource of Object.values<any>(template.Resources)) {
        if (tagKeysOf(resource).length === 0) continue;
        expect(tagKeysOf(resource)).toEqual(expect.arrayContaining(TAG_KEYS));
        const tags = resource.Properties.Tags;
        const regionTag = Array.isArray(tags) ? tags.find((tag: { Key: string }) => tag.Key === 'Region')?.Value : tags.Region;
        expect(regionTag).toBe(region);
      }
    }
  });

  it('changes every physical name with -c environmentSuffix=another', () => {
    const other = synthDeployment({ environmentSuffix: 'another' });
    const before = physicalNames(templates);
    const after = physicalNames([...other.templates.entries()]);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [key, name] of before) {
      expect(after.get(key)).not.toBe(name);
      expect(after.get(key)).toMatch(/another/);
      expect(after.get(key)).not.toMatch(/(^|[-/])dev($|[-/])/);
    }
  });
});

describe('the compliance gate', () => {
  /** A stage with a bucket that breaks cdk-nag (no TLS enforcement, no access logs) and the guard. */
  function appWithBadBucket(context: Record<string, unknown> = {}) {
    const app = newApp(context);
    const stage = new Stage(app, 'Probe', { env: { account: '111111111111', region: 'us-east-1' } });
    const stack = new Stack(stage, 'Bad');
    applyGuardrails(stage, { environment: 'dev', region: 'us-east-1', application: 'trading-dr' });
    new s3.Bucket(stack, 'Leaky', { removalPolicy: RemovalPolicy.RETAIN });
    addComplianceChecks(app);
    return app;
  }

  it('runs cdk-nag on the stacks inside a stage and fails synthesis on a finding', () => {
    expect(() => appWithBadBucket().synth()).toThrow(/AwsSolutions-S10[\s\S]*Probe\/Bad\/Leaky/);
  });

  it('finds nag findings and guard errors in the assembly when the CLI runs the app', () => {
    // Under the CLI the app writes the report instead of throwing (and prints it, silenced here);
    // bin/app.ts reads it back.
    const printed = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const assembly = appWithBadBucket({ '@aws-cdk/core:appMode': 'process' }).synth();
    printed.mockRestore();
    const errors = findSynthesisErrors(assembly);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Probe\/Bad\/Leaky\/Resource: AwsSolutions-S10 \(AwsSolutions\)/),
        expect.stringMatching(/^Probe\/Bad\/Leaky\/Resource: .*DestroyableGuard: AWS::S3::Bucket has DeletionPolicy Retain/),
      ]),
    );
  });
});
