import {
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  InvalidDBClusterStateFault,
  InvalidGlobalClusterStateFault,
  type RDSClient,
  SwitchoverGlobalClusterCommand,
} from '@aws-sdk/client-rds';
import type { Logger } from '@aws-lambda-powertools/logger';
import { withRetry } from '../shared/retry';

/**
 * Aurora global database promotion, following the Aurora User Guide ("Using switchover or
 * failover in Amazon Aurora Global Database",
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-disaster-recovery.html):
 * - a managed **switchover** (no data loss) is sent to "the AWS Region where the primary DB cluster
 *   of the Aurora global database is running", naming the target by ARN ("so that Aurora can
 *   locate the cluster in its AWS Region", API reference, SwitchoverGlobalCluster); Aurora first
 *   waits until the secondaries are fully synchronized, then demotes the old primary to a
 *   read-only secondary;
 * - a **failover allowing data loss** is sent to "the AWS Region where the secondary DB cluster
 *   that you want to be the new primary ... is running": it works when the primary's region does
 *   not answer, and drops whatever had not replicated yet. The old primary rejoins as a secondary
 *   by itself once its region recovers.
 * So the run can switch over only while the primary region's RDS control plane answers.
 */

import type { PromotionKind } from '../contracts/failover-steps';

export type { PromotionKind };

export interface GlobalClusterMemberView {
  readonly arn: string;
  readonly isWriter: boolean;
  /** `connected` or `pending-resync` (absent on a writer, or when Aurora does not report it). */
  readonly synchronization?: string;
}

export interface GlobalClusterView {
  readonly status: string;
  readonly writerArn?: string;
  readonly members: readonly GlobalClusterMemberView[];
}

/** What a promotion step may touch. */
export interface PromotionDependencies {
  readonly region: string;
  readonly peerRegion: string;
  readonly globalClusterId: string;
  /** This region's cluster ARN: the target of every promotion this orchestrator asks for. */
  readonly ownClusterArn: string;
  /** An RDS client in `region`: the own region's, or the other region's with cross-region timeouts. */
  readonly rds: (region: string) => RDSClient;
  readonly logger: Logger;
}

/** The region in an RDS ARN (`arn:aws:rds:<region>:<account>:cluster:<name>`). */
export function regionOfArn(arn: string): string {
  const region = arn.split(':')[3];
  if (!region) throw new Error(`not an ARN with a region: ${arn}`);
  return region;
}

/** The global cluster as `region`'s RDS control plane reports it. */
export async function readGlobalCluster(deps: PromotionDependencies, region: string): Promise<GlobalClusterView> {
  const response = await withRetry(
    `describe global cluster ${deps.globalClusterId} in ${region}`,
    () => deps.rds(region).send(new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: deps.globalClusterId })),
    // The client retries itself (with cross-region timeouts for the other region): one loop only.
    { attempts: 1 },
  );
  const cluster = response.GlobalClusters?.[0];
  if (!cluster) throw new Error(`global cluster ${deps.globalClusterId} not found in ${region}`);
  const members = (cluster.GlobalClusterMembers ?? []).map((member) => ({
    arn: member.DBClusterArn ?? '',
    isWriter: member.IsWriter === true,
    synchronization: member.SynchronizationStatus,
  }));
  return { status: cluster.Status ?? 'unknown', writerArn: members.find((member) => member.isWriter)?.arn, members };
}

export interface PromotionPlan {
  /** What the run will do; undefined when it cannot promote under its mode. */
  readonly kind?: PromotionKind;
  /** The region the writer is in now (as this region's control plane reports it). */
  readonly writerRegion?: string;
  /** Why: what was read. */
  readonly detail: string;
}

/**
 * Decides the promotion from what the control planes answer, apart from what the prober saw:
 * a switchover whenever the primary's RDS control plane answers, the global cluster is
 * `available` and this region's cluster is a member in sync; otherwise a failover allowing data
 * loss, and only when the run allows data loss (an unplanned run that did not say otherwise).
 * `forced` (the unplanned drill's switch, test environment only) skips straight to the failover.
 */
