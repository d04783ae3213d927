import { parseConfig } from '../../lib/core/config';
import { Observation, promotionForRun, UnplannedDrill, UnplannedTargets, unplannedTargets } from '../../integ/unplanned-drill';
import { deploymentOf, PRIMARY, SECONDARY } from '../helpers/two-region-world';
import { SimulationFixture } from '../simulation/fixture';
import { brokenInvariants, SIMULATION_CONFIG } from '../simulation/report';
import type { Event, Sequence } from '../simulation/sequences';
import { Simulation, SimulationView } from '../simulation/simulation';

/**
 * The unplanned drill's logic against the two-region simulation: the real prober and both
 * regions' state machines on a virtual clock, with the primary's API answering errors while its
 * RDS control plane answers (what FIS's Lambda fault leaves: test/simulation/ 'api-errors').
 */

const fixture = new SimulationFixture(deploymentOf(SIMULATION_CONFIG));
beforeAll(() => fixture.start());
afterAll(() => fixture.stop());
beforeEach(() => fixture.reset());
afterEach(() => {
  fixture.world.forcedFailover = false;
});

const config = parseConfig(SIMULATION_CONFIG);
/** The targets the pipeline's drill uses, from the simulation's config. */
const TARGETS: UnplannedTargets = unplannedTargets(config);

const SEQUENCE: Sequence = {
  name: 'unplanned-drill',
  events: [],
  durationSeconds: 1800,
  lagPolls: 1,
  data: { replicationLagMs: 300, indexLagMs: 0, staleDnsMs: 0 },
};

/** Runs the drill against a simulation from 60 s in, mapping its actions to the simulation's events. */
async function drill(options: { expected: 'switchover' | 'failover'; targets?: UnplannedTargets; startAt?: number }) {
  const lines: string[] = [];
  const monitor = new UnplannedDrill(
    { primaryRegion: PRIMARY, secondaryRegion: SECONDARY, expectedPromotion: options.expected, targets: options.targets ?? TARGETS },
    (line) => lines.push(line),
  );
  let begun: number | undefined;
  const observer = async (view: SimulationView): Promise<Event[]> => {
    begun ??= view.clock;
    if (monitor.done || view.clock - begun < (options.startAt ?? 60) * 1000) return [];
    const observation: Observation = { at: view.clock, dnsRegion: view.dnsRegion, activeRegion: view.activeRegion, runs: view.runs };
    return monitor.observe(observation).map((action) => ({ at: 0, kind: action.kind === 'start-fault' ? 'api-errors' : 'api-errors-end', region: PRIMARY }));
  };
  const report = await new Simulation(fixture, SEQUENCE, 1, observer).run();
  return { result: monitor.result(), report, lines, phase: monitor.current };
}

describe('the unplanned drill, against the two-region simulation', () => {
  it('sees detection, the prober, a switchover, DNS and orders move to us-east-2, then the automatic failback, within the targets', async () => {
    const { result, report, lines, phase } = await drill({ expected: 'switchover' });
    expect({ phase, problems: result.problems }).toEqual({ phase: 'done', problems: [] });
    expect(result.ok).toBe(true);
    expect(result.figures.promotion).toBe('switchover');
    for (const figure of ['detectionSeconds', 'trafficSeconds', 'ordersAcceptedSeconds', 'failoverRunSeconds', 'failbackSeconds'] as const) {
      expect(result.figures[figure]).toEqual(expect.any(Number));
    }
    expect(result.figures.trafficSeconds!).toBeLessThanOrEqual(TARGETS.trafficSeconds);
    expect(result.failoverExecutionArn).toMatch(/^us-east-2:/);
    expect(result.failbackExecutionArn).toMatch(/^us-east-1:/);
    expect(lines.join('\n')).toMatch(/fault injected[\s\S]*DNS answers us-east-2[\s\S]*the prober started[\s\S]*fault stopped[\s\S]*failback SUCCEEDED/);
    expect(brokenInvariants(report)).toEqual([]);
  });

  it("with the drill's switch on, the same fault runs the failover that allows data loss, and the drill says so", async () => {
    fixture.world.forcedFailover = true;
    const { result, report } = await drill({ expected: 'failover' });
    expect(result.problems).toEqual([]);
    expect(result.figures.promotion).toBe('failover');
    // The one invariant a forced failover breaks on purpose: data loss while the primary's control plane answered.
    expect(brokenInvariants(report)).toEqual(['no-needless-data-loss']);
  });

  it('fails when the run promotes with another kind than the drill forced', async () => {
    const { result } = await drill({ expected: 'failover' });
    expect(result.ok).toBe(false);
    expect(result.problems).toContain('the unplanned run promoted with switchover, not the failover this drill expected');
  });

  it('fails a figure over its target, naming it', async () => {
    const { result } = await drill({ expected: 'switchover', targets: { ...TARGETS, trafficSeconds: 5 } });
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([expect.stringMatching(/^traffic \d+(\.\d+)? s exceeds its target 5 s \(fault -> DNS answers us-east-2\)$/)]);
  });
});

describe('the promotion kind a pipeline run drills', () => {
  it('alternates between the two kinds from one build to the next', () => {
    expect([1, 2, 3, 4].map(promotionForRun)).toEqual(['failover', 'switchover', 'failover', 'switchover']);
  });
});
