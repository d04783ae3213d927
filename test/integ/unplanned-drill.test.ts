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

/**
 * The simulation's config under a suffix of its own: every test file shares one moto_server, and
 * the names (control table, parameters) come from the suffix, so with the simulation test's `sim`
 * the two files, run at once by jest's two workers, took each other's failover lock.
 */
const DRILL_CONFIG = { ...SIMULATION_CONFIG, environmentSuffix: 'drill' };
const fixture = new SimulationFixture(deploymentOf(DRILL_CONFIG));
beforeAll(() => fixture.start());
afterAll(() => fixture.stop());
beforeEach(() => fixture.reset());
afterEach(() => {
  fixture.world.forcedFailover = false;
});

const config = parseConfig(DRILL_CONFIG);
/** The targets the pipeline's drill uses, from the simulation's config. */
const TARGETS: UnplannedTargets = unplannedTargets(config);

const SEQUENCE: Sequence = {
  name: 'unplanned-drill',
  events: [],
  // The drill ends about four minutes in (fault at one minute, failback after failbackAfterHealthySeconds); the rest lets the simulation check convergence.
  durationSeconds: 600,
  lagPolls: 1,
  data: { replicationLagMs: 300, indexLagMs: 0, staleDnsMs: 0 },
};

/** A monitor that observes, with the lines it printed. */
function monitorOf(expected: 'switchover' | 'failover', targets: UnplannedTargets = TARGETS) {
  const lines: string[] = [];
  const monitor = new UnplannedDrill({ primaryRegion: PRIMARY, secondaryRegion: SECONDARY, expectedPromotion: expected, targets }, (line) => lines.push(line));
  return { monitor, lines };
}

/**
 * Runs a simulation with the drill from 60 s in: the first monitor acts (its actions become the
 * simulation's events); the others watch the same run and are judged on it, so one simulation
 * serves several verdicts.
 */
async function drill(acting: UnplannedDrill, watching: UnplannedDrill[] = []) {
  let begun: number | undefined;
  const observer = async (view: SimulationView): Promise<Event[]> => {
    begun ??= view.clock;
    if (acting.done || view.clock - begun < 60_000) return [];
    const observation: Observation = { at: view.clock, dnsRegion: view.dnsRegion, activeRegion: view.activeRegion, runs: view.runs };
    for (const each of watching) if (!each.done) each.observe(observation);
    return acting.observe(observation).map((action) => ({ at: 0, kind: action.kind === 'start-fault' ? 'api-errors' : 'api-errors-end', region: PRIMARY }));
  };
  return new Simulation(fixture, SEQUENCE, 1, observer).run();
}

describe('the unplanned drill, against the two-region simulation', () => {
  it('sees detection, the prober, a switchover, DNS and orders move to us-east-2, then the automatic failback; a wrong kind or a missed target fails it', async () => {
    const drilled = monitorOf('switchover');
    const wrongKind = monitorOf('failover');
    const tightTraffic = monitorOf('switchover', { ...TARGETS, trafficSeconds: 5 });
    const report = await drill(drilled.monitor, [wrongKind.monitor, tightTraffic.monitor]);

    const result = drilled.monitor.result();
    expect({ phase: drilled.monitor.current, problems: result.problems }).toEqual({ phase: 'done', problems: [] });
    expect(result.ok).toBe(true);
    expect(result.figures.promotion).toBe('switchover');
    for (const figure of ['detectionSeconds', 'trafficSeconds', 'ordersAcceptedSeconds', 'failoverRunSeconds', 'failbackSeconds'] as const) {
      expect(result.figures[figure]).toEqual(expect.any(Number));
    }
    expect(result.figures.trafficSeconds!).toBeLessThanOrEqual(TARGETS.trafficSeconds);
    expect(result.failoverExecutionArn).toMatch(/^us-east-2:/);
    expect(result.failbackExecutionArn).toMatch(/^us-east-1:/);
    expect(drilled.lines.join('\n')).toMatch(
      /fault injected[\s\S]*DNS answers us-east-2[\s\S]*the prober started[\s\S]*fault stopped[\s\S]*failback SUCCEEDED/,
    );
    expect(brokenInvariants(report)).toEqual([]);

    expect(wrongKind.monitor.result().ok).toBe(false);
    expect(wrongKind.monitor.result().problems).toContain('the unplanned run promoted with switchover, not the failover this drill expected');
    expect(tightTraffic.monitor.result().problems).toEqual([
      expect.stringMatching(/^traffic \d+(\.\d+)? s exceeds its target 5 s \(fault -> DNS answers us-east-2\)$/),
    ]);
  });

  it("with the drill's switch on, the same fault runs the failover that allows data loss, and the drill says so", async () => {
    fixture.world.forcedFailover = true;
    const { monitor } = monitorOf('failover');
    const report = await drill(monitor);
    expect(monitor.result().problems).toEqual([]);
    expect(monitor.result().figures.promotion).toBe('failover');
    // The one invariant a forced failover breaks on purpose: data loss while the primary's control plane answered.
    expect(brokenInvariants(report)).toEqual(['no-needless-data-loss']);
  });
});

describe('the promotion kind a pipeline run drills', () => {
  it('alternates between the two kinds from one build to the next', () => {
    expect([1, 2, 3, 4].map(promotionForRun)).toEqual(['failover', 'switchover', 'failover', 'switchover']);
  });
});

describe('a failed run, as the monitor reports it', () => {
  it("names the execution's error and cause, so the pipeline's log says why", () => {
    const { monitor } = monitorOf('switchover');
    expect(monitor.observe({ at: 0, dnsRegion: PRIMARY, activeRegion: PRIMARY, runs: [] })).toEqual([{ kind: 'start-fault' }]);
    const run = { region: SECONDARY, executionArn: 'arn:execution:1', mode: 'unplanned', startedAt: 10_000 };
    monitor.observe({ at: 20_000, dnsRegion: SECONDARY, activeRegion: PRIMARY, runs: [{ ...run, status: 'RUNNING' }] });
    monitor.observe({
      at: 30_000,
      dnsRegion: SECONDARY,
      activeRegion: PRIMARY,
      runs: [{ ...run, status: 'FAILED', stoppedAt: 30_000, error: 'States.TaskFailed: the promotion was refused' }],
    });
    expect(monitor.result().problems).toContain('the unplanned run arn:execution:1 ended FAILED (States.TaskFailed: the promotion was refused)');
  });
});
