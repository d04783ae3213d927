import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseConfig } from '../../lib/core/config';
import { addPipeline } from '../../bin/compose';
import { addComplianceChecks } from '../../lib/core/compliance';
import { matchTemplateResource, TEMPLATE_ACKNOWLEDGMENTS, UNENCRYPTED_BY_DESIGN } from '../../lib/core/template-acknowledgments';
import { newApp, synthDeployment } from '../helpers/app';
import { nagTemplates, templateFilesOf, unencryptedResources } from '../helpers/template-nag';

/**
 * cdk-nag's AwsSolutions pack over every synthesized template, as CloudFormation receives them: the
 * direct deployment's two stages, and the pipeline with its support stack and its four stages.
 */
const direct = synthDeployment();
const pipelineApp = newApp();
addPipeline(pipelineApp, parseConfig({ deployment: 'pipeline' }));
addComplianceChecks(pipelineApp);
const templateFiles = new Map([...templateFilesOf(direct.assembly), ...templateFilesOf(pipelineApp.synth())]);
const templates = [...templateFiles.entries()].map(([id, file]) => [id, JSON.parse(fs.readFileSync(file, 'utf8'))] as [string, Record<string, any>]);
const regionalTemplates = templates.filter(([id]) => /Regional/.test(id));
const findings = nagTemplates(templateFiles);

/** Writes a template with these resources to a temporary file, named `Probe`. */
function probeTemplate(resources: Record<string, unknown>, parameters: Record<string, unknown> = {}): Map<string, string> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'template-nag-')), 'Probe.template.json');
  // A stage's parameters too: its resources may refer to them (an SSM public parameter, CDK's bootstrap version).
  fs.writeFileSync(file, JSON.stringify({ Parameters: parameters, Resources: resources }));
  return new Map([['Probe', file]]);
}

const BASIC_EXECUTION_ROLE_ARN = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaBasicExecutionRole']] };
const lambdaRole = { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {}, ManagedPolicyArns: [BASIC_EXECUTION_ROLE_ARN] } };

describe('cdk-nag AwsSolutions over the synthesized templates', () => {
  it('checks all eight templates: two direct stages, the pipeline, its support stack and its four stages', () => {
    expect(templateFiles.size).toBe(8);
  });

  it('finds nothing that is not acknowledged, in the app or at template level', () => {
    expect(findings).toEqual([]);
  });

  it("reads back the acknowledgments the app wrote into each resource's metadata: without them, the findings return", () => {
    // cdk-nag 3 reads acknowledgments from construct metadata only; a template's own metadata is
    // re-acknowledged by the check. Strip it from one stage and the findings it covered come back.
    const [stackId, template] = regionalTemplates.find(([id]) => id.startsWith('DrPipelineDrtest'))!;
    const stripped = JSON.parse(JSON.stringify(template));
    for (const resource of Object.values<any>(stripped.Resources)) delete resource.Metadata?.cdk_nag;
    const returned = nagTemplates(probeTemplate(stripped.Resources, stripped.Parameters)).map((finding) => finding.rule);
    expect(stackId).toMatch(/Regional/);
    expect(returned).toEqual(expect.arrayContaining(['AwsSolutions-RDS10', 'AwsSolutions-IAM5[Resource::*]', 'AwsSolutions-APIG4']));
  });

  it('fails on an unencrypted bucket without TLS or access logs in an included template', () => {
    const found = nagTemplates(probeTemplate({ Leaky: { Type: 'AWS::S3::Bucket', Properties: {} } }));
    expect(found).toEqual(
      expect.arrayContaining([
        { template: 'Probe', logicalId: 'Leaky', rule: 'AwsSolutions-S1' },
        { template: 'Probe', logicalId: 'Leaky', rule: 'AwsSolutions-S10' },
      ]),
    );
  });

  it("acknowledges a managed policy on CDK's provider roles only, by their logical ids, not on any other role", () => {
    const found = nagTemplates(
      probeTemplate({
        CustomS3AutoDeleteObjectsCustomResourceProviderRole3B1BD092: lambdaRole,
        CustomVpcRestrictDefaultSGCustomResourceProviderRole26592FE0: lambdaRole,
        OrderProcessorRole: lambdaRole,
      }),
    );
    expect(found.map((finding) => finding.logicalId)).toEqual(['OrderProcessorRole']);
    expect(found[0].rule).toMatch(/^AwsSolutions-IAM4\[Policy::.*AWSLambdaBasicExecutionRole\]$/);
  });

  it('gives every template-level acknowledgment and encryption exception a written reason', () => {
    for (const entry of [...TEMPLATE_ACKNOWLEDGMENTS, ...UNENCRYPTED_BY_DESIGN]) expect(entry.reason.length).toBeGreaterThanOrEqual(80);
  });
});

