/**
 * How Route 53 answers a failover record pair, for tests of the code that relies on it. Rules from
 * the Route 53 Developer Guide ("Active-passive failover", "How Amazon Route 53 chooses records
 * when health checking is configured") and the API reference (ResourceRecordSet.Failover): "When
 * the secondary resource record set is unhealthy, Route 53 responds to DNS queries with the
 * applicable value from the primary resource record set regardless of the health of the primary
 * resource record set." So:
 * - the PRIMARY when it is healthy;
 * - the SECONDARY when the PRIMARY is unhealthy and the SECONDARY healthy;
 * - the PRIMARY when both are unhealthy.
 * A record's health is its calculated check: the region's /health check AND its evacuation
 * switch (lib/routing/failover-routing.ts). Health-check timing is not modelled here (the budget is
 * lib/failover/failover-budget.ts's); each answer reflects the health at the moment it is asked.
 */
export interface FailoverRecord {
  /** The record's value (the region's API Gateway domain target). */
  readonly target: string;
  /** Whether its calculated health check is healthy now. */
  readonly healthy: () => Promise<boolean>;
}

export class Route53FailoverModel {
  /** Every answer given, in order. */
  public readonly answers: string[] = [];

  constructor(
    private readonly primary: FailoverRecord,
    private readonly secondary: FailoverRecord,
  ) {}

  async answer(): Promise<string> {
    const [primaryHealthy, secondaryHealthy] = await Promise.all([this.primary.healthy(), this.secondary.healthy()]);
    const target = primaryHealthy ? this.primary.target : secondaryHealthy ? this.secondary.target : this.primary.target;
    this.answers.push(target);
    return target;
  }
}
