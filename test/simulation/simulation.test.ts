import { deploymentOf } from '../helpers/two-region-world';
import { SimulationFixture } from './fixture';
import { brokenInvariants, formatReport, SIMULATION_CONFIG } from './report';
import { NAMED_SEQUENCES, sequenceOf } from './sequences';
import { Simulation } from './simulation';

/**
 * The two-region simulation (test/simulation/), with a fixed set of seeds sized for the test
 * command: every named sequence once, and a few random schedules. `npm run simulate` runs more.
 */

const fixture = new SimulationFixture(deploymentOf(SIMULATION_CONFIG));
beforeAll(() => fixture.start());
afterAll(() => fixture.stop());
beforeEach(() => fixture.reset());

/** Random seeds the test command runs (more with `npm run simulate -- --seeds N`). */
const RANDOM_SEEDS = (process.env.SIMULATION_SEEDS ?? '1,2,3').split(',').map(Number);

describe('the two-region simulation', () => {
  it.each(Object.keys(NAMED_SEQUENCES))('keeps every required invariant through %s', async (name) => {
    const report = await new Simulation(fixture, sequenceOf(name, 1), 1).run();
    const broken = brokenInvariants(report);
    if (broken.length > 0 || process.env.SIMULATION_PRINT) process.stdout.write(`${formatReport(report)}\n`);
    expect(broken).toEqual([]);
  });

  it.each(RANDOM_SEEDS)('keeps every required invariant through random seed %d', async (seed) => {
    const report = await new Simulation(fixture, sequenceOf('random', seed), seed).run();
    const broken = brokenInvariants(report);
    if (broken.length > 0 || process.env.SIMULATION_PRINT) process.stdout.write(`${formatReport(report)}\n`);
    expect(broken).toEqual([]);
  });
});
