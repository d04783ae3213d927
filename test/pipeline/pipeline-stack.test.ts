import * as fs from 'fs';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../../lib/core/config';
import { addPipeline } from '../../bin/compose';
import { addComplianceChecks } from '../../lib/core/compliance';
import { newApp } from '../helpers/app';

// The pipeline as `cdk synth -c deployment=pipeline` builds it, compliance checks included.
const app = newApp();
const pipelineStack = addPipeline(app, parseConfig({ deployment: 'pipeline' }));
addComplianceChecks(app);
const assembly = app.synth();
const template = Template.fromStack(pipelineStack);
const [pipeline] = Object.values(template.findResources('AWS::CodePipeline::Pipeline'));
const stages = pipeline.Properties.Stages as Array<{
  Name: string;
  Actions: Array<{ Name: string; RunOrder: number; Configuration?: Record<string, unknown> }>;
}>;

/** Action names of a stage in the order they run. */
function actionsOf(stageName: string): string[] {
  const stage = stages.find((each) => each.Name === stageName);
  expect(stage).toBeDefined();
  return [...stage!.Actions].sort((a, b) => a.RunOrder - b.RunOrder).map((action) => action.Name);
}

describe('the delivery pipeline', () => {
  it('is a self-mutating CodePipeline V2', () => {
    expect(pipeline.Properties.PipelineType).toBe('V2');
    expect(stages.map((stage) => stage.Name).slice(0, 3)).toEqual(['Source', 'Build', 'UpdatePipeline']);
    expect(actionsOf('UpdatePipeline')).toEqual(['SelfMutate']);
    // One action publishes every file asset: one per asset would come near CodePipeline's 50 actions a stage.
    expect(actionsOf('Assets')).toEqual(['FileAssets']);
  });

  it('deploys the test environment region by region, drills failover, failback and the unplanned path, then asks before production', () => {
    const order = stages.map((stage) => stage.Name).filter((name) => name.startsWith('Dr-'));
    expect(order).toEqual(['Dr-test-use1', 'Dr-test-use2', 'Dr-prod-use1', 'Dr-prod-use2']);
    expect(actionsOf('Dr-test-use2').slice(-3)).toEqual(['FailoverDrill', 'FailbackDrill', 'UnplannedDrill']);
    const runOrder = (name: string) => stages.find((stage) => stage.Name === 'Dr-test-use2')!.Actions.find((action) => action.Name === name)!.RunOrder;
    expect(runOrder('UnplannedDrill')).toBeGreaterThan(runOrder('FailbackDrill'));
    expect(actionsOf('Dr-prod-use1')[0]).toBe('PromoteToProduction');
  });

  it('runs the README test command and synth in the build, from the connection source', () => {
    const source = stages.find((stage) => stage.Name === 'Source')!.Actions[0];
    expect(source.Configuration).toEqual(
      expect.objectContaining({ FullRepositoryId: 'example-org/trading-dr', BranchName: 'main', ConnectionArn: expect.stringContaining(':connection/') }),
    );
    const projects = JSON.stringify(template.findResources('AWS::CodeBuild::Project'));
    expect(projects).toContain('bash .ci/run');
    expect(projects).toContain('npx cdk synth');
    expect(projects).toContain('npm run drill -- --env test --app trading-dr --target us-east-2');
    expect(projects).toContain('--target us-east-1');
  });

  it("names the Node.js and Python versions in every CodeBuild step instead of taking the image's defaults", () => {
    const projects = Object.values(template.findResources('AWS::CodeBuild::Project'));
    expect(projects.length).toBeGreaterThanOrEqual(4); // synth, self-mutation, two drills
    for (const project of projects) {
      // The asset publishing step's buildspec is a file of the cloud assembly, named in the template.
      const source = project.Properties.Source.BuildSpec as string;
      const text = source.startsWith('buildspec-') ? fs.readFileSync(path.join(assembly.directory, source), 'utf8') : source;
      const buildSpec = JSON.parse(text) as { phases: { install: Record<string, unknown> } };
      expect(buildSpec.phases.install['runtime-versions']).toEqual({ nodejs: '20', python: '3.12' });
    }
  });

  it('runs every drill as the test environment’s drill role (test/pipeline/accounts.test.ts checks both roles)', () => {
    const projects = JSON.stringify(template.findResources('AWS::CodeBuild::Project'));
    expect(projects).toContain('npm run drill -- --unplanned --env test');
    expect(projects.match(/--role-arn arn:aws:iam::111111111111:role\/role-drill-use1-test/g)).toHaveLength(3);
  });

  it("backs up both environments in both regions, each copying to the other region's vault", () => {
    const stacks = assembly.nestedAssemblies.flatMap((nested) => nested.nestedAssembly.stacks).filter((stack) => /-use[12]-(test|prod)$/.test(stack.stackName));
    expect(stacks.map((stack) => stack.stackName).sort()).toEqual([
      'stack-regional-use1-prod',
      'stack-regional-use1-test',
      'stack-regional-use2-prod',
      'stack-regional-use2-test',
    ]);
    for (const stack of stacks) {
      const plans = Object.values(stack.template.Resources as Record<string, any>).filter((resource) => resource.Type === 'AWS::Backup::BackupPlan');
      expect(plans).toHaveLength(1);
      const [rule] = plans[0].Properties.BackupPlan.BackupPlanRule;
      const [, env] = /-(test|prod)$/.exec(stack.stackName)!;
      const peer = stack.stackName.includes('use1') ? 'us-east-2' : 'us-east-1';
      expect(rule.CopyActions).toEqual([
        expect.objectContaining({ DestinationBackupVaultArn: `arn:aws:backup:${peer}:111111111111:backup-vault:vault-backup-${env}` }),
      ]);
    }
  });

  it('deploys fault injection into the test environment only', () => {
    const templates = (prefix: string) =>
      assembly.nestedAssemblies
        .flatMap((nested) => nested.nestedAssembly.stacks)
        .filter((stack) => stack.stackName.includes(prefix))
        .map((stack) => JSON.stringify(stack.template));
    expect(templates('-test').some((each) => each.includes('AWS::FIS::ExperimentTemplate'))).toBe(true);
    expect(templates('-prod').some((each) => each.includes('AWS::FIS::ExperimentTemplate') || each.includes('"DRILL_SWITCH_ENABLED":"true"'))).toBe(false);
  });

  it('keeps nothing after teardown: its buckets and key are destroyed with it', () => {
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    template.allResources('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    template.allResources('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
    const support = assembly.getStackByName('stack-delivery-use2-pipeline');
    expect(JSON.stringify(support.template)).toContain('s3-pipeline-artifacts-use2-111111111111-pipeline');
    expect(JSON.stringify(support.template)).not.toContain('"Retain"');
  });

  it("gives the test environment its own API name, so its records and certificates never collide with production's in the shared zone", () => {
    const namesOf = (environment: string) =>
      assembly.nestedAssemblies
        .filter((nested) => nested.nestedAssembly.directory.includes(`-Dr-${environment}-`))
        .flatMap((nested) => nested.nestedAssembly.stacks)
        .flatMap((stack) => Object.values(stack.template.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>))
        .filter((resource) => ['AWS::Route53::RecordSet', 'AWS::ApiGateway::DomainName', 'AWS::CertificateManager::Certificate'].includes(resource.Type))
        .map(
          (resource) =>
            `${resource.Type} ${JSON.stringify(resource.Properties.Name ?? resource.Properties.DomainName)} ${JSON.stringify(resource.Properties.SetIdentifier ?? '')}`,
        );
    const test = namesOf('test');
    const production = namesOf('prod');
    expect(test.length).toBeGreaterThanOrEqual(6);
    expect(production.length).toBe(test.length);
    expect(test.filter((name) => production.includes(name))).toEqual([]);
    expect(test.join('\n')).toContain('api-test.trading.example.com');
    expect(production.join('\n')).toContain('"api.trading.example.com');
  });
});
