import { Arn, ArnFormat, Duration, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as fis from 'aws-cdk-lib/aws-fis';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { AppConfig } from '../core/config';
import { acknowledgeScopedWildcards } from '../core/compliance';
import { LAMBDA_ARCHITECTURE } from '../core/lambda-defaults';
import { Naming, Purpose } from '../core/naming';

/*
 * AWS's pages this file relies on (AWS Fault Injection Service User Guide):
 * - "Use the AWS FIS aws:lambda:function actions",
 *   https://docs.aws.amazon.com/fis/latest/userguide/use-lambda-actions.html: the actions need the
 *   FIS extension as a layer on the target function and an S3 location, in the experiment's region,
 *   where FIS writes the fault configuration and the extension reads it; the read policy for the
 *   function (s3:ListBucket on the bucket limited by s3:prefix, s3:GetObject on the prefix) and the
 *   write policy for the experiment (s3:PutObject and s3:DeleteObject on the prefix,
 *   lambda:GetFunction, tag:GetResources); the function's variables AWS_FIS_CONFIGURATION_LOCATION
 *   (the S3 ARN of the prefix) and AWS_LAMBDA_EXEC_WRAPPER=/opt/aws-fis/bootstrap.
 * - "Available versions of the AWS FIS extension for Lambda",
 *   https://docs.aws.amazon.com/fis/latest/userguide/actions-lambda-extension-arns.html: the layer
 *   ARN per region and architecture is the SSM public parameter
 *   /aws/service/fis/lambda-extension/AWS-FIS-extension-<arm64|x86_64>/1.x.x.
 * - "AWS FIS Actions reference", https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html
 *   (aws:lambda:invocation-error): resource type aws:lambda:function, target key `Functions`,
 *   parameters duration (ISO 8601, one minute to 12 hours), invocationPercentage and preventExecution.
 * - "IAM roles for AWS FIS experiments", https://docs.aws.amazon.com/fis/latest/userguide/getting-started-iam-service-role.html:
 *   the experiment role is assumed by fis.amazonaws.com; aws:SourceAccount and aws:SourceArn guard
 *   against the confused deputy.
 */

/** The prefix of the configuration bucket FIS writes to and the extension reads (any folder name works; this is the docs' own). */
export const FIS_CONFIGURATION_PREFIX = 'FisConfigs/';

/** Where the extension's wrapper script lies once the layer is attached (AWS_LAMBDA_EXEC_WRAPPER). */
export const FIS_EXEC_WRAPPER = '/opt/aws-fis/bootstrap';

/** The SSM public parameter holding the newest 1.x FIS extension layer ARN for an architecture, in the stack's region. */
export function fisExtensionParameterName(architecture: lambda.Architecture): string {
  // Architecture.name is `arm64` or `x86_64`, the spelling the parameter path uses.
  return `/aws/service/fis/lambda-extension/AWS-FIS-extension-${architecture.name}/1.x.x`;
}

/** The action the unplanned drill injects: every invocation of the target fails without running the handler. */
export const INVOCATION_ERROR_ACTION = 'aws:lambda:invocation-error';

/** FIS refuses an action longer than 12 hours (actions reference, `duration`). */
const MAX_FAULT_DURATION = Duration.hours(12);

/**
 * Added to the fault's duration for the prober's schedule: it runs once a minute, so it may begin
 * probing up to a minute after the fault starts.
 */
const PROBER_SCHEDULE_MARGIN = Duration.minutes(1);

/**
 * FIS writes a configuration when an experiment starts and deletes it when it ends, and no
 * experiment runs longer than 12 hours: an object older than a day was left by an interrupted run.
 */
const LEFTOVER_CONFIGURATION_EXPIRATION = Duration.days(1);

/** The config keys that bound how long the drill's fault must last. */
export type FaultDurationConfig = Pick<AppConfig, 'failoverTargetSeconds' | 'probeMinimumOutageSeconds' | 'maxFailoverDurationSeconds'>;

/**
 * How long the fault lasts unless the drill stops it first (it stops the experiment as soon as the
 * unplanned run ends): long enough for DNS to move (`failoverTargetSeconds`), the prober to see
 * the outage (`probeMinimumOutageSeconds`, plus its one-minute schedule) and the whole data-losing
 * run (`maxFailoverDurationSeconds`), in whole minutes. The bound is what ends a fault whose drill
 * died, so the primary does not stay failed.
 */
export function faultDuration(config: FaultDurationConfig): Duration {
  const seconds = config.failoverTargetSeconds + config.probeMinimumOutageSeconds + config.maxFailoverDurationSeconds + PROBER_SCHEDULE_MARGIN.toSeconds();
  const duration = Duration.minutes(Math.ceil(seconds / 60));
  if (duration.toSeconds() > MAX_FAULT_DURATION.toSeconds()) {
    throw new Error(
      `FaultInjection: failoverTargetSeconds + probeMinimumOutageSeconds + maxFailoverDurationSeconds (${seconds} s with the prober's minute) ` +
        `exceeds FIS's longest action, ${MAX_FAULT_DURATION.toHours()} hours`,
    );
  }
  return duration;
}

export interface FaultInjectionProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The functions the fault fails (the primary's health and intake functions); each gets the extension. */
  readonly targets: readonly lambda.Function[];
  /** The alarm that stops the experiment: it means the drill harms more than the functions it fails. */
  readonly stopCondition: cloudwatch.IAlarm;
  /** How long the fault lasts unless stopped first (see `faultDuration`). */
  readonly duration: Duration;
  /** The bucket the configuration bucket's server access logs go to. */
  readonly accessLogBucket: s3.IBucket;
}

/**
 * What the unplanned drill needs from AWS Fault Injection Service in the primary region: an
 * experiment template that fails every invocation of the target functions (without running their
 * code) until it is stopped or its duration ends, the role FIS runs it with (those functions and
 * the configuration prefix only), the configuration bucket, and FIS's Lambda extension with its
 * variables on each target. Deployed only with `faultInjectionDrills` (the test environment).
 */
export class FaultInjection extends Construct {
  /** The experiment template the drill starts. */
  public readonly template: fis.CfnExperimentTemplate;
  /** The role FIS runs the experiment with. */
  public readonly role: iam.IRole;
  /** Where FIS writes the fault configuration and the extension reads it. */
  public readonly configurationBucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: FaultInjectionProps) {
    super(scope, id);
    const { naming } = props;
    this.configurationBucket = this.createConfigurationBucket(naming, props.accessLogBucket);
    const configurationObjects = this.configurationBucket.arnForObjects(`${FIS_CONFIGURATION_PREFIX}*`);
    this.role = this.createRole(naming, props.targets, configurationObjects);

    const layer = lambda.LayerVersion.fromLayerVersionArn(
      this,
      'ExtensionLayer',
      ssm.StringParameter.valueForStringParameter(this, fisExtensionParameterName(LAMBDA_ARCHITECTURE)),
    );
    for (const target of props.targets) this.prepareTarget(target, layer, configurationObjects);

    this.template = new fis.CfnExperimentTemplate(this, 'Template', {
      description: `Unplanned drill: every invocation of ${naming.region}'s health and intake functions fails`,
      roleArn: this.role.roleArn,
      targets: {
        Functions: { resourceType: 'aws:lambda:function', resourceArns: props.targets.map((target) => target.functionArn), selectionMode: 'ALL' },
      },
      actions: {
        FailInvocations: {
          actionId: INVOCATION_ERROR_ACTION,
          description: 'Fail every invocation without running the handler, as if the region had lost its functions',
          parameters: { duration: props.duration.toIsoString(), invocationPercentage: '100', preventExecution: 'true' },
          targets: { Functions: 'Functions' },
        },
      },
      // FIS stops the experiment when a stop condition's alarm enters ALARM ("Stop conditions for
      // AWS FIS", https://docs.aws.amazon.com/fis/latest/userguide/stop-conditions.html).
      stopConditions: [{ source: 'aws:cloudwatch:alarm', value: props.stopCondition.alarmArn }],
    });
    Tags.of(this.template).add('Name', naming.name('experimentTemplate', Purpose.faultInjection));
  }

  /** FIS's configuration location: encrypted with the aws/s3 key, versioned, TLS only, private, leftovers expired. */
  private createConfigurationBucket(naming: Naming, accessLogBucket: s3.IBucket): s3.Bucket {
    return new s3.Bucket(this, 'ConfigurationBucket', {
      bucketName: naming.name('bucket', Purpose.faultInjection),
      // The AWS managed key (as the pipeline's replication bucket): its key policy lets principals of
      // this account use it through S3, so neither FIS's role nor the functions need a KMS grant.
      encryption: s3.BucketEncryption.KMS_MANAGED,
      bucketKeyEnabled: true,
      versioned: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogBucket,
      serverAccessLogsPrefix: `${Purpose.faultInjection}/`,
      lifecycleRules: [
        {
          id: 'expire-leftover-configurations',
          expiration: LEFTOVER_CONFIGURATION_EXPIRATION,
          noncurrentVersionExpiration: LEFTOVER_CONFIGURATION_EXPIRATION,
          abortIncompleteMultipartUploadAfter: LEFTOVER_CONFIGURATION_EXPIRATION,
        },
      ],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
  }

  /** The experiment role: assumable by FIS for this account's experiments only; the targets and the configuration prefix only. */
  private createRole(naming: Naming, targets: readonly lambda.Function[], configurationObjects: string): iam.Role {
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'Role', {
      roleName: naming.name('role', Purpose.faultInjection),
      description: "FIS runs the unplanned drill's experiment with this role: Lambda invocation errors on the primary's health and intake functions",
      assumedBy: new iam.ServicePrincipal('fis.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': Arn.format({ service: 'fis', resource: 'experiment', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME }, stack),
          },
        },
      }),
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteFaultConfigurations',
        actions: ['s3:PutObject', 's3:DeleteObject'],
        resources: [configurationObjects],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({ sid: 'InspectTargetFunctions', actions: ['lambda:GetFunction'], resources: targets.map((target) => target.functionArn) }),
    );
    // The docs' policy for the Lambda actions includes the tag lookup FIS resolves targets with; the
    // action takes no resource-level scope and only reads tags.
    role.addToPolicy(new iam.PolicyStatement({ sid: 'ResolveTargets', actions: ['tag:GetResources'], resources: ['*'] }));
    acknowledgeScopedWildcards(
      role,
      [configurationObjects],
      'Fault configurations FIS writes below the configuration prefix; their names are chosen by FIS per experiment',
    );
    acknowledgeScopedWildcards(role, ['*'], 'tag:GetResources takes no resource-level scope and only reads tags (FIS target resolution)');
    return role;
  }

  /** The extension as a layer, its two variables, and read access to the configuration prefix. */
  private prepareTarget(target: lambda.Function, layer: lambda.ILayerVersion, configurationObjects: string): void {
    target.addLayers(layer);
    // The extension is not read by the handler, so these variables stay outside the handler's
    // contract (lambda/contracts/), which the function-contracts test holds to the default templates.
    target.addEnvironment('AWS_FIS_CONFIGURATION_LOCATION', this.configurationBucket.arnForObjects(FIS_CONFIGURATION_PREFIX));
    target.addEnvironment('AWS_LAMBDA_EXEC_WRAPPER', FIS_EXEC_WRAPPER);
    // The docs' read policy, narrower than bucket.grantRead (which adds s3:GetBucket* and s3:List*).
    target.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListFaultConfigurations',
        actions: ['s3:ListBucket'],
        resources: [this.configurationBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${FIS_CONFIGURATION_PREFIX}*`] } },
      }),
    );
    target.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadFaultConfigurations', actions: ['s3:GetObject'], resources: [configurationObjects] }));
    if (target.role)
      acknowledgeScopedWildcards(
        target.role,
        [configurationObjects],
        'Fault configurations FIS writes below the configuration prefix for the extension to read',
      );
  }
}
