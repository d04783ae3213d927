import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ParameterKey, Purpose } from '../../lib/core/naming';
import { faultDuration, FIS_CONFIGURATION_PREFIX, FIS_EXEC_WRAPPER, INVOCATION_ERROR_ACTION } from '../../lib/failover/fault-injection';
import { fisTraces } from '../helpers/fis-traces';
import { namingFor, synthDeployment } from '../helpers/app';

/*
 * The unplanned drill's fault injection: with `faultInjectionDrills` the primary stage holds one FIS
 * experiment over exactly its health and intake functions, a role that reaches nothing else, and the
 * extension on those two functions; the secondary holds none of it, nor does any default template.
 * Two synthesized apps (the flag on, and the default), one each for the file.
 */

const drills = synthDeployment({ faultInjectionDrills: true });
const primary = Template.fromStack(drills.deployment.primary.regionalStack);
const secondary = Template.fromStack(drills.deployment.secondary.regionalStack);
const naming = namingFor(drills.config, drills.config.primaryRegion);

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string };

/** The one resource of a type in a template whose properties include `properties`: its logical id and body. */
function only(template: Template, type: string, properties: Record<string, unknown> = {}): [string, Resource] {
  const found = Object.entries(template.findResources(type, { Properties: properties })) as Array<[string, Resource]>;
  expect(found).toHaveLength(1);
  return found[0];
}

/** The logical id of the function with this purpose's name. */
function functionId(purpose: string): string {
  return only(primary, 'AWS::Lambda::Function', { FunctionName: naming.name('function', purpose) })[0];
}

const [templateId, experiment] = only(primary, 'AWS::FIS::ExperimentTemplate');
const [bucketId, bucket] = only(primary, 'AWS::S3::Bucket', { BucketName: naming.name('bucket', Purpose.faultInjection) });
const [roleId, role] = only(primary, 'AWS::IAM::Role', { RoleName: naming.name('role', Purpose.faultInjection) });
const targetArns = [Purpose.health, Purpose.orderIntake].map((purpose) => ({ 'Fn::GetAtt': [functionId(purpose), 'Arn'] }));
const configurationObjects = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${FIS_CONFIGURATION_PREFIX}*`]] };

/** Every statement of the policies attached to a role. */
function statementsOfRole(template: Template, logicalId: string): Array<Record<string, any>> {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${logicalId}"`))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<Record<string, any>>);
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

