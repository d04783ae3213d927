import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { RegionRole } from '../core/region-settings';
import { Naming } from '../core/naming';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

export interface GlobalTableProps {
  /** Names for this region's resources; the table name is the same in both regions. */
  readonly naming: Naming;
  /** What the table is for (the `{purpose}` of its name). */
  readonly purpose: string;
  /** The primary stage owns the global table; the secondary references its own replica by name. */
  readonly role: RegionRole;
  /** The other replica's region (the secondary's, seen from the primary). */
  readonly peerRegion: string;
  /** Partition key. */
  readonly partitionKey: dynamodb.Attribute;
  /** Sort key. @default - none */
  readonly sortKey?: dynamodb.Attribute;
  /** Global secondary indexes. @default - none */
  readonly globalSecondaryIndexes?: dynamodb.GlobalSecondaryIndexPropsV2[];
  /**
   * Strong consistency across regions (MRSC) with this witness region: a write is acknowledged
   * only once it is durable in two of the three regions. @default - eventual consistency (MREC)
   */
  readonly strongConsistencyWitnessRegion?: string;
  /** Attribute holding each item's expiry (epoch seconds). Not allowed with MRSC. @default - no TTL */
  readonly timeToLiveAttribute?: string;
}

/**
 * A DynamoDB global table with replicas in both regions: on-demand, point-in-time recovery on
 * every replica, encrypted with the AWS managed key (a customer key would have to exist in the
 * secondary region before the primary creates the replica there), destroyed with the stack.
 * The primary stage creates it; the secondary stage imports its local replica by name.
 */
export function globalTable(scope: Construct, id: string, props: GlobalTableProps): dynamodb.ITableV2 {
  const tableName = props.naming.name('table', props.purpose);
  if (props.role === RegionRole.SECONDARY) {
    return dynamodb.TableV2.fromTableName(scope, id, tableName);
  }
  if (props.strongConsistencyWitnessRegion && props.timeToLiveAttribute) {
    throw new Error(`globalTable ${tableName}: DynamoDB does not offer TTL on strongly consistent (MRSC) global tables`);
  }
  return new dynamodb.TableV2(scope, id, {
    tableName,
    partitionKey: props.partitionKey,
    sortKey: props.sortKey,
    globalSecondaryIndexes: props.globalSecondaryIndexes,
    billing: dynamodb.Billing.onDemand(),
    encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: false,
    removalPolicy: RemovalPolicy.DESTROY,
    timeToLiveAttribute: props.timeToLiveAttribute,
    replicas: [{ region: props.peerRegion }],
    ...(props.strongConsistencyWitnessRegion
      ? { multiRegionConsistency: dynamodb.MultiRegionConsistency.STRONG, witnessRegion: props.strongConsistencyWitnessRegion }
      : { multiRegionConsistency: dynamodb.MultiRegionConsistency.EVENTUAL }),
  });
}

/**
 * Grants item actions on the table itself, not its indexes: `ITableV2.grant` also grants
 * `{table}/index/*`, which none of the handlers that use this needs.
 */
export function grantItemActions(table: dynamodb.ITableV2, grantee: iam.IGrantable, ...actions: string[]): iam.Grant {
  return iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [table.tableArn] });
}

/** How long a write in `naming.region` takes to reach the replica in `receivingRegion`, in milliseconds. */
export function tableReplicationLatency(naming: Naming, tableName: string, receivingRegion: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/DynamoDB',
    metricName: 'ReplicationLatency',
    dimensionsMap: { TableName: tableName, ReceivingRegion: receivingRegion },
    statistic: 'Maximum',
    period: Duration.minutes(1),
    region: naming.region,
  });
}
