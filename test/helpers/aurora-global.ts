import {
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  InvalidGlobalClusterStateFault,
  RDSServiceException,
  SwitchoverGlobalClusterCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';

/**
 * A model of the Aurora global database control plane, for tests of the code that promotes it.
 * Each rule is from the Aurora User Guide, "Using switchover or failover in Amazon Aurora Global
 * Database" (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-disaster-recovery.html),
 * or the RDS API reference, and where the documentation is silent the model is stricter than AWS,
 * never kinder:
 * - switchover is sent to "the AWS Region where the primary DB cluster ... is running"; a call
 *   sent elsewhere is refused here (the guide names no other region);
 * - switchover "waits for the target secondary Region clusters to be fully synchronized", so it
 *   completes only once the replication lag has drained (`lagPolls` describes), and it needs the
 *   global cluster available and the target in sync (otherwise InvalidGlobalClusterStateFault);
 *   the old primary becomes a read-only secondary;
 * - failover with AllowDataLoss is sent to "the AWS Region where the secondary DB cluster that you
 *   want to be the new primary ... is running" and works while the primary's region is down;
 * - "As soon as that old primary Region is healthy and available again, Aurora automatically adds
 *   it back to the global cluster as a secondary Region": here it rejoins `pending-resync` and is
 *   `connected` after `resyncPolls` describes;
 * - a region whose control plane is down does not answer at all (the caller's timeout fires).
 */
export class AuroraGlobalModel {
  public writer: string;
  public status = 'available';
  /** Describes (in any region) before a requested promotion completes. */
  public lagPolls = 2;
  /** Describes before a rejoined old primary is in sync. */
  public resyncPolls = 2;
  /** The promotion never completes (a stalled switchover). */
  public neverCompletes = false;
  /** Promotion requests refused as busy before one is accepted. */
  public busyRefusals = 0;
  /** Every call: the action and the region it was sent to. */
  public readonly calls: { action: string; region: string }[] = [];
  /** Every failover allowing data loss accepted, and whether the writer's region answered then. */
  public readonly dataLosingFailovers: { writerRegionUp: boolean }[] = [];
  /** Promotions completed and old primaries rejoined, in order, for the data side to follow (test/helpers/aurora-storage.ts). */
  public readonly changes: ({ kind: 'switchover' | 'failover'; target: string } | { kind: 'rejoin'; region: string })[] = [];
  private readonly down = new Set<string>();
  /** Regions whose control plane answers, but with server errors. */
  private readonly failing = new Set<string>();
  private readonly synchronization = new Map<string, string>();
  private pending?: { target: string; polls: number };

  constructor(
    public readonly globalClusterId: string,
    /** Region → that region's cluster ARN. */
    public readonly clusters: Readonly<Record<string, string>>,
    writerRegion: string,
  ) {
    this.writer = clusters[writerRegion];
    for (const arn of Object.values(clusters)) if (arn !== this.writer) this.synchronization.set(arn, 'connected');
  }

  regionOf(arn: string): string {
    return Object.entries(this.clusters).find(([, each]) => each === arn)![0];
  }

  /** A region's RDS control plane stops answering (or answers again, and its old primary rejoins). */
  setRegionUp(region: string, up: boolean): void {
    if (up) {
      this.down.delete(region);
      const arn = this.clusters[region];
      if (arn !== this.writer && !this.synchronization.has(arn)) {
        this.synchronization.set(arn, 'pending-resync');
        this.changes.push({ kind: 'rejoin', region });
      }
    } else {
      this.down.add(region);
    }
  }

  /** The response of DescribeGlobalClusters, as the SDK (and Step Functions' SDK integration) return it. */
  describe(region: string): Record<string, unknown> {
    this.refuseIfDown(region, 'DescribeGlobalClusters');
    this.calls.push({ action: 'describe', region });
    this.advance();
    return {
      GlobalClusters: [
        {
          GlobalClusterIdentifier: this.globalClusterId,
          Status: this.status,
          GlobalClusterMembers: Object.values(this.clusters)
            .filter((arn) => arn === this.writer || this.synchronization.has(arn))
            .map((arn) => ({
              DBClusterArn: arn,
              IsWriter: arn === this.writer,
              ...(arn === this.writer ? {} : { SynchronizationStatus: this.synchronization.get(arn) }),
            })),
        },
      ],
    };
  }

  switchover(region: string, target: string): void {
    this.refuseIfDown(region, 'SwitchoverGlobalCluster');
    this.calls.push({ action: 'switchover', region });
    if (region !== this.regionOf(this.writer)) {
      throw new RDSServiceException({
        name: 'InvalidParameterValue',
        $fault: 'client',
        $metadata: {},
        message: `switchover must be sent to the primary's region (${this.regionOf(this.writer)}), not ${region}`,
      });
    }
    this.refuseIfBusy();
    if (this.status !== 'available' || this.synchronization.get(target) !== 'connected') {
      throw new InvalidGlobalClusterStateFault({
        $metadata: {},
        message: `global cluster ${this.status}, target ${this.synchronization.get(target) ?? 'not a member'}`,
      });
    }
    this.status = 'switching-over';
    this.pending = { target, polls: this.lagPolls };
  }

  failover(region: string, target: string, allowDataLoss: boolean | undefined): void {
    this.refuseIfDown(region, 'FailoverGlobalCluster');
    this.calls.push({ action: 'failover', region });
    if (region !== this.regionOf(target)) {
      throw new RDSServiceException({
        name: 'InvalidParameterValue',
        $fault: 'client',
        $metadata: {},
        message: `failover must be sent to the target's region (${this.regionOf(target)}), not ${region}`,
      });
    }
    if (allowDataLoss !== true) throw new Error('the model only covers failover allowing data loss');
    this.refuseIfBusy();
    this.dataLosingFailovers.push({ writerRegionUp: !this.down.has(this.regionOf(this.writer)) });
    this.status = 'failing-over';
    this.pending = { target, polls: this.lagPolls };
  }

  /** Lets a stalled promotion finish at the next describe (a switchover that completes late). */
  completePromotion(): void {
    this.neverCompletes = false;
    if (this.pending) this.pending.polls = 0;
  }

  /** An RDSClient stand-in for `region`: answers the three commands the failover code sends. */
  client(region: string): RDSClient {
    return {
      send: async (command: unknown) => {
        if (command instanceof DescribeGlobalClustersCommand) return this.describe(region);
        if (command instanceof SwitchoverGlobalClusterCommand) return (this.switchover(region, command.input.TargetDbClusterIdentifier!), {});
        if (command instanceof FailoverGlobalClusterCommand)
          return (this.failover(region, command.input.TargetDbClusterIdentifier!, command.input.AllowDataLoss), {});
        throw new Error(`the Aurora model does not answer ${(command as object).constructor.name}`);
      },
    } as unknown as RDSClient;
  }

  /** A region's RDS control plane answers every call with a server error (or recovers). */
  setRegionFailing(region: string, failing: boolean): void {
    if (failing) this.failing.add(region);
    else this.failing.delete(region);
  }

  /** Time passes (a simulation's tick): a pending promotion and a resynchronization move on as a describe would see. */
  elapse(): void {
    this.advance();
  }

  private advance(): void {
    if (this.pending && !this.neverCompletes) {
      if (this.pending.polls > 0) {
        this.pending.polls--;
      } else {
        const old = this.writer;
        this.writer = this.pending.target;
        this.changes.push({ kind: this.status === 'switching-over' ? 'switchover' : 'failover', target: this.regionOf(this.writer) });
        this.synchronization.delete(this.writer);
        // A switchover keeps the old primary as a secondary; a failover loses it until its region returns.
        if (this.status === 'switching-over' || !this.down.has(this.regionOf(old)))
          this.synchronization.set(old, this.status === 'switching-over' ? 'connected' : 'pending-resync');
        if (this.status !== 'switching-over' && !this.down.has(this.regionOf(old))) this.changes.push({ kind: 'rejoin', region: this.regionOf(old) });
        this.status = 'available';
        this.pending = undefined;
      }
    }
    for (const [arn, state] of this.synchronization) {
      if (state === 'pending-resync' && !this.down.has(this.regionOf(arn))) {
        if (this.resyncPolls > 0) this.resyncPolls--;
        else this.synchronization.set(arn, 'connected');
      }
    }
  }

  private refuseIfDown(region: string, action: string): void {
    if (this.down.has(region)) throw Object.assign(new Error(`${action} in ${region}: no answer (connection timed out)`), { name: 'TimeoutError' });
    if (this.failing.has(region))
      throw new RDSServiceException({
        name: 'InternalFailure',
        $fault: 'server',
        $metadata: { httpStatusCode: 500 },
        message: `${action} in ${region}: internal failure`,
      });
  }

  private refuseIfBusy(): void {
    if (this.busyRefusals > 0) {
      this.busyRefusals--;
      throw new InvalidGlobalClusterStateFault({ $metadata: {}, message: 'the global cluster is busy' });
    }
  }
}
