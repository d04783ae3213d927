import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { RegionRole } from '../core/region-settings';
import { globalTable, grantItemActions } from './global-table';
import { Naming, Purpose } from '../core/naming';

export { OrderJournalSchema } from '../../lambda/contracts/tables';
import { OrderJournalSchema } from '../../lambda/contracts/tables';

export interface OrderJournalProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The primary stage creates the global table; the secondary references its replica. */
  readonly role: RegionRole;
  /** The other replica's region. */
  readonly peerRegion: string;
  /** The MRSC witness region. */
  readonly witnessRegion: string;
}

/**
 * The order journal: where an order becomes durable in both regions before it is acknowledged.
 * A global table with multi-region strong consistency (replicas in both regions, a witness in a
 * third), so a successful conditional put means the order survives the loss of either region.
 *
 * Key design:
 * - partition key `orderKey`, the idempotency key `accountId/clientOrderId`: intake writes with
 *   `attribute_not_exists(orderKey)`, so the same account's client order id twice yields one
 *   order, and a busy account spreads over partitions;
 * - `pendingShard` is set at intake and removed once the processor has committed the order to
 *   Aurora, so the sparse index `pending-by-shard` (sorted by `acceptedAt`) lists exactly the
 *   entries reconciliation must replay after a failover. Sharding the key spreads intake bursts.
 *   MRSC does not offer TTL or transactions, and this design needs neither.
 */
export class OrderJournal extends Construct {
  /** This region's replica of the journal. */
  public readonly table: dynamodb.ITableV2;

  constructor(scope: Construct, id: string, props: OrderJournalProps) {
    super(scope, id);
    this.table = globalTable(this, 'Table', {
      naming: props.naming,
      purpose: Purpose.orderJournal,
      role: props.role,
      peerRegion: props.peerRegion,
      strongConsistencyWitnessRegion: props.witnessRegion,
      partitionKey: { name: OrderJournalSchema.orderKey, type: dynamodb.AttributeType.STRING },
      globalSecondaryIndexes: [
        {
          indexName: OrderJournalSchema.pendingIndex,
          partitionKey: { name: OrderJournalSchema.pendingShard, type: dynamodb.AttributeType.STRING },
          sortKey: { name: OrderJournalSchema.acceptedAt, type: dynamodb.AttributeType.STRING },
          projectionType: dynamodb.ProjectionType.ALL,
        },
      ],
    });
  }

  /** Intake: journal a new order (a conditional put) and read an entry back when a client repeats an order. */
  public grantAppend(grantee: iam.IGrantable): iam.Grant {
    return grantItemActions(this.table, grantee, 'dynamodb:PutItem', 'dynamodb:GetItem');
  }

  /** Read one entry by its key (order lookup, the health check). */
  public grantReadEntries(grantee: iam.IGrantable): iam.Grant {
    return grantItemActions(this.table, grantee, 'dynamodb:GetItem');
  }

  /** The processor: mark an entry applied once its order is committed to Aurora. */
  public grantMarkApplied(grantee: iam.IGrantable): iam.Grant {
    return grantItemActions(this.table, grantee, 'dynamodb:UpdateItem');
  }

  /**
   * Reconciliation: candidates from the pending index, decisions from strongly consistent reads of
   * the entries, and marking them applied.
   */
  public grantReconcile(grantee: iam.IGrantable): void {
    grantItemActions(this.table, grantee, 'dynamodb:UpdateItem', 'dynamodb:BatchGetItem');
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'QueryPendingIndex',
        actions: ['dynamodb:Query'],
        resources: [`${this.table.tableArn}/index/${OrderJournalSchema.pendingIndex}`],
      }),
    );
  }
}
