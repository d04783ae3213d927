import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { ControlTableSchema } from '../contracts/tables';

/** Who may commit orders and take traffic, from the control table. */
export interface ControlState {
  /** The region whose processors commit orders. */
  readonly activeRegion: string;
  /** Increases on every change of the active region. */
  readonly fencingEpoch: number;
  /** Regions that must not take traffic (their /health reports unavailable). */
  readonly drainedRegions: readonly string[];
  /** False when the item does not exist yet: the deployment's primary region is active, epoch 0. */
  readonly recorded: boolean;
}

/**
 * Reads the active-region item with a strongly consistent read (the table is MRSC, so this sees
 * every fencing write acknowledged in either region). Before the first failover there is no
 * item: the primary region is active.
 */
export async function readControlState(documents: DynamoDBDocumentClient, tableName: string, primaryRegion: string): Promise<ControlState> {
  const response = await documents.send(
    new GetCommand({ TableName: tableName, Key: { [ControlTableSchema.pk]: ControlTableSchema.activeRegionItem }, ConsistentRead: true }),
  );
  const item = response.Item;
  if (!item) return { activeRegion: primaryRegion, fencingEpoch: 0, drainedRegions: [], recorded: false };
  const activeRegion = item[ControlTableSchema.activeRegion];
  const fencingEpoch = item[ControlTableSchema.fencingEpoch];
  if (typeof activeRegion !== 'string' || typeof fencingEpoch !== 'number') {
    throw new Error(`control table ${tableName}: item ${ControlTableSchema.activeRegionItem} lacks a string activeRegion or a numeric fencingEpoch`);
  }
  const drained = item[ControlTableSchema.drainedRegions];
  return {
    activeRegion,
    fencingEpoch,
    drainedRegions: drained instanceof Set ? [...drained].map(String) : Array.isArray(drained) ? drained.map(String) : [],
    recorded: true,
  };
}
