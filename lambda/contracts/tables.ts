/**
 * Attribute names, keys and well-known items of the DynamoDB tables, shared by the constructs
 * that create the tables (lib/) and the handlers that use them. Kept free of CDK imports so the
 * handlers' bundles stay small.
 */

export const OrderJournalSchema = {
  /** Partition key: the idempotency key, `accountId/clientOrderId` (orderKeyOf in order.ts). */
  orderKey: 'orderKey',
  /** Present only until the order is in Aurora: `p#0` .. `p#{shards-1}`. */
  pendingShard: 'pendingShard',
  /** ISO-8601 time the order was accepted; sort key of the pending index. */
  acceptedAt: 'acceptedAt',
  /** Sparse index of entries not yet applied to Aurora, for reconciliation after failover. */
  pendingIndex: 'pending-by-shard',
} as const;

export const ControlTableSchema = {
  /** Partition key. */
  pk: 'pk',
  /** The item holding the active region and the fencing epoch. */
  activeRegionItem: 'active-region',
  /** The item a running failover holds as its lock. */
  failoverLockItem: 'failover-lock',
  /**
   * While this item exists, the prober starts no failover or failback and corrects no role
   * (operators pause automation during a market event or maintenance; README, "Operator control").
   */
  automationPauseItem: 'automation-pause',
  /**
   * Where the active region's last reconciliation stopped when its time ran out (its epoch, the
   * pending-index shard and the page's start key): the next scheduled run resumes there.
   */
  reconcileCursorItem: 'reconcile-cursor',
  activeRegion: 'activeRegion',
  /** Increases by one on every change of the active region; processors commit only under the current one. */
  fencingEpoch: 'fencingEpoch',
  /** Regions whose /health must report unavailable, so Route 53 moves traffic away (a planned failover). */
  drainedRegions: 'drainedRegions',
} as const;

export const SessionStoreSchema = {
  sessionId: 'sessionId',
  /** Epoch seconds after which DynamoDB deletes the session. */
  expiresAt: 'expiresAt',
} as const;
