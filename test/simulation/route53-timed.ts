import { EVACUATION_ALARM } from '../../lib/routing/evacuation-switch';
import { Datapoint, healthStatusAt } from '../helpers/route53-alarm-check';
import { PRIMARY, Region, REGIONS, SECONDARY, TARGETS } from '../helpers/two-region-world';

/**
 * Route 53 as the failover records see it, with its checkers' timing, on a virtual clock. Rules,
 * from the Route 53 Developer Guide ("How Amazon Route 53 determines whether a health check is
 * healthy", [DG]) and API reference ([API]):
 * - [DG] an HTTPS check fails when no TCP connection is made within 4 s or no 2xx/3xx answer comes
 *   within 2 s after it; a checker checks every `RequestInterval` (10 s here);
 * - [API] HealthCheckConfig.FailureThreshold: "The number of consecutive health checks that an
 *   endpoint must pass or fail for Amazon Route 53 to change the current status of the endpoint
 *   from unhealthy to healthy or vice versa." Every checker sees the same endpoint here (the 18%
 *   rule of [DG] only matters when checkers disagree, which a one-vantage fault models apart);
 * - [DG] a CLOUDWATCH_METRIC check is judged from the alarm's data stream, with
 *   InsufficientDataHealthStatus when the stream has no data (test/helpers/route53-alarm-check.ts);
 * - a CALCULATED check is healthy when at least HealthThreshold children are (here: both);
 * - [API] ResourceRecordSet.Failover: the PRIMARY if healthy, else the SECONDARY if healthy, else
 *   the PRIMARY.
 * Not modelled, each one kinder than AWS by a bounded time the budget states: the up to 6 s a
 * failing check takes before it counts (a check's result is taken at its request time), the time
 * a calculated check takes to follow its children, DNS propagation, resolvers' caching within the
 * TTL.
 */
export interface TimedRoute53Settings {
  readonly intervalSeconds: number;
  readonly failureThreshold: number;
  /** When the health checks were created (a minute boundary): the alarm stream is read from there. */
  readonly since: number;
}

interface EndpointCheck {
  healthy: boolean;
  /** Consecutive results against the current status. */
  streak: number;
  lastCheckAt: number;
}

export class TimedRoute53 {
  private readonly endpoints: Record<Region, EndpointCheck>;
  /** The evacuation switches' metric, per evacuated region, as the keeper in the host region published it. */
  readonly switchData: Record<Region, Datapoint[]> = { [PRIMARY]: [], [SECONDARY]: [] };

  constructor(private readonly settings: TimedRoute53Settings) {
    const start = (): EndpointCheck => ({ healthy: true, streak: 0, lastCheckAt: settings.since });
    this.endpoints = { [PRIMARY]: start(), [SECONDARY]: start() };
  }

  /**
   * The checkers' requests due by `now`: `answers(region)` says whether /health answered 200
   * within the checker's timeouts at that moment.
   */
  async check(now: number, answers: (region: Region) => Promise<boolean>): Promise<void> {
    const intervalMs = this.settings.intervalSeconds * 1000;
    for (const region of REGIONS) {
      const endpoint = this.endpoints[region];
      while (endpoint.lastCheckAt + intervalMs <= now) {
        endpoint.lastCheckAt += intervalMs;
        const ok = await answers(region);
        if (ok === endpoint.healthy) {
          endpoint.streak = 0;
        } else if (++endpoint.streak >= this.settings.failureThreshold) {
          endpoint.healthy = ok;
          endpoint.streak = 0;
        }
      }
    }
  }

  /** The keeper in `evacuated`'s host region published `value` at `at`. */
  publishSwitch(evacuated: Region, value: 0 | 1, at: number): void {
    this.switchData[evacuated].push({ timestamp: at, value });
  }

  switchHealthy(region: Region, now: number): boolean {
    return healthStatusAt(this.switchData[region], EVACUATION_ALARM, 'LastKnownStatus', this.settings.since, now) === 'healthy';
  }

  endpointHealthy(region: Region): boolean {
    return this.endpoints[region].healthy;
  }

  /** The calculated check behind the region's failover record. */
  recordHealthy(region: Region, now: number): boolean {
    return this.endpointHealthy(region) && this.switchHealthy(region, now);
  }

  /** What `api.<zone>` resolves to at `now`. */
  answer(now: number): string {
    if (this.recordHealthy(PRIMARY, now)) return TARGETS[PRIMARY];
    if (this.recordHealthy(SECONDARY, now)) return TARGETS[SECONDARY];
    return TARGETS[PRIMARY];
  }
}
