import { Arn, ArnFormat, RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
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
import { drillReportPrefix, Naming, ParameterKey, ParameterKeyName, Purpose, regionCode } from '../lib/core/naming';
import { unplannedTargets } from '../integ/unplanned-drill';
import { DrStage, stageId } from '../stages/dr-stage';
import { pipelineArtifactLifecycle } from './pipeline-support-stack';

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
 * the pipeline when a figure misses its target); a manual approval; production's two waves.
 * Its artifact buckets are destroyed with it.
 */
export class PipelineStack extends Stack {
  public readonly pipeline: pipelines.CodePipeline;
  /** The stages, in the order they deploy. */
  public readonly stages: DrStage[] = [];

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { settings } = props;
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
    for (const scope of [this.pipeline, codePipeline]) {
      acknowledgeGeneratedWildcards(
        scope,
        "Roles CDK Pipelines and CodePipeline generate: artifact objects of this pipeline's buckets and data keys of its key, its own CodeBuild log streams and report groups, " +
          "the CDK bootstrap roles it assumes to deploy; the drill steps read their own state machines' executions and GetMetricStatistics, which has no resource scope, " +
          "write reports below the audit bucket's drill prefix with its storage key (picked by alias), and the unplanned drill starts the experiment template tagged with its environment's name and stops the experiments it started",
      );
    }
    // Grants on the other regions' buckets are added while the pipeline is prepared, after aspects run.
    acknowledgeScopedWildcards(
      codePipeline.role,
      Object.values(props.replicationBuckets).map((bucket) => bucket.arnForObjects('*')),
      'The pipeline copies artifacts into its own replication bucket in each region it deploys to',
    );
    Validations.of(artifactBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: "Build artifacts only, written and read by the pipeline's roles; CloudTrail records the API calls",
    });
  }

  private addEnvironment(config: AppConfig, drill: boolean): void {
    const [primary, secondary] = [RegionRole.PRIMARY, RegionRole.SECONDARY].map((role) => {
      const stage = new DrStage(this, stageId(config, role), { config, role });
      this.stages.push(stage);
      return stage;
    });
    const isProduction = !drill;
    this.pipeline.addStage(
      primary,
      isProduction
        ? {
            pre: [
              new pipelines.ManualApprovalStep('PromoteToProduction', {
                comment: `The test environment passed its failover drill and failback; deploy ${config.environmentSuffix}?`,
              }),
            ],
          }
        : {},
    );
    if (!drill) {
      this.pipeline.addStage(secondary);
      return;
    }
    const failover = this.drillStep(config, RegionRole.SECONDARY, 'FailoverDrill');
    const failback = this.drillStep(config, RegionRole.PRIMARY, 'FailbackDrill');
    failback.addStepDependency(failover);
    // The unplanned path, with a real fault, after the planned drills and before the approval.
    const unplanned = this.unplannedDrillStep(config);
    unplanned.addStepDependency(failback);
    this.pipeline.addStage(secondary, { post: [failover, failback, unplanned] });
  }

  /** Writing a drill's report: objects below the drill prefix of the audit bucket, encrypted with its region's storage key (named by alias). */
  private reportStatements(config: AppConfig, region: string): iam.PolicyStatement[] {
    const naming = Naming.forDeployment(config, region);
    return [
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [
          Arn.format(
            {
              service: 's3',
              region: '',
              account: '',
              resource: naming.name('bucket', Purpose.auditLogs),
              resourceName: `${drillReportPrefix(config.environmentSuffix)}*`,
            },
            this,
          ),
        ],
      }),
      new iam.PolicyStatement({
        actions: ['kms:GenerateDataKey'],
        resources: [Arn.format({ service: 'kms', region, account: config.account, resource: 'key', resourceName: '*' }, this)],
        conditions: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': naming.name('keyAlias', Purpose.storage) } },
      }),
    ];
  }

  /**
   * The unplanned drill (test environment only): FIS injects Lambda errors into the primary's health
   * and intake functions, and the step fails unless detection, the prober's unplanned run, DNS, the
   * orders in the secondary and the automatic failback all happen within their targets. It may
   * start and stop only that environment's experiment, set only its drill switch, and read only
   * its state machines, control item and API parameters.
   */
  private unplannedDrillStep(config: AppConfig): pipelines.CodeBuildStep {
    const { primaryRegion, secondaryRegion, account } = config;
    const [primary, secondary] = [primaryRegion, secondaryRegion].map((region) => Naming.forDeployment(config, region));
    const targets = unplannedTargets(config);
    const parameter = (naming: Naming, key: ParameterKeyName) =>
      Arn.format({ service: 'ssm', region: naming.region, account, resource: 'parameter', resourceName: naming.parameterName(key).slice(1) }, this);
    const fis = (resource: string) => Arn.format({ service: 'fis', region: primaryRegion, account, resource, resourceName: '*' }, this);
    const stateMachines = [primary, secondary].map((naming) => ({ naming, name: naming.name('stateMachine', Purpose.failover) }));
    return new pipelines.CodeBuildStep('UnplannedDrill', {
      commands: [
        'npm ci',
        [
          `npm run drill -- --unplanned --env ${config.environmentSuffix} --app ${config.appName} --account ${account} --api-host ${apiHostName(config)}`,
          `--traffic-target-seconds ${targets.trafficSeconds} --detection-target-seconds ${targets.detectionSeconds}`,
          `--orders-target-seconds ${targets.ordersAcceptedSeconds} --run-target-seconds ${targets.failoverRunSeconds} --failback-target-seconds ${targets.failbackSeconds}`,
        ].join(' '),
      ],
      rolePolicyStatements: [
        new iam.PolicyStatement({
          actions: ['ssm:GetParameter'],
          resources: [
            parameter(primary, ParameterKey.faultInjectionTemplateId),
            ...[primary, secondary].map((naming) => parameter(naming, ParameterKey.apiRegionalDomainName)),
          ],
        }),
        new iam.PolicyStatement({ actions: ['ssm:PutParameter', 'ssm:DeleteParameter'], resources: [parameter(secondary, ParameterKey.drillForcedPromotion)] }),
        // The template's id is generated; its Name tag (from the naming helper) picks out this environment's.
        new iam.PolicyStatement({
          actions: ['fis:StartExperiment'],
          resources: [fis('experiment-template')],
          conditions: { StringEquals: { 'aws:ResourceTag/Name': primary.name('experimentTemplate', Purpose.faultInjection) } },
        }),
        new iam.PolicyStatement({ actions: ['fis:StartExperiment', 'fis:StopExperiment', 'fis:GetExperiment'], resources: [fis('experiment')] }),
        new iam.PolicyStatement({
          actions: ['states:ListExecutions'],
          resources: stateMachines.map(({ naming, name }) =>
            Arn.format(
              { service: 'states', region: naming.region, account, resource: 'stateMachine', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
              this,
            ),
          ),
        }),
        new iam.PolicyStatement({
          actions: ['states:DescribeExecution'],
          resources: stateMachines.map(({ naming, name }) =>
            Arn.format(
              { service: 'states', region: naming.region, account, resource: 'execution', resourceName: `${name}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
              this,
            ),
          ),
        }),
        new iam.PolicyStatement({
          actions: ['dynamodb:GetItem'],
          resources: [
            Arn.format(
              { service: 'dynamodb', region: secondaryRegion, account, resource: 'table', resourceName: secondary.name('table', Purpose.control) },
              this,
            ),
          ],
        }),
        ...this.reportStatements(config, secondaryRegion),
      ],
    });
  }

  /** A drill that moves the active role to `role`'s region and fails when a figure misses its target. */
  private drillStep(config: AppConfig, role: RegionRole, id: string): pipelines.CodeBuildStep {
    const { region, peerRegion } = regionSettings(config, role);
    const naming = Naming.forDeployment(config, region);
    const apiHost = apiHostName(config);
    return new pipelines.CodeBuildStep(id, {
      commands: [
        'npm ci',
        `npm run drill -- --env ${config.environmentSuffix} --app ${config.appName} --target ${region} --account ${config.account} --api-host ${apiHost} --traffic-target-seconds ${config.failoverTargetSeconds} --reason "pipeline ${id}"`,
      ],
      // Only what the drill does: run and read its state machine, read the control item, the
      // metrics and the API target parameter.
      rolePolicyStatements: [
        new iam.PolicyStatement({
          actions: ['states:StartExecution'],
          resources: [
            Arn.format(
              {
                service: 'states',
                region,
                account: config.account,
                resource: 'stateMachine',
                resourceName: naming.name('stateMachine', Purpose.failover),
                arnFormat: ArnFormat.COLON_RESOURCE_NAME,
              },
              this,
            ),
          ],
        }),
        new iam.PolicyStatement({
          actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
          resources: [
            Arn.format(
              {
                service: 'states',
                region,
                account: config.account,
                resource: 'execution',
                resourceName: `${naming.name('stateMachine', Purpose.failover)}:*`,
                arnFormat: ArnFormat.COLON_RESOURCE_NAME,
              },
              this,
            ),
          ],
        }),
        new iam.PolicyStatement({
          actions: ['dynamodb:GetItem'],
          resources: [
            Arn.format({ service: 'dynamodb', region, account: config.account, resource: 'table', resourceName: naming.name('table', Purpose.control) }, this),
          ],
        }),
        new iam.PolicyStatement({
          actions: ['ssm:GetParameter'],
          resources: [
            Arn.format(
              {
                service: 'ssm',
                region,
                account: config.account,
                resource: 'parameter',
                resourceName: naming.parameterName(ParameterKey.apiRegionalDomainName).slice(1),
              },
              this,
            ),
          ],
        }),
        // GetMetricStatistics has no resource-level permissions.
        new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricStatistics'], resources: ['*'] }),
        ...this.reportStatements(config, region),
      ],
      env: { DRILL_TARGET: region, DRILL_FROM: peerRegion, DRILL_TARGET_CODE: regionCode(region) },
    });
  }
}
