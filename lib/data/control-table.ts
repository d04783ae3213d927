import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { RegionRole } from '../core/region-settings';
import { globalTable, grantItemActions } from './global-table';
import { Naming, Purpose } from '../core/naming';

export { ControlTableSchema } from '../../lambda/contracts/tables';
import { ControlTableSchema } from '../../lambda/contracts/tables';

export interface ControlTableProps {
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
 * The control table: the active region and a monotonically increasing fencing epoch, plus the
 * failover lock. Strongly consistent across regions (MRSC) on purpose: fencing relies on a
 * conditional write that must not succeed in both regions at once, which last-writer-wins
 * replication (MREC) cannot promise. With a witness, the surviving region still commits when
 * the other is down.
 */
export class ControlTable extends Construct {
  /** This region's replica of the control table. */
  public readonly table: dynamodb.ITableV2;

  constructor(scope: Construct, id: string, props: ControlTableProps) {
    super(scope, id);
    this.table = globalTable(this, 'Table', {
      naming: props.naming,
      purpose: Purpose.control,
      role: props.role,
      peerRegion: props.peerRegion,
      strongConsistencyWitnessRegion: props.witnessRegion,
      partitionKey: { name: ControlTableSchema.pk, type: dynamodb.AttributeType.STRING },
    });
  }

  /** Read the recorded state: the active region and epoch, the lock, the prober's record. */
  public grantReadState(grantee: iam.IGrantable): iam.Grant {
    return grantItemActions(this.table, grantee, 'dynamodb:GetItem');
  }

  /** The prober: read the state and keep its own record of the peer's outages and recoveries. */
  public grantTrackOutages(grantee: iam.IGrantable): iam.Grant {
    return grantItemActions(this.table, grantee, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem');
  }

  /** Reconciliation: where a run that ran out of time stopped. It may write that item and no other. */
  public grantReconcileCursor(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RecordReconcileCursor',
        actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [ControlTableSchema.reconcileCursorItem] } },
      }),
    );
  }
}
