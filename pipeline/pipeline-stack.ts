import { Arn, CfnResource, RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as pipelines from 'aws-cdk-lib/pipelines';
import type { Construct } from 'constructs';
import { AppConfig, apiHostName } from '../lib/core/config';
import { RegionRole, regionSettings } from '../lib/core/region-settings';
import { acknowledgeGeneratedWildcards, acknowledgeScopedWildcards } from '../lib/core/compliance';
import { Naming, Purpose, regionCode } from '../lib/core/naming';
import { DRILL_STEPS, drillAccessRoleName, drillProjectRoleName, DrillStepId, DrillTrust } from '../lib/failover/drill-access';
import { unplannedTargets } from '../integ/unplanned-drill';
import { BackupVaultStage, backupVaultStageId } from '../stages/backup-vault-stage';
import { DrStage, stageId } from '../stages/dr-stage';
import { pipelineArtifactLifecycle } from './pipeline-support-stack';

const DRILL_STEP_IDS = Object.keys(DRILL_STEPS) as DrillStepId[];

/** The runtimes every CodeBuild step of the pipeline selects on the standard 7.0 image. */
export const BUILD_RUNTIMES = { nodejs: '20', python: '3.12' } as const;

/** Where the pipeline keeps its source, and which environments it promotes through. */
export interface PipelineSettings {
  /** `owner/repository` on the connection's provider. */
  readonly repository: string;
  /** The branch that triggers the pipeline. */
  readonly branch: string;
  /** The CodeConnections (CodeStar) connection to the repository. */
  readonly connectionArn: string;
  /** The test environment's config (its suffix names it). */
  readonly test: AppConfig;
  /** Production's config. */
  readonly production: AppConfig;
}

export interface PipelineStackProps extends StackProps {
  readonly settings: PipelineSettings;
  /** The pipeline's account and region: production's primary. */
  readonly config: AppConfig;
  /**
   * Buckets CodePipeline needs in each other region it deploys to, by region; named from
   * `pipelineReplicationBucketName`, created by the support stack there.
   */
  readonly replicationBuckets: Record<string, s3.IBucket>;
}

/** Name of the pipeline's artifact replication bucket in `region` (one per account and region). */
export function pipelineReplicationBucketName(config: AppConfig, region: string): string {
  return Naming.forPipeline(config, region).name('bucket', Purpose.pipelineArtifacts);
}

/**
 * The self-mutating delivery pipeline (CDK Pipelines, CodePipeline V2): source from a
 * CodeConnections connection; a synth step that installs what the tests need and runs the
 * README's test command and `cdk synth`; then the test environment's us-east-1 wave, its
 * us-east-2 wave, a failover drill to us-east-2 and a failback drill to us-east-1 (each fails
 * the pipeline when a figure misses its target), then the unplanned drill; a manual approval;
 * the backup account's vaults when one is configured; production's two waves. It lives in the
 * delivery account and deploys each environment into its own account (all one account by
 * default); every drill step acts as the test environment's drill role, which its CodeBuild role
 * may only assume. Its artifact buckets are destroyed with it.
 */
export class PipelineStack extends Stack {
  public readonly pipeline: pipelines.CodePipeline;
  /** The stages, in the order they deploy. */
  public readonly stages: DrStage[] = [];
  /** The pipeline's own config: the delivery account and its names. */
  private readonly deliveryConfig: AppConfig;
  /** The drill projects' roles (named, so the test account's drill role can trust them). */
  private readonly drillProjectRoles: iam.Role[] = [];

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { settings } = props;
    this.deliveryConfig = props.config;
    const naming = Naming.forPipeline(props.config, props.config.primaryRegion);

    const artifactKey = new kms.Key(this, 'ArtifactKey', {
      alias: naming.name('keyAlias', Purpose.pipelineArtifacts),
      description: "Encrypts the pipeline's artifacts and build outputs",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const artifactBucket = new s3.Bucket(this, 'Artifacts', {
      bucketName: naming.name('bucket', Purpose.pipelineArtifacts),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: artifactKey,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      lifecycleRules: pipelineArtifactLifecycle(props.config),
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    const codePipeline = new codepipeline.Pipeline(this, 'CodePipeline', {
      pipelineName: naming.name('pipeline', Purpose.delivery),
      pipelineType: codepipeline.PipelineType.V2,
      // One bucket per region the pipeline acts in, its own region's included (CodePipeline takes
      // either an artifact bucket or this map).
      crossRegionReplicationBuckets: { ...props.replicationBuckets, [this.region]: artifactBucket },
      restartExecutionOnUpdate: true,
    });

    const source = pipelines.CodePipelineSource.connection(settings.repository, settings.branch, { connectionArn: settings.connectionArn });
    this.pipeline = new pipelines.CodePipeline(this, 'Pipeline', {
      codePipeline,
      selfMutation: true,
      // One CodeBuild project publishes every file asset, not one project per asset: the stages hold
      // about fifty assets, which would fill one CodePipeline stage to its quota of 50 actions and
      // start as many builds at once as a new account's CodeBuild concurrency allows (often fewer).
      publishAssetsInParallel: false,
      synth: new pipelines.ShellStep('Synth', {
        input: source,
        installCommands: [
          // The Python tools the tests use, at the versions requirements-dev.txt pins (npm test would
          // set them up itself in a virtual environment; the build image's Python has them at once).
          'pip install --quiet -r requirements-dev.txt',
        ],
        commands: ['bash .ci/run', 'npx cdk synth'],
      }),
      codeBuildDefaults: {
        buildEnvironment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0, computeType: codebuild.ComputeType.MEDIUM },
        // Named, not the image's defaults (which change when a version reaches its end of life):
        // package.json needs Node.js 20.19 or later; cfn-lint and moto need Python 3.9 or later.
        partialBuildSpec: codebuild.BuildSpec.fromObject({ phases: { install: { 'runtime-versions': BUILD_RUNTIMES } } }),
      },
    });

    this.addEnvironment(settings.test, true);
    this.addEnvironment(settings.production, false);

    // Scoped to the pipeline's own constructs, never to the stages it deploys (they run their own checks).
    for (const scope of [this.pipeline, codePipeline, ...this.drillProjectRoles]) {
      acknowledgeGeneratedWildcards(
        scope,
        "Roles CDK Pipelines and CodePipeline generate or add to: artifact objects of this pipeline's buckets and data keys of its key, its own CodeBuild log streams and report groups, " +
          'the CDK bootstrap roles it assumes to deploy. The drill projects may besides only assume the drill role of the test environment',
      );
    }
    // CodePipeline names the us-east-2 bucket's key by its alias (the key's ARN would be a cross-region
    // reference), and CDK grants an alias on the role with Resource "*": the key's own policy decides.
    Validations.of(codePipeline.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "Use of the replication bucket's key in the other region, granted by its alias: the key is in another stack and region, so CDK cannot name its ARN; the delivery account holds only the pipeline's keys",
    });
    // Grants on the other regions' buckets are added while the pipeline is prepared, after aspects run.
    acknowledgeScopedWildcards(
      codePipeline.role,
      Object.values(props.replicationBuckets).map((bucket) => bucket.arnForObjects('*')),
      'The pipeline copies artifacts into its own replication bucket in each region it deploys to',
    );
    // cfn-lint's E3703 reads a CloudFormation deploy action's RoleArn as a literal string; in another
    // account CDK Pipelines writes it as Fn::Join with the partition, which the rule reports as "prefer
    // Fn::Sub" although CloudFormation accepts it. Only this resource skips the rule.
    (codePipeline.node.defaultChild as CfnResource).addMetadata('cfn-lint', { config: { ignore_checks: ['E3703'] } });
    Validations.of(artifactBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: "Build artifacts only, written and read by the pipeline's roles; CloudTrail records the API calls",
    });
  }

  private addEnvironment(config: AppConfig, drill: boolean): void {
    // The test environment's primary stage creates the role its drill steps assume; production's stages never do.
    const drillTrust: DrillTrust | undefined = drill
      ? { deliveryAccount: this.account, projectRoleNames: DRILL_STEP_IDS.map((step) => drillProjectRoleName(this.deliveryConfig, step)) }
      : undefined;
    const [primary, secondary] = [RegionRole.PRIMARY, RegionRole.SECONDARY].map((role) => {
      const stage = new DrStage(this, stageId(config, role), { config, role, drillTrust });
      this.stages.push(stage);
      return stage;
    });
    if (drill) {
      this.pipeline.addStage(primary);
      const failover = this.drillStep(config, RegionRole.SECONDARY, 'FailoverDrill');
      const failback = this.drillStep(config, RegionRole.PRIMARY, 'FailbackDrill');
      failback.addStepDependency(failover);
      // The unplanned path, with a real fault, after the planned drills and before the approval.
      const unplanned = this.unplannedDrillStep(config);
      unplanned.addStepDependency(failback);
      this.pipeline.addStage(secondary, { post: [failover, failback, unplanned] });
      return;
    }
    const approval = new pipelines.ManualApprovalStep('PromoteToProduction', {
      comment: `The test environment passed its failover drill and failback; deploy ${config.environmentSuffix}?`,
    });
    const { backupAccount } = config;
    if (backupAccount === undefined) {
      this.pipeline.addStage(primary, { pre: [approval] });
    } else {
      // Production's backup account: its vaults exist before production's plans copy into them.
      const wave = this.pipeline.addWave(`Dr-${config.environmentSuffix}-backup`, { pre: [approval] });
      for (const region of [config.primaryRegion, config.secondaryRegion]) {
        wave.addStage(new BackupVaultStage(this, backupVaultStageId(config, region), { config, backupAccount, region }));
      }
      this.pipeline.addStage(primary);
    }
    this.pipeline.addStage(secondary);
  }

  /**
   * A drill step's CodeBuild role, named so the test account's drill role can trust it: besides
   * what CodeBuild needs (logs, artifacts, which CDK Pipelines adds), it may only assume the drill
   * role. Everything the drill does, it does as that role, in the test environment's account.
   */
  private drillProjectRole(config: AppConfig, step: DrillStepId): { role: iam.Role; drillRoleArn: string } {
    const drillRoleArn = Arn.format({ service: 'iam', region: '', account: config.account, resource: 'role', resourceName: drillAccessRoleName(config) }, this);
    const role = new iam.Role(this, `${step}Role`, {
      roleName: drillProjectRoleName(this.deliveryConfig, step),
      description: `The pipeline's ${step} step: assumes the drill role of ${config.environmentSuffix} (${config.account})`,
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
    });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [drillRoleArn] }));
    this.drillProjectRoles.push(role);
    return { role, drillRoleArn };
  }

  /**
   * The unplanned drill (test environment only): FIS injects Lambda errors into the primary's health
   * and intake functions, and the step fails unless detection, the prober's unplanned run, DNS, the
   * orders in the secondary and the automatic failback all happen within their targets. As the
   * drill role, it may start and stop only that environment's experiment, set only its drill
   * switch, and read only its state machines, control item and API parameters.
   */
  private unplannedDrillStep(config: AppConfig): pipelines.CodeBuildStep {
    const targets = unplannedTargets(config);
    const { role, drillRoleArn } = this.drillProjectRole(config, 'UnplannedDrill');
    return new pipelines.CodeBuildStep('UnplannedDrill', {
      commands: [
        'npm ci',
        [
          `npm run drill -- --unplanned --env ${config.environmentSuffix} --app ${config.appName} --account ${config.account} --api-host ${apiHostName(config)}`,
          `--role-arn ${drillRoleArn}`,
          `--traffic-target-seconds ${targets.trafficSeconds} --detection-target-seconds ${targets.detectionSeconds}`,
          `--orders-target-seconds ${targets.ordersAcceptedSeconds} --run-target-seconds ${targets.failoverRunSeconds} --failback-target-seconds ${targets.failbackSeconds}`,
        ].join(' '),
      ],
      role,
    });
  }

  /** A drill that moves the active role to `role`'s region and fails when a figure misses its target. */
  private drillStep(config: AppConfig, role: RegionRole, id: 'FailoverDrill' | 'FailbackDrill'): pipelines.CodeBuildStep {
    const { region, peerRegion } = regionSettings(config, role);
    const { role: projectRole, drillRoleArn } = this.drillProjectRole(config, id);
    return new pipelines.CodeBuildStep(id, {
      commands: [
        'npm ci',
        [
          `npm run drill -- --env ${config.environmentSuffix} --app ${config.appName} --target ${region} --account ${config.account} --api-host ${apiHostName(config)}`,
          `--role-arn ${drillRoleArn} --traffic-target-seconds ${config.failoverTargetSeconds} --reason "pipeline ${id}"`,
        ].join(' '),
      ],
      role: projectRole,
      env: { DRILL_TARGET: region, DRILL_FROM: peerRegion, DRILL_TARGET_CODE: regionCode(region) },
    });
  }
}
