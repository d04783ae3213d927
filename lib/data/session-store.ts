import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { RegionRole } from '../core/region-settings';
import { globalTable } from './global-table';
import { Naming, Purpose } from '../core/naming';

export { SessionStoreSchema } from '../../lambda/contracts/tables';
import { SessionStoreSchema } from '../../lambda/contracts/tables';

export interface SessionStoreProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The primary stage creates the global table; the secondary references its replica. */
  readonly role: RegionRole;
  /** The other replica's region. */
  readonly peerRegion: string;
}

/**
 * Client sessions: a global table with eventual consistency (a session written in one region
 * is normally readable in the other within a second; losing the last second of session
 * updates in a regional failure only asks clients to re-authenticate), expiring by TTL.
 */
export class SessionStore extends Construct {
  /** This region's replica of the session table. */
  public readonly table: dynamodb.ITableV2;

  constructor(scope: Construct, id: string, props: SessionStoreProps) {
    super(scope, id);
    this.table = globalTable(this, 'Table', {
      naming: props.naming,
      purpose: Purpose.sessions,
      role: props.role,
      peerRegion: props.peerRegion,
      partitionKey: { name: SessionStoreSchema.sessionId, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: SessionStoreSchema.expiresAt,
    });
  }
}
