/**
 * The failover time budget: how long, at worst, until DNS sends clients to the other region, and
 * apart from it, how long until writes are processed again. Computed from the same settings the
 * health checks and records are built from, and enforced by config validation. A second figure,
 * reported and not enforced, is the evacuation-switch path (a gray failure: the region still
 * answers /health, and an operator or the orchestrator throws the switch).
 *
 * Each term is either Route 53's documented behaviour (a constant here, not config) or a setting;
 * the settings named "allowance" are stated, not documented, and the drill measures the real figure.
 */

/** Route 53 offers only these health-check intervals (fast and standard). */
export const HEALTH_CHECK_INTERVALS = [10, 30] as const;
export type HealthCheckInterval = (typeof HEALTH_CHECK_INTERVALS)[number];

/**
 * "Route 53 must be able to establish a TCP connection with the endpoint within four seconds."
 * (Route 53 Developer Guide, "How Amazon Route 53 determines whether a health check is healthy",
 * https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html)
 * The check that completes the failure threshold can hang this long before it counts as failed.
 */
export const HEALTH_CHECKER_CONNECT_TIMEOUT_SECONDS = 4;

/**
 * "In addition, the endpoint must respond with an HTTP status code of 2xx or 3xx within two
 * seconds after connecting." (same page as HEALTH_CHECKER_CONNECT_TIMEOUT_SECONDS)
 */
export const HEALTH_CHECKER_RESPONSE_TIMEOUT_SECONDS = 2;

/**
 * Period of the evacuation switch's alarm: Route 53 reads only standard-resolution alarms, and
 * their shortest period is one minute (AlarmIdentifier, Route 53 API reference). The alarm of
 * `lib/routing/evacuation-switch.ts` uses this period.
 */
export const EVACUATION_ALARM_PERIOD_SECONDS = 60;

export interface FailoverTimings {
  /** Seconds between one Route 53 checker's requests. */
  readonly healthCheckIntervalSeconds: number;
  /**
   * Consecutive failed checks before a checker calls the endpoint unhealthy. The checkers run
   * independently on the same interval, so all of them reach it within interval × threshold (plus
   * the last check's timeouts); Route 53 calls the endpoint healthy while more than 18% of them
   * report it healthy (same page as HEALTH_CHECKER_CONNECT_TIMEOUT_SECONDS).
   */
  readonly healthCheckFailureThreshold: number;
  /**
   * Allowance for the calculated health check (the region's /health AND its evacuation switch) to
   * reflect a child's new status. Stated, not documented: Route 53 does not say how fast it is.
   */
  readonly calculatedCheckAllowanceSeconds: number;
  /**
   * Allowance, after the switch alarm's period ends, for CloudWatch to evaluate the alarm and for
   * Route 53 to read its data stream. Stated, not documented.
   */
  readonly alarmEvaluationAllowanceSeconds: number;
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
  /** Interval × threshold: the failed checks it takes. */
  readonly failedChecksSeconds: number;
  /** Route 53's TCP connect timeout, which the last failed check may take in full. */
  readonly connectTimeoutSeconds: number;
  /** Route 53's response timeout after connecting, which the last failed check may take in full. */
  readonly responseTimeoutSeconds: number;
  /** Failed checks + connect timeout + response timeout: until the failing region is declared unhealthy, at worst. */
  readonly detectionSeconds: number;
  /** Stated allowance for the calculated check to follow its children. */
  readonly calculatedCheckSeconds: number;
  readonly ttlSeconds: number;
  readonly propagationSeconds: number;
  /** Worst case until clients reach the other region (order intake works from then on). */
  readonly trafficSeconds: number;
  /** Expected time until orders are processed again: traffic, or promotion if that takes longer (they run at once). */
  readonly processingSeconds: number;
  /** The evacuation switch's alarm period. */
  readonly alarmPeriodSeconds: number;
  /** Stated allowance for the alarm's evaluation and Route 53's reading of it. */
  readonly alarmEvaluationSeconds: number;
  /** Worst case from the switch being thrown until clients reach the other region (gray failure). */
  readonly switchTrafficSeconds: number;
}

