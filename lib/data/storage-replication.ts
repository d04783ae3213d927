import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { AwsCallSupport } from '../core/aws-call-support';
import { acknowledgeScopedWildcards } from '../core/compliance';
import { Naming, Purpose, regionCode } from '../core/naming';

/** The buckets that replicate between the regions, by purpose. */
export const REPLICATED_BUCKET_PURPOSES = [Purpose.config, Purpose.auditLogs] as const;

/** S3 Replication Time Control's only threshold: 99.99% of objects within 15 minutes. */
export const REPLICATION_TIME_MINUTES = 15;

/** What S3 answers when the bucket or its replication rule is already gone. */
const REPLICATION_ALREADY_GONE = 'NoSuchBucket|ReplicationConfigurationNotFoundError';

/** One direction of replication between the regions' buckets. */
export interface ReplicationDirection {
  /** Naming in the source region (bucket names, the role's name). */
  readonly source: Naming;
  /** Naming in the destination region. */
  readonly destination: Naming;
  /** The key the source buckets are encrypted with. */
  readonly sourceKeyArn: string;
  /** The key the destination buckets are encrypted with. */
  readonly destinationKeyArn: string;
}

/** `arn:aws:s3:::{name}` of a bucket built from its deterministic name. */
function bucketArn(stack: Stack, bucketName: string): string {
  return Arn.format({ service: 's3', region: '', account: '', resource: bucketName, arnFormat: ArnFormat.NO_RESOURCE_NAME }, stack);
}

/**
 * The role S3 assumes to replicate the source region's buckets to the destination region's: only
 * the permissions replication needs, on those buckets and keys by name. Both directions' roles
 * are created by the secondary stage (IAM is global); each carries its source region in its name.
 */
export class ReplicationRole extends Construct {
  /** The role. */
  public readonly role: iam.IRole;

  constructor(scope: Construct, id: string, direction: ReplicationDirection) {
    super(scope, id);
    const stack = Stack.of(this);
    const sourceBuckets = REPLICATED_BUCKET_PURPOSES.map((purpose) => bucketArn(stack, direction.source.name('bucket', purpose)));
    const destinationBuckets = REPLICATED_BUCKET_PURPOSES.map((purpose) => bucketArn(stack, direction.destination.name('bucket', purpose)));
    const sourceObjects = sourceBuckets.map((arn) => `${arn}/*`);
    const destinationObjects = destinationBuckets.map((arn) => `${arn}/*`);

    const role = new iam.Role(this, 'Role', {
      roleName: direction.source.name('role', Purpose.replication),
      description: `S3 replication from ${direction.source.region} to ${direction.destination.region}`,
      assumedBy: new iam.ServicePrincipal('s3.amazonaws.com'),
    });
    for (const statement of [
      new iam.PolicyStatement({
        sid: 'ReadSourceConfiguration',
        actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
        resources: sourceBuckets,
      }),
      new iam.PolicyStatement({
        sid: 'ReadSourceVersions',
        actions: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'],
        resources: sourceObjects,
      }),
      new iam.PolicyStatement({
        sid: 'WriteReplicas',
        actions: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'],
        resources: destinationObjects,
      }),
      new iam.PolicyStatement({
        sid: 'DecryptSource',
        actions: ['kms:Decrypt'],
        resources: [direction.sourceKeyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${direction.source.region}.amazonaws.com` } },
      }),
      new iam.PolicyStatement({
        sid: 'EncryptReplicas',
        actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [direction.destinationKeyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${direction.destination.region}.amazonaws.com` } },
      }),
    ]) {
      role.addToPolicy(statement);
    }
    acknowledgeScopedWildcards(
      role,
      [...sourceObjects, ...destinationObjects],
      'Replication reads and writes object versions of exactly these buckets; object keys are not known in advance',
    );
    this.role = role;
  }
}

