import { RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

export interface PipelineSupportStackProps extends StackProps {
  /** The bucket's name (`pipelineReplicationBucketName`), known to the pipeline without a reference. */
  readonly bucketName: string;
}

/**
 * The bucket CodePipeline copies artifacts into for actions in another region. CDK would create
 * it in a support stack of its own with a Retain policy; this one is destroyed with the stack.
 */
export class PipelineSupportStack extends Stack {
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: PipelineSupportStackProps) {
    super(scope, id, props);
    this.bucket = new s3.Bucket(this, 'Replication', {
      bucketName: props.bucketName,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: "Build artifacts copied for actions in this region, written and read by the pipeline's roles; CloudTrail records the API calls",
    });
  }
}