export async function planPromotion(deps: PromotionDependencies, allowDataLoss: boolean, forced = false): Promise<PromotionPlan> {
  let own: GlobalClusterView;
  try {
    own = await readGlobalCluster(deps, deps.region);
  } catch (error) {
    return { detail: `this region's RDS control plane cannot describe the global cluster: ${(error as Error).message}` };
  }
  if (own.writerArn === deps.ownClusterArn) return { kind: 'none', writerRegion: deps.region, detail: `${deps.region} is already the writer` };
  const writerRegion = own.writerArn ? regionOfArn(own.writerArn) : deps.peerRegion;
  if (forced) return { kind: 'failover', writerRegion, detail: "forced by the unplanned drill's switch (test environment only): failover allowing data loss" };
  let reason: string;
  try {
    const primary = await readGlobalCluster(deps, writerRegion);
    const member = primary.members.find((each) => each.arn === deps.ownClusterArn);
    if (primary.status !== 'available') reason = `the global cluster is ${primary.status}, not available`;
    else if (!member) reason = `${deps.region}'s cluster is not (yet) a member of the global cluster`;
    else if (member.synchronization !== undefined && member.synchronization !== 'connected')
      reason = `${deps.region}'s cluster is ${member.synchronization}, not in sync`;
    else return { kind: 'switchover', writerRegion, detail: `${writerRegion}'s RDS control plane answers and ${deps.region} is in sync` };
  } catch (error) {
    reason = `${writerRegion}'s RDS control plane does not answer: ${(error as Error).message}`;
  }
  if (allowDataLoss) return { kind: 'failover', writerRegion, detail: `no switchover possible (${reason}): failover allowing data loss` };
  return { writerRegion, detail: `no switchover possible (${reason}), and this run does not allow data loss` };
}

/** Thrown while the global cluster is busy (another promotion settling): the state machine retries it. */
export class PromotionBusyError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PromotionBusy';
  }
}

export interface PromotionRequest {
  readonly requested: boolean;
  readonly kind: PromotionKind;
  /** The region the call was sent to. */
  readonly sentTo?: string;
}

/** Sends the promotion to the region the User Guide names for it (see above). */
export async function requestPromotion(deps: PromotionDependencies, kind: 'switchover' | 'failover'): Promise<PromotionRequest> {
  const own = await readGlobalCluster(deps, deps.region);
  if (own.writerArn === deps.ownClusterArn) return { requested: false, kind: 'none' };
  const sentTo = kind === 'switchover' ? (own.writerArn ? regionOfArn(own.writerArn) : deps.peerRegion) : deps.region;
  const command =
    kind === 'switchover'
      ? new SwitchoverGlobalClusterCommand({ GlobalClusterIdentifier: deps.globalClusterId, TargetDbClusterIdentifier: deps.ownClusterArn })
      : new FailoverGlobalClusterCommand({ GlobalClusterIdentifier: deps.globalClusterId, TargetDbClusterIdentifier: deps.ownClusterArn, AllowDataLoss: true });
  try {
    await deps.rds(sentTo).send(command as never);
  } catch (error) {
    if (error instanceof InvalidGlobalClusterStateFault || error instanceof InvalidDBClusterStateFault) {
      throw new PromotionBusyError(`${kind} of ${deps.globalClusterId} to ${deps.region} refused for now (sent to ${sentTo}): ${error.message}`, {
        cause: error,
      });
    }
    throw new Error(`${kind} of ${deps.globalClusterId} to ${deps.region} failed (sent to ${sentTo}): ${(error as Error).message}`, { cause: error });
  }
  deps.logger.info('promotion requested', { kind, sentTo, target: deps.ownClusterArn });
  return { requested: true, kind, sentTo };
}
