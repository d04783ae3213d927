import { App, IPolicyValidationContext, PolicyValidationPluginReport, Stack, Stage, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AppConfig, RegionRole } from './config';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Naming, Purpose, regionCode } from './naming';
import { PipelineStack, pipelineReplicationBucketName } from '../pipeline/pipeline-stack';
import { PipelineSupportStack } from '../pipeline/pipeline-support-stack';
import { DrStage } from '../stages/dr-stage';

/** The two regional stages of one deployment, primary first (the order they deploy in). */
export interface DrDeployment {
  readonly primary: DrStage;
  readonly secondary: DrStage;
}

/** Construct id of a stage: readable in `cdk ls` and unique per environment and region. */
export function stageId(config: AppConfig, role: RegionRole): string {
  const region = role === RegionRole.PRIMARY ? config.primaryRegion : config.secondaryRegion;
  return `Dr-${config.environmentSuffix}-${regionCode(region)}`;
}

/**
 * The cdk-nag AwsSolutions pack, checking one stage. A plugin registered on the App is never given
 * the stacks inside a Stage (its report stays empty), so each stage registers its own; and since
 * cdk-nag's own entry point walks the whole app from the root, this one walks only its stage, so
 * each stack is checked once.
 */
export class StageAwsSolutionsChecks extends AwsSolutionsChecks {
  constructor(private readonly scope: IConstruct) {
    super(scope, { writeSuppressionsToCloudFormation: true });
  }

  public override validate(_context: IPolicyValidationContext): PolicyValidationPluginReport {
    return this.validateScope(this.scope);
  }
}

/**
 * Registers the cdk-nag AwsSolutions pack on every stage of the app, however deep (the pipeline's
 * stages live in the pipeline stack), and on each stack directly under the app (the pipeline and
 * its support stack), each checked once.
 */
export function addComplianceChecks(app: App): void {
  for (const node of app.node.findAll()) {
    if (Stage.isStage(node) && node !== app) Validations.of(node).addPlugins(new StageAwsSolutionsChecks(node));
  }
  for (const child of app.node.children) {
    if (Stack.isStack(child)) Validations.of(app).addPlugins(new StageAwsSolutionsChecks(child));
  }
}

/** Adds both regional stages to `app` for direct deployment (`cdk deploy --all`). */
export function addDrStages(app: App, config: AppConfig): DrDeployment {
  const primary = new DrStage(app, stageId(config, RegionRole.PRIMARY), { config, role: RegionRole.PRIMARY });
  const secondary = new DrStage(app, stageId(config, RegionRole.SECONDARY), { config, role: RegionRole.SECONDARY });
  return { primary, secondary };
}

/**
 * The delivery pipeline instead of the direct stages: the pipeline stack in the primary region
 * (it deploys the test environment, drills it, waits for approval, deploys production) and the
 * support stack holding its artifact bucket in the secondary region.
 */
export function addPipeline(app: App, config: AppConfig): PipelineStack {
  const env = { account: config.account, region: config.primaryRegion };
  const support = new PipelineSupportStack(app, 'DrPipelineSupport', {
    env: { account: config.account, region: config.secondaryRegion },
    stackName: new Naming({ appName: config.appName, environmentSuffix: 'pipeline', account: config.account, region: config.secondaryRegion }).name('stack', Purpose.delivery),
    bucketName: pipelineReplicationBucketName(config, config.secondaryRegion),
  });
  const pipeline = new PipelineStack(app, 'DrPipeline', {
    env,
    stackName: new Naming({ appName: config.appName, environmentSuffix: 'pipeline', account: config.account, region: config.primaryRegion }).name('stack', Purpose.delivery),
    config,
    settings: {
      repository: config.pipelineRepository,
      branch: config.pipelineBranch,
      connectionArn: config.pipelineConnectionArn,
      test: { ...config, environmentSuffix: config.testEnvironmentSuffix, apiSubdomain: config.testApiSubdomain },
      production: { ...config, environmentSuffix: config.productionEnvironmentSuffix },
    },
    replicationBuckets: { [config.secondaryRegion]: s3.Bucket.fromBucketName(support, 'ReplicationRef', pipelineReplicationBucketName(config, config.secondaryRegion)) },
  });
  pipeline.addStackDependency(support);
  return pipeline;
}