describe('the experiment template (faultInjectionDrills=true, primary)', () => {
  it('targets exactly the primary health and intake functions, by ARN', () => {
    expect(Object.keys(experiment.Properties.Targets)).toEqual(['Functions']);
    const target = experiment.Properties.Targets.Functions;
    expect(target.ResourceType).toBe('aws:lambda:function');
    expect(target.SelectionMode).toBe('ALL');
    expect(target.ResourceArns).toEqual(targetArns);
    expect(target.ResourceTags).toBeUndefined();
  });

  it('injects invocation errors into every invocation, without running the handler, for long enough to detect and fail over', () => {
    expect(Object.values(experiment.Properties.Actions)).toEqual([
      expect.objectContaining({
        ActionId: INVOCATION_ERROR_ACTION,
        Parameters: { duration: 'PT18M', invocationPercentage: '100', preventExecution: 'true' },
        Targets: { Functions: 'Functions' },
      }),
    ]);
  });

  it('stops on the primary dead-letter alarm', () => {
    const [alarmId] = only(primary, 'AWS::CloudWatch::Alarm', { AlarmName: naming.name('alarm', 'dead-letters') });
    expect(experiment.Properties.StopConditions).toEqual([{ Source: 'aws:cloudwatch:alarm', Value: { 'Fn::GetAtt': [alarmId, 'Arn'] } }]);
  });

  it('runs with its own role and carries its name as the Name tag', () => {
    expect(experiment.Properties.RoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    expect(experiment.Properties.Tags).toEqual(expect.objectContaining({ Name: naming.name('experimentTemplate', Purpose.faultInjection) }));
  });

  it('publishes its id for the drill', () => {
    primary.hasResourceProperties('AWS::SSM::Parameter', {
      Name: naming.parameterName(ParameterKey.faultInjectionTemplateId),
      Value: { 'Fn::GetAtt': [templateId, 'Id'] },
    });
  });
});

describe('the experiment role', () => {
  it('is assumable only by FIS, for experiments of this account', () => {
    const statements = role.Properties.AssumeRolePolicyDocument.Statement;
    expect(statements).toHaveLength(1);
    expect(statements[0].Principal).toEqual({ Service: 'fis.amazonaws.com' });
    expect(statements[0].Condition.StringEquals).toEqual({ 'aws:SourceAccount': drills.config.account });
    expect(JSON.stringify(statements[0].Condition.ArnLike)).toContain(':experiment/*');
  });

  it('may write fault configurations, inspect the two targets and look up tags, and nothing else', () => {
    const granted = statementsOfRole(primary, roleId).map((statement) => ({ actions: asList(statement.Action).sort(), resources: asList(statement.Resource) }));
    expect(granted).toHaveLength(3);
    expect(granted).toEqual(
      expect.arrayContaining([
        { actions: ['s3:DeleteObject', 's3:PutObject'], resources: [configurationObjects] },
        { actions: ['lambda:GetFunction'], resources: targetArns },
        // The one unscoped statement: a tag read, which takes no resource-level scope.
        { actions: ['tag:GetResources'], resources: ['*'] },
      ]),
    );
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });
});

describe('the FIS extension on the targets', () => {
  const layerParameter = () => {
    const parameters = Object.entries(primary.toJSON().Parameters ?? {}) as Array<[string, Record<string, string>]>;
    const found = parameters.filter(([, parameter]) => parameter.Default === '/aws/service/fis/lambda-extension/AWS-FIS-extension-arm64/1.x.x');
    expect(found).toHaveLength(1);
    expect(found[0][1].Type).toBe('AWS::SSM::Parameter::Value<String>');
    return found[0][0];
  };

  it.each([Purpose.health, Purpose.orderIntake])('gives %s the arm64 layer AWS publishes, and the variables pointing it at the configuration', (purpose) => {
    const fn = primary.toJSON().Resources[functionId(purpose)] as Resource;
    expect(fn.Properties.Architectures).toEqual(['arm64']);
    expect(fn.Properties.Layers).toEqual([{ Ref: layerParameter() }]);
    expect(fn.Properties.Environment.Variables).toEqual(
      expect.objectContaining({
        AWS_FIS_CONFIGURATION_LOCATION: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${FIS_CONFIGURATION_PREFIX}`]] },
        AWS_LAMBDA_EXEC_WRAPPER: FIS_EXEC_WRAPPER,
      }),
    );
  });

  it.each([Purpose.health, Purpose.orderIntake])("lets %s's role list and read the configuration prefix only", (purpose) => {
    const fn = primary.toJSON().Resources[functionId(purpose)] as Resource;
    const statements = statementsOfRole(primary, fn.Properties.Role['Fn::GetAtt'][0]).filter((statement) => JSON.stringify(statement).includes(bucketId));
    expect(statements).toEqual([
      expect.objectContaining({
        Action: 's3:ListBucket',
        Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] },
        Condition: { StringLike: { 's3:prefix': [`${FIS_CONFIGURATION_PREFIX}*`] } },
      }),
      expect.objectContaining({ Action: 's3:GetObject', Resource: configurationObjects }),
    ]);
  });

  it('leaves every other function without the layer or the variables', () => {
    const others = Object.entries(primary.findResources('AWS::Lambda::Function')).filter(
      ([logicalId]) => !targetArns.some((arn) => arn['Fn::GetAtt'][0] === logicalId),
    );
    expect(others.length).toBeGreaterThan(0);
    for (const [, fn] of others) {
      expect(fn.Properties.Layers).toBeUndefined();
      expect(JSON.stringify(fn.Properties.Environment ?? {})).not.toContain('AWS_FIS');
    }
  });
});

describe('the configuration bucket', () => {
  it('is versioned, KMS-encrypted, private, TLS-only, logged, expires leftovers and goes with the stack', () => {
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({ SSEAlgorithm: 'aws:kms' });
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.Properties.LoggingConfiguration.LogFilePrefix).toBe(`${Purpose.faultInjection}/`);
    expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({ Status: 'Enabled', ExpirationInDays: 1, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }),
    ]);
    expect(bucket.DeletionPolicy).toBe('Delete');
    primary.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });
});

describe('where there is no fault injection', () => {
  it('would see every trace of it (the primary with drills has all of them)', () => {
    expect(fisTraces(primary.toJSON(), naming)).toHaveLength(6);
  });

  it('deploys none of it in the secondary region', () => {
    secondary.resourceCountIs('AWS::FIS::ExperimentTemplate', 0);
    expect(fisTraces(secondary.toJSON(), namingFor(drills.config, drills.config.secondaryRegion))).toEqual([]);
  });
});

describe('faultDuration', () => {
  const defaultsOf = { failoverTargetSeconds: 60, probeMinimumOutageSeconds: 30, maxFailoverDurationSeconds: 900 };

  it('covers DNS, the prober and the whole run plus the prober schedule, in whole minutes', () => {
    // 60 + 30 + 900 + 60 = 1050 s: 17.5 minutes, rounded up.
    expect(faultDuration(defaultsOf).toMinutes()).toBe(18);
    expect(faultDuration({ ...defaultsOf, maxFailoverDurationSeconds: 930 }).toMinutes()).toBe(18);
    expect(faultDuration({ ...defaultsOf, maxFailoverDurationSeconds: 931 }).toMinutes()).toBe(19);
  });

  it('refuses a fault longer than FIS allows one action to run', () => {
    expect(faultDuration({ ...defaultsOf, maxFailoverDurationSeconds: Duration.hours(12).toSeconds() - 150 }).toHours()).toBe(12);
    expect(() => faultDuration({ ...defaultsOf, maxFailoverDurationSeconds: Duration.hours(12).toSeconds() - 149 })).toThrow(
      /exceeds FIS's longest action, 12 hours/,
    );
  });
});