export function failoverBudget(timings: FailoverTimings): FailoverBudget {
  const failedChecksSeconds = timings.healthCheckIntervalSeconds * timings.healthCheckFailureThreshold;
  const detectionSeconds = failedChecksSeconds + HEALTH_CHECKER_CONNECT_TIMEOUT_SECONDS + HEALTH_CHECKER_RESPONSE_TIMEOUT_SECONDS;
  // Both paths end the same way: the calculated check turns unhealthy, then DNS answers change.
  const dnsSeconds = timings.calculatedCheckAllowanceSeconds + timings.dnsTtlSeconds + timings.dnsPropagationAllowanceSeconds;
  const trafficSeconds = detectionSeconds + dnsSeconds;
  return {
    failedChecksSeconds,
    connectTimeoutSeconds: HEALTH_CHECKER_CONNECT_TIMEOUT_SECONDS,
    responseTimeoutSeconds: HEALTH_CHECKER_RESPONSE_TIMEOUT_SECONDS,
    detectionSeconds,
    calculatedCheckSeconds: timings.calculatedCheckAllowanceSeconds,
    ttlSeconds: timings.dnsTtlSeconds,
    propagationSeconds: timings.dnsPropagationAllowanceSeconds,
    trafficSeconds,
    // The orchestrator starts promotion when detection ends, while DNS moves.
    processingSeconds: Math.max(trafficSeconds, detectionSeconds + timings.auroraPromotionSeconds),
    alarmPeriodSeconds: EVACUATION_ALARM_PERIOD_SECONDS,
    alarmEvaluationSeconds: timings.alarmEvaluationAllowanceSeconds,
    switchTrafficSeconds: EVACUATION_ALARM_PERIOD_SECONDS + timings.alarmEvaluationAllowanceSeconds + dnsSeconds,
  };
}

/** The traffic budget as a sum that names each term, for the config's refusal. */
export function trafficBudgetSum(timings: FailoverTimings): string {
  const budget = failoverBudget(timings);
  return (
    `healthCheckIntervalSeconds ${timings.healthCheckIntervalSeconds} × healthCheckFailureThreshold ${timings.healthCheckFailureThreshold} ` +
    `+ Route 53 connect timeout ${budget.connectTimeoutSeconds} + Route 53 response timeout ${budget.responseTimeoutSeconds} ` +
    `+ calculatedCheckAllowanceSeconds ${budget.calculatedCheckSeconds} + dnsTtlSeconds ${budget.ttlSeconds} ` +
    `+ dnsPropagationAllowanceSeconds ${budget.propagationSeconds} = ${budget.trafficSeconds} s`
  );
}

/** The budget as the README's table rows: the health-check path, then the evacuation-switch path. */
export function budgetTable(timings: FailoverTimings): string {
  const budget = failoverBudget(timings);
  const documented = 'Route 53, documented';
  const stated = (key: keyof FailoverTimings) => `stated allowance, \`${key}\``;
  return [
    '| Step | Seconds | Source |',
    '| --- | --- | --- |',
    `| Detection: ${timings.healthCheckIntervalSeconds} s interval × ${timings.healthCheckFailureThreshold} failed checks | ${budget.failedChecksSeconds} | \`healthCheckIntervalSeconds\` × \`healthCheckFailureThreshold\` |`,
    `| Detection: the last check's TCP connect timeout | ${budget.connectTimeoutSeconds} | ${documented} |`,
    `| Detection: the last check's response timeout | ${budget.responseTimeoutSeconds} | ${documented} |`,
    `| Calculated check (/health AND evacuation switch) follows | ${budget.calculatedCheckSeconds} | ${stated('calculatedCheckAllowanceSeconds')} |`,
    `| Record TTL | ${budget.ttlSeconds} | \`dnsTtlSeconds\` |`,
    `| Propagation to name servers and resolvers | ${budget.propagationSeconds} | ${stated('dnsPropagationAllowanceSeconds')} |`,
    `| **Traffic in the other region (worst case)** | **${budget.trafficSeconds}** | at most \`failoverTargetSeconds\` |`,
    `| Aurora promotion (expected, from detection) | ${timings.auroraPromotionSeconds} | \`auroraPromotionSeconds\` |`,
    `| Orders processed again (expected) | ${budget.processingSeconds} | detection + promotion, or traffic if later |`,
    `| Switch: alarm period (Route 53 reads only one-minute alarms) | ${budget.alarmPeriodSeconds} | ${documented} |`,
    `| Switch: CloudWatch evaluates the alarm, Route 53 reads it | ${budget.alarmEvaluationSeconds} | ${stated('alarmEvaluationAllowanceSeconds')} |`,
    `| Switch: calculated check follows | ${budget.calculatedCheckSeconds} | ${stated('calculatedCheckAllowanceSeconds')} |`,
    `| Switch: record TTL | ${budget.ttlSeconds} | \`dnsTtlSeconds\` |`,
    `| Switch: propagation to name servers and resolvers | ${budget.propagationSeconds} | ${stated('dnsPropagationAllowanceSeconds')} |`,
    `| **Traffic in the other region after the switch is thrown (worst case)** | **${budget.switchTrafficSeconds}** | reported, not enforced |`,
  ].join('\n');
}