describe('encryption at rest in every synthesized template', () => {
  it('encrypts every log group with a KMS key, and every bucket, but for the listed access-log buckets', () => {
    const logGroups = templates.flatMap(([, template]) => Object.values<any>(template.Resources).filter((each) => each.Type === 'AWS::Logs::LogGroup'));
    expect(logGroups.length).toBeGreaterThanOrEqual(60);
    expect(templates.map(([id, template]) => ({ id, unencrypted: unencryptedResources(template) }))).toEqual(
      templates.map(([id]) => ({ id, unencrypted: [] })),
    );
    // The exception covers exactly one bucket per regional stack, its access-log bucket, on SSE-S3.
    const listed = regionalTemplates.flatMap(([, template]) =>
      Object.entries<any>(template.Resources).filter(([id, resource]) => matchTemplateResource(UNENCRYPTED_BY_DESIGN, resource.Type, id).length > 0),
    );
    expect(listed).toHaveLength(regionalTemplates.length);
    for (const [, bucket] of listed) {
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }]);
      expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    }
  });

  it('finds a log group without a key and a bucket with S3-managed keys when they are not listed', () => {
    const template = {
      Resources: {
        Plain: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 30 } },
        Keyed: { Type: 'AWS::Logs::LogGroup', Properties: { KmsKeyId: { 'Fn::GetAtt': ['Key', 'Arn'] } } },
        S3Managed: {
          Type: 'AWS::S3::Bucket',
          Properties: { BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } },
        },
        StorageAccessLogs0A1B2C3D: { Type: 'AWS::S3::Bucket', Properties: {} },
      },
    };
    expect(unencryptedResources(template)).toEqual(['Plain', 'S3Managed']);
  });

  it("encrypts each regional stack's log groups with its own log key, rotated, destroyed with the stack, usable only by this region's CloudWatch Logs", () => {
    for (const [, template] of regionalTemplates) {
      const keys = Object.entries<any>(template.Resources).filter(([id, resource]) => resource.Type === 'AWS::KMS::Key' && id.startsWith('LogEncryption'));
      expect(keys).toHaveLength(1);
      const [keyId, key] = keys[0];
      expect(key.DeletionPolicy).toBe('Delete');
      expect(key.Properties.EnableKeyRotation).toBe(true);
      const region = JSON.stringify(template).includes('us-east-2a') ? 'us-east-2' : 'us-east-1';
      const logsStatement = key.Properties.KeyPolicy.Statement.find((statement: any) => statement.Sid === 'CloudWatchLogsOfThisAccountAndRegion');
      expect(logsStatement.Principal).toEqual({ Service: `logs.${region}.amazonaws.com` });
      expect(logsStatement.Condition).toEqual({ ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:${region}:111111111111:log-group:*` } });
      for (const [logicalId, resource] of Object.entries<any>(template.Resources).filter(([, each]) => each.Type === 'AWS::Logs::LogGroup')) {
        // The GetAtt makes CloudFormation create the key, and its policy, before the group.
        expect({ logicalId, key: resource.Properties.KmsKeyId }).toEqual({ logicalId, key: { 'Fn::GetAtt': [keyId, 'Arn'] } });
      }
    }
  });
});

describe('logging and monitoring the templates show', () => {
  it("logs the API's web ACL to an encrypted aws-waf-logs- group in its own region", () => {
    for (const [, template] of regionalTemplates) {
      const resources = Object.values<any>(template.Resources);
      const [logging] = resources.filter((each) => each.Type === 'AWS::WAFv2::LoggingConfiguration');
      const [destination] = logging.Properties.LogDestinationConfigs;
      const group = resources.find((each) => each.Type === 'AWS::Logs::LogGroup' && each.Properties.LogGroupName?.startsWith('aws-waf-logs-'));
      expect(JSON.stringify(destination)).toContain(`:log-group:${group.Properties.LogGroupName}"`);
      expect(group.Properties.KmsKeyId).toBeDefined();
    }
  });

  it('turns on Aurora enhanced monitoring every 60 s (config default) with a role only RDS monitoring can assume', () => {
    for (const [, template] of regionalTemplates) {
      const instances = Object.values<any>(template.Resources).filter((each) => each.Type === 'AWS::RDS::DBInstance');
      expect(instances.length).toBeGreaterThanOrEqual(1);
      for (const instance of instances) {
        expect(instance.Properties.MonitoringInterval).toBe(60);
        const [roleId] = instance.Properties.MonitoringRoleArn['Fn::GetAtt'];
        expect(template.Resources[roleId].Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'monitoring.rds.amazonaws.com' });
      }
    }
  });
});
