import { App } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AppConfig } from '../lib/core/config';
import { RegionRole } from '../lib/core/region-settings';
import { Naming, Purpose } from '../lib/core/naming';
import { PipelineStack, pipelineReplicationBucketName } from '../pipeline/pipeline-stack';
import { PipelineSupportStack } from '../pipeline/pipeline-support-stack';
import { DrStage, stageId } from '../stages/dr-stage';

/**
 * The app's composition, next to its entry (bin/app.ts): either both regional stages for a direct
 * deployment, or the delivery pipeline that deploys them per environment. Compliance checks and
 * the synth gate are lib/core/compliance.ts.
 */

/** The two regional stages of one deployment, primary first (the order they deploy in). */
export interface DrDeployment {
  readonly primary: DrStage;
  readonly secondary: DrStage;
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
    stackName: Naming.forPipeline(config, config.secondaryRegion).name('stack', Purpose.delivery),
    bucketName: pipelineReplicationBucketName(config, config.secondaryRegion),
    config,
  });
  const pipeline = new PipelineStack(app, 'DrPipeline', {
    env,
    stackName: Naming.forPipeline(config, config.primaryRegion).name('stack', Purpose.delivery),
    config,
    settings: {
      repository: config.pipelineRepository,
      branch: config.pipelineBranch,
      connectionArn: config.pipelineConnectionArn,
      // The unplanned drill's fault injection exists in the test environment only, whatever the context says.
      test: { ...config, environmentSuffix: config.testEnvironmentSuffix, apiSubdomain: config.testApiSubdomain, faultInjectionDrills: true },
      production: { ...config, environmentSuffix: config.productionEnvironmentSuffix, faultInjectionDrills: false },
    },
    replicationBuckets: {
      [config.secondaryRegion]: s3.Bucket.fromBucketName(support, 'ReplicationRef', pipelineReplicationBucketName(config, config.secondaryRegion)),
    },
  });
  pipeline.addStackDependency(support);
  return pipeline;
}
