import { Duration, RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { AppConfig } from '../lib/core/config';

/**
 * Days a pipeline artifact is kept. An artifact is read by the run that wrote it (and by a retry
 * of its stages); three months keeps any run that can still be retried or inspected. Not config: it
 * changes nothing the deployment promises, only how long build outputs are billed.
 */
export const PIPELINE_ARTIFACT_EXPIRATION = Duration.days(90);

/** Incomplete multipart uploads are abandoned after this long (they are billed until removed). */
const ABORT_INCOMPLETE_UPLOADS_AFTER = Duration.days(7);

/** The lifecycle of every pipeline artifact bucket: old artifacts and replaced versions expire. */
export function pipelineArtifactLifecycle(config: Pick<AppConfig, 'noncurrentVersionExpirationDays'>): s3.LifecycleRule[] {
  return [
    {
      id: 'expire-old-artifacts',
      expiration: PIPELINE_ARTIFACT_EXPIRATION,
      noncurrentVersionExpiration: Duration.days(config.noncurrentVersionExpirationDays),
      abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOADS_AFTER,
    },
  ];
}

export interface PipelineSupportStackProps extends StackProps {
  /** The bucket's name (`pipelineReplicationBucketName`). */
  readonly bucketName: string;
  /** The alias of the bucket's key (CodePipeline names the key by its alias ARN, known without a reference). */
  readonly keyAlias: string;
  /** When replaced artifact versions expire. */
  readonly config: Pick<AppConfig, 'noncurrentVersionExpirationDays'>;
}

/**
 * The bucket CodePipeline copies artifacts into for actions in another region, under a key of its
 * own: the deploy roles of the environments' accounts read templates from here, and an AWS managed
 * key (aws/s3) cannot be shared with another account. CDK would create both in a support stack of
 * its own with a Retain policy on the bucket; these are destroyed with the stack. The pipeline
 * holds the bucket and the key's alias (physical names, no cross-region reference), so CDK grants
 * each action's role, the other accounts' deploy roles included, on the bucket's and the key's
 * policies here.
 */
export class PipelineSupportStack extends Stack {
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: PipelineSupportStackProps) {
    super(scope, id, props);
    const key = new kms.Key(this, 'ReplicationKey', {
      description: "Encrypts the pipeline's artifacts copied to this region",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const alias = new kms.Alias(this, 'ReplicationKeyAlias', { aliasName: props.keyAlias, targetKey: key, removalPolicy: RemovalPolicy.DESTROY });
    this.bucket = new s3.Bucket(this, 'Replication', {
      bucketName: props.bucketName,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: alias,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      lifecycleRules: pipelineArtifactLifecycle(props.config),
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: "Build artifacts copied for actions in this region, written and read by the pipeline's roles; CloudTrail records the API calls",
    });
  }
}