/**
 * The S3 replication rule for one bucket, as the S3 API takes it: everything replicated, delete
 * markers included, KMS-encrypted objects re-encrypted with the destination key, with Replication
 * Time Control and its metrics.
 */
export function replicationConfiguration(role: iam.IRole, destinationBucketArn: string, destinationKeyArn: string, ruleId: string): Record<string, unknown> {
  return {
    Role: role.roleArn,
    Rules: [
      {
        ID: ruleId,
        Priority: 1,
        Status: 'Enabled',
        Filter: { Prefix: '' },
        DeleteMarkerReplication: { Status: 'Enabled' },
        SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
        Destination: {
          Bucket: destinationBucketArn,
          EncryptionConfiguration: { ReplicaKmsKeyID: destinationKeyArn },
          ReplicationTime: { Status: 'Enabled', Time: { Minutes: REPLICATION_TIME_MINUTES } },
          Metrics: { Status: 'Enabled', EventThreshold: { Minutes: REPLICATION_TIME_MINUTES } },
        },
      },
    ],
  };
}

export interface PeerBucketReplicationProps {
  /** Names in this (the secondary, destination) region. */
  readonly naming: Naming;
  /** The primary region, whose buckets get the rule. */
  readonly peerRegion: string;
  /** The key of this region's buckets. */
  readonly keyArn: string;
  /** The primary region's storage key (read from its SSM parameter). */
  readonly peerKeyArn: string;
}

/**
 * Replication from the primary region's buckets to this region's. A replication rule needs its
 * destination to exist, and the primary deploys first, so the secondary stage puts the rule on
 * the primary's buckets through S3 calls in the primary region, and removes it on teardown.
 * The rule is not part of the primary's template: the readiness check verifies it is in place.
 */
export class PeerBucketReplication extends Construct {
  /** The role S3 uses for the primary's buckets. */
  public readonly role: iam.IRole;

  constructor(scope: Construct, id: string, props: PeerBucketReplicationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const peer = props.naming.forRegion(props.peerRegion);
    this.role = new ReplicationRole(this, 'Replication', {
      source: peer,
      destination: props.naming,
      sourceKeyArn: props.peerKeyArn,
      destinationKeyArn: props.keyArn,
    }).role;
    const support = AwsCallSupport.of(this);

    for (const purpose of REPLICATED_BUCKET_PURPOSES) {
      const sourceBucketName = peer.name('bucket', purpose);
      const destinationBucketArn = bucketArn(stack, props.naming.name('bucket', purpose));
      const put: cr.AwsSdkCall = {
        service: 'S3',
        action: 'putBucketReplication',
        region: props.peerRegion,
        parameters: {
          Bucket: sourceBucketName,
          ReplicationConfiguration: replicationConfiguration(this.role, destinationBucketArn, props.keyArn, `to-${regionCode(props.naming.region)}`),
        },
        physicalResourceId: cr.PhysicalResourceId.of(`${props.peerRegion}:${sourceBucketName}:replication`),
      };
      new cr.AwsCustomResource(this, `Rule${purpose.replace(/(^|-)([a-z])/g, (_match, _dash, letter: string) => letter.toUpperCase())}`, {
        resourceType: 'Custom::PeerBucketReplication',
        ...support.customResourceProps(),
        onCreate: put,
        onUpdate: put,
        onDelete: {
          service: 'S3',
          action: 'deleteBucketReplication',
          region: props.peerRegion,
          parameters: { Bucket: sourceBucketName },
          ignoreErrorCodesMatching: REPLICATION_ALREADY_GONE,
        },
        policy: cr.AwsCustomResourcePolicy.fromStatements([
          new iam.PolicyStatement({
            actions: ['s3:PutReplicationConfiguration', 's3:GetReplicationConfiguration'],
            resources: [bucketArn(stack, sourceBucketName)],
          }),
          // S3 checks that the caller may hand the replication role to S3.
          new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: [this.role.roleArn] }),
        ]),
      });
    }
  }
}
