import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { AppConfig } from '../core/config';
import { Naming, Purpose, regionCode } from '../core/naming';
import { ReplicationRole } from './storage-replication';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** Incomplete multipart uploads are abandoned after this long (they are billed until removed). */
const ABORT_INCOMPLETE_UPLOADS_AFTER = Duration.days(7);

/** Where this region's buckets replicate to (set in the stage that deploys second). */
export interface StorageReplicationTarget {
  /** The destination region. */
  readonly region: string;
  /** The destination region's storage key, which replicas are encrypted with. */
  readonly keyArn: string;
}

/** The config keys the buckets read (lib/core/config.ts documents and defaults each). */
export type StorageConfig = Pick<
  AppConfig,
  'noncurrentVersionExpirationDays' | 'auditLogTransitionDays' | 'auditLogExpirationDays' | 'accessLogExpirationDays'
>;

export interface StorageProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The buckets' lifecycle: when versions and logs expire, when audit logs move to Glacier. */
  readonly config: StorageConfig;
  /** Replicate the config and audit buckets to the peer region's. @default - no replication rule here */
  readonly replicateTo?: StorageReplicationTarget;
}

/**
 * One region's buckets: configuration and audit logs, each versioned, encrypted with this
 * region's storage key, TLS-only, never public, logging access to a log bucket, with lifecycle
 * rules from config, and emptied on teardown. With `replicateTo`, both replicate to the peer
 * region's buckets of the same purpose, with Replication Time Control and delete markers.
 */
export class Storage extends Construct {
  /** Replication from this region's buckets to the peer region's (rule `to-<peer code>`), by name alone. */
  public static replicationMetricsIn(naming: Naming, peerRegion: string) {
    return REPLICATED_BUCKET_PURPOSES.map((purpose) => {
      const dimensionsMap = {
        SourceBucket: naming.name('bucket', purpose),
        DestinationBucket: naming.forRegion(peerRegion).name('bucket', purpose),
        RuleId: `to-${regionCode(peerRegion)}`,
      };
      const metric = (metricName: string, statistic: string) =>
        new cloudwatch.Metric({ namespace: 'AWS/S3', metricName, dimensionsMap, statistic, period: Duration.minutes(1), region: naming.region });
      return {
        purpose,
        /** Seconds objects take to reach the other region. */
        latency: metric('ReplicationLatency', 'Maximum'),
        /** Objects that failed to replicate. */
        failedOperations: metric('OperationsFailedReplication', 'Sum'),
      };
    });
  }

  /** Application configuration. */
  public readonly configBucket: s3.IBucket;
  /** Audit logs. */
  public readonly auditBucket: s3.IBucket;
  /** Server access logs of the two above. */
  public readonly accessLogBucket: s3.IBucket;
  /** The key the config and audit buckets are encrypted with. */
  public readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const { naming } = props;

    const key = new kms.Key(this, 'Key', {
      alias: naming.name('keyAlias', Purpose.storage),
      description: 'Config and audit buckets of this region',
      enableKeyRotation: true,
      pendingWindow: Duration.days(7),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.key = key;

    // S3 delivers server access logs only to a bucket whose default encryption is SSE-S3; SSE-KMS is
    // not supported ("Enabling Amazon S3 server access logging",
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html).
    // Listed in UNENCRYPTED_BY_DESIGN (lib/core/template-acknowledgments.ts). Versioned, so a log
    // overwritten or deleted stays recoverable until its noncurrent version expires.
    const accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      bucketName: naming.name('bucket', Purpose.accessLogs),
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: Duration.days(props.config.accessLogExpirationDays),
          noncurrentVersionExpiration: Duration.days(props.config.noncurrentVersionExpirationDays),
          abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOADS_AFTER,
        },
      ],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    Validations.of(accessLogBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the server access log bucket itself; logging its own access would log every log delivery again',
    });
    this.accessLogBucket = accessLogBucket;

    const replicationRole = props.replicateTo
      ? new ReplicationRole(this, 'Replication', {
          source: naming,
          destination: naming.forRegion(props.replicateTo.region),
          sourceKeyArn: key.keyArn,
          destinationKeyArn: props.replicateTo.keyArn,
        }).role
      : undefined;

    const noncurrentExpiration = Duration.days(props.config.noncurrentVersionExpirationDays);
    this.configBucket = this.bucket('Config', Purpose.config, props, replicationRole, [
      {
        id: 'expire-noncurrent-versions',
        noncurrentVersionExpiration: noncurrentExpiration,
        abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOADS_AFTER,
      },
    ]);
    this.auditBucket = this.bucket('Audit', Purpose.auditLogs, props, replicationRole, [
      {
        id: 'archive-then-expire-audit-logs',
        transitions: [{ storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(props.config.auditLogTransitionDays) }],
        expiration: Duration.days(props.config.auditLogExpirationDays),
        noncurrentVersionExpiration: noncurrentExpiration,
        abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOADS_AFTER,
      },
    ]);
  }

  private bucket(id: string, purpose: string, props: StorageProps, replicationRole: iam.IRole | undefined, lifecycleRules: s3.LifecycleRule[]): s3.IBucket {
    const { naming, replicateTo } = props;
    const destination = replicateTo
      ? s3.Bucket.fromBucketAttributes(this, `${id}Destination`, {
          bucketName: naming.forRegion(replicateTo.region).name('bucket', purpose),
          region: replicateTo.region,
        })
      : undefined;
    return new s3.Bucket(this, id, {
      bucketName: naming.name('bucket', purpose),
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: `${purpose}/`,
      lifecycleRules,
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
      ...(replicateTo && destination && replicationRole
        ? {
            replicationRole,
            replicationRules: [
              {
                id: `to-${regionCode(replicateTo.region)}`,
                destination,
                priority: 1,
                kmsKey: kms.Key.fromKeyArn(this, `${id}DestinationKey`, replicateTo.keyArn),
                sseKmsEncryptedObjects: true,
                deleteMarkerReplication: true,
                replicationTimeControl: s3.ReplicationTimeValue.FIFTEEN_MINUTES,
                metrics: s3.ReplicationTimeValue.FIFTEEN_MINUTES,
              },
            ],
          }
        : {}),
    });
  }
}

/** The buckets that replicate to the other region. */
export const REPLICATED_BUCKET_PURPOSES = [Purpose.config, Purpose.auditLogs] as const;
