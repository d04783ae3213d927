import { SwitchPosition } from '../contracts/switches';

/**
 * The roles of the two regions, and what each role means for DNS. Failover records are
 * asymmetric (Route 53 Developer Guide, "Active-passive failover"; API reference,
 * ResourceRecordSet.Failover): the SECONDARY gets traffic only while the PRIMARY is unhealthy, and
 * when both are unhealthy Route 53 answers with the PRIMARY. So:
 * - while the primary is active, the secondary is a *standby*: never drained and never evacuated,
 *   because it must be a healthy SECONDARY for the next outage;
 * - while the secondary is active, the primary is *evacuated* (drained in the control table and its
 *   evacuation switch thrown) until a failback moves the role back; otherwise the primary's record
 *   turns healthy as soon as it recovers and traffic returns before its writer does.
 * Every run of the failover state machine ends in one of these two plans, and the prober and the
 * readiness check hold the regions to it between runs.
 */

export type RegionState = 'active' | 'standby' | 'evacuated';

export interface RolePlan {
  readonly activeRegion: string;
  /** Each region's state. */
  readonly states: Readonly<Record<string, RegionState>>;
  /** What the control table's drainedRegions must hold. */
  readonly drainedRegions: readonly string[];
  /** Each region's evacuation switch (keyed by the region it evacuates). */
  readonly switches: Readonly<Record<string, SwitchPosition>>;
}

/** The region that is not the primary; a primary that is neither region is a misconfiguration, named. */
export function secondaryRegionOf(settings: { readonly region: string; readonly peerRegion: string; readonly primaryRegion: string }): string {
  if (settings.primaryRegion === settings.region) return settings.peerRegion;
  if (settings.primaryRegion === settings.peerRegion) return settings.region;
  throw new Error(`primary region ${settings.primaryRegion} is neither this region (${settings.region}) nor the peer (${settings.peerRegion})`);
}

/** The plan for `activeRegion` being active. */
export function rolesFor(activeRegion: string, primaryRegion: string, secondaryRegion: string): RolePlan {
  if (activeRegion === primaryRegion) {
    return {
      activeRegion,
      states: { [primaryRegion]: 'active', [secondaryRegion]: 'standby' },
      drainedRegions: [],
      switches: { [primaryRegion]: SwitchPosition.released, [secondaryRegion]: SwitchPosition.released },
    };
  }
  if (activeRegion === secondaryRegion) {
    return {
      activeRegion,
      states: { [secondaryRegion]: 'active', [primaryRegion]: 'evacuated' },
      drainedRegions: [primaryRegion],
      switches: { [primaryRegion]: SwitchPosition.thrown, [secondaryRegion]: SwitchPosition.released },
    };
  }
  throw new Error(`roles: active region ${activeRegion} is neither the primary (${primaryRegion}) nor the secondary (${secondaryRegion})`);
}

/** Where the actual state differs from the plan: one line per difference, empty when none. */
export function roleGaps(plan: RolePlan, drainedRegions: readonly string[], switches: Readonly<Record<string, SwitchPosition | 'unknown'>>): string[] {
  const gaps: string[] = [];
  const drained = new Set(drainedRegions);
  for (const region of Object.keys(plan.states)) {
    const shouldDrain = plan.drainedRegions.includes(region);
    if (shouldDrain !== drained.has(region))
      gaps.push(`${region} is ${drained.has(region) ? '' : 'not '}drained; as ${plan.states[region]} it must ${shouldDrain ? '' : 'not '}be`);
    const position = switches[region];
    if (position !== undefined && position !== 'unknown' && position !== plan.switches[region]) {
      gaps.push(`${region}'s evacuation switch is ${position}; as ${plan.states[region]} it must be ${plan.switches[region]}`);
    }
  }
  return gaps;
}
