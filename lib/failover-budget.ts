/**
 * The failover time budget: how long, at worst, until DNS sends clients to the other region, and
 * apart from it, how long until writes are processed again. Computed from the same settings the
 * health checks and records are built from, and enforced by config validation.
 */

/** Route 53 offers only these health-check intervals (fast and standard). */
export const HEALTH_CHECK_INTERVALS = [10, 30] as const;
export type HealthCheckInterval = (typeof HEALTH_CHECK_INTERVALS)[number];

export interface FailoverTimings {
  /** Seconds between one Route 53 checker's requests. */
  readonly healthCheckIntervalSeconds: number;
  /** Consecutive failed checks before Route 53 calls the endpoint unhealthy. */
  readonly healthCheckFailureThreshold: number;
  /** TTL of the failover records: how long resolvers may keep the old answer. */
  readonly dnsTtlSeconds: number;
  /**
   * Allowance for Route 53 to carry a new health status to its name servers and for resolvers
   * that round TTLs up. Stated, not measured: the drill measures the real figure.
   */
  readonly dnsPropagationAllowanceSeconds: number;
  /** Expected Aurora promotion time (switchover or failover) until the new writer accepts writes. */
  readonly auroraPromotionSeconds: number;
}

export interface FailoverBudget {
  /** Interval × threshold: until the failing region is declared unhealthy. */
  readonly detectionSeconds: number;
  readonly ttlSeconds: number;
  readonly propagationSeconds: number;
  /** Worst case until clients reach the other region (order intake works from then on). */
  readonly trafficSeconds: number;
  /** Expected time until orders are processed again: traffic, or promotion if that takes longer (they run at once). */
  readonly processingSeconds: number;
}

export function failoverBudget(timings: FailoverTimings): FailoverBudget {
  const detectionSeconds = timings.healthCheckIntervalSeconds * timings.healthCheckFailureThreshold;
  const trafficSeconds = detectionSeconds + timings.dnsTtlSeconds + timings.dnsPropagationAllowanceSeconds;
  return {
    detectionSeconds,
    ttlSeconds: timings.dnsTtlSeconds,
    propagationSeconds: timings.dnsPropagationAllowanceSeconds,
    trafficSeconds,
    // The orchestrator starts promotion when detection ends, while DNS moves.
    processingSeconds: Math.max(trafficSeconds, detectionSeconds + timings.auroraPromotionSeconds),
  };
}

/** The budget as the README's table rows. */
export function budgetTable(timings: FailoverTimings): string {
  const budget = failoverBudget(timings);
  return [
    '| Step | Seconds |',
    '| --- | --- |',
    `| Detection: ${timings.healthCheckIntervalSeconds} s interval × ${timings.healthCheckFailureThreshold} failures | ${budget.detectionSeconds} |`,
    `| Record TTL | ${budget.ttlSeconds} |`,
    `| Propagation allowance | ${budget.propagationSeconds} |`,
    `| **Traffic in the other region (worst case)** | **${budget.trafficSeconds}** |`,
    `| Aurora promotion (expected, from detection) | ${timings.auroraPromotionSeconds} |`,
    `| Orders processed again (expected) | ${budget.processingSeconds} |`,
  ].join('\n');
}
