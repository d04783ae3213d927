import { App } from 'aws-cdk-lib';
import { AppConfig, ConfigError } from '../lib/core/config';
import { deliveryConfig, directEnvironmentConfig, productionEnvironmentConfig, testEnvironmentConfig } from '../lib/core/environment-config';
import { RegionRole } from '../lib/core/region-settings';
import { Naming, Purpose } from '../lib/core/naming';
import { PipelineStack, pipelineReplicationBucketName } from '../pipeline/pipeline-stack';
import { PipelineSupportStack } from '../pipeline/pipeline-support-stack';
import { DrStage, stageId } from '../stages/dr-stage';

/**
 * The app's composition, next to its entry (bin/app.ts): either both regional stages for a direct
 * deployment, or the delivery pipeline that deploys them per environment; and how an entry point
 * (this app's, the integration apps') ends on invalid config. Compliance checks and the synth gate
 * are lib/core/compliance.ts.
 */

/** The two regional stages of one deployment, primary first (the order they deploy in). */
export interface DrDeployment {
  readonly primary: DrStage;
  readonly secondary: DrStage;
}

/**
 * Adds both regional stages to `app` for direct deployment (`cdk deploy --all`), in the account of
 * `environmentSuffix` (the test environment's, production's, or `account`).
 */
export function addDrStages(app: App, appConfig: AppConfig): DrDeployment {
  const config = directEnvironmentConfig(appConfig);
  const primary = new DrStage(app, stageId(config, RegionRole.PRIMARY), { config, role: RegionRole.PRIMARY });
  const secondary = new DrStage(app, stageId(config, RegionRole.SECONDARY), { config, role: RegionRole.SECONDARY });
  return { primary, secondary };
}

/**
 * The delivery pipeline instead of the direct stages: the pipeline stack in the primary region of
 * the delivery account (it deploys the test environment into the test account, drills it, waits
 * for approval, deploys production into production's account) and the support stack holding its
 * artifact bucket in the secondary region.
 */
export function addPipeline(app: App, appConfig: AppConfig): PipelineStack {
  const config = deliveryConfig(appConfig);
  const env = { account: config.account, region: config.primaryRegion };
  const supportNaming = Naming.forPipeline(config, config.secondaryRegion);
  const support = new PipelineSupportStack(app, 'DrPipelineSupport', {
    env: { account: config.account, region: config.secondaryRegion },
    stackName: supportNaming.name('stack', Purpose.delivery),
    bucketName: pipelineReplicationBucketName(config, config.secondaryRegion),
    keyAlias: supportNaming.name('keyAlias', Purpose.pipelineArtifacts),
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
      test: { ...testEnvironmentConfig(appConfig), faultInjectionDrills: true },
      production: { ...productionEnvironmentConfig(appConfig), faultInjectionDrills: false },
    },
    replicationBuckets: { [config.secondaryRegion]: support.bucket },
  });
  pipeline.addStackDependency(support);
  return pipeline;
}

/**
 * The config `load` returns, for an entry point (bin/app.ts, the integration apps). Invalid
 * config is the user's input, not a bug: its problems go to stderr, one `key: rule` line each,
 * without a stack trace, and the process exits 1.
 */
export function configOrExit(load: () => AppConfig): AppConfig {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}
