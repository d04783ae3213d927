#!/usr/bin/env node
/*
 * `npm run simulate -- --seeds N [--seed S] [--sequence NAME]`: the two-region simulation
 * (test/simulation/) outside jest. Starts its own moto_server and PostgreSQL on loopback,
 * synthesizes the app, then runs:
 *   --seeds N          N seeds, 1..N (default: 20 for random schedules, 1 for a named sequence)
 *   --first F          the range starts at seed F instead (to split a long run over processes)
 *   --seed S           one seed only (of a random schedule, or of --sequence)
 *   --sequence NAME    a named sequence (or `random`); `--sequence all` runs every named one
 * Prints a table per sequence and a summary; exits 1 when a required invariant broke, printing
 * the command that replays each failing seed.
 */
import * as fs from 'fs';
import { parseArgs } from 'util';
import { startMoto, startPostgres } from '../test/helpers/services';

// A .sql file is a module whose default export is its text, as esbuild's text loader does for the
// Lambda bundles and test/helpers/text-transform.cjs does for jest (the migrations import theirs).
require.extensions['.sql'] = (module, filename) => {
  module.exports = fs.readFileSync(filename, 'utf8');
};

interface Options {
  readonly seeds: number[];
  readonly sequences: string[];
}

function options(argv: string[]): Options {
  const { values } = parseArgs({ args: argv, options: { seeds: { type: 'string' }, first: { type: 'string' }, seed: { type: 'string' }, sequence: { type: 'string' } }, strict: true });
  const whole = (name: string, text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number of at least 1 (got ${text})`);
    return value;
  };
  const first = whole('first', values.first ?? '1');
  const sequence = values.sequence ?? 'random';
  // Random schedules default to 20 seeds; a named sequence (or all of them) to seed 1.
  const count = values.seeds ?? (sequence === 'random' ? '20' : '1');
  const seeds = values.seed !== undefined ? [whole('seed', values.seed)] : Array.from({ length: whole('seeds', count) }, (_, index) => first + index);
  return { seeds, sequences: [sequence] };
}

async function main(): Promise<void> {
  const chosen = options(process.argv.slice(2));
  // Every client talks to the loopback emulator with fake credentials, never to AWS.
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_SESSION_TOKEN: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  delete process.env.AWS_PROFILE;
  const [postgres, moto] = await Promise.all([process.env.TEST_DATABASE_URL ? undefined : startPostgres(), startMoto()]);
  if (postgres) process.env.TEST_DATABASE_URL = postgres.url;
  process.env.AWS_ENDPOINT_URL = moto.url;
  try {
    // Imported now: their SDK clients read the emulator's address when they are built.
    const { deploymentOf } = await import('../test/helpers/two-region-world');
    const { SimulationFixture } = await import('../test/simulation/fixture');
    const { brokenInvariants, formatReport, replayCommand, SIMULATION_CONFIG } = await import('../test/simulation/report');
    const { NAMED_SEQUENCES, sequenceOf } = await import('../test/simulation/sequences');
    const { Simulation } = await import('../test/simulation/simulation');
    const names = chosen.sequences[0] === 'all' ? Object.keys(NAMED_SEQUENCES) : chosen.sequences;
    const fixture = new SimulationFixture(deploymentOf(SIMULATION_CONFIG));
    await fixture.start();
    const started = Date.now();
    const failing: string[] = [];
    let runs = 0;
    let simulatedSeconds = 0;
    try {
      for (const name of names) {
        for (const seed of chosen.seeds) {
          await fixture.reset();
          const report = await new Simulation(fixture, sequenceOf(name, seed), seed).run();
          runs += report.runs.length;
          simulatedSeconds += report.simulatedSeconds;
          process.stdout.write(`${formatReport(report)}\n`);
          if (brokenInvariants(report).length > 0) failing.push(`${replayCommand(report)}   # ${brokenInvariants(report).join(', ')}`);
        }
      }
    } finally {
      await fixture.stop();
    }
    const sequences = names.length * chosen.seeds.length;
    process.stdout.write(
      `\nsummary: ${sequences} sequences, ${runs} state machine runs, ${Math.round(simulatedSeconds / 60)} simulated minutes in ${Math.round((Date.now() - started) / 1000)} s; ` +
        `${sequences - failing.length} kept every required invariant, ${failing.length} did not\n`,
    );
    for (const line of failing) process.stdout.write(`  ${line}\n`);
    process.exitCode = failing.length > 0 ? 1 : 0;
  } finally {
    await moto.stop();
    postgres?.stop();
  }
}

main().catch((error: Error) => {
  process.stderr.write(`simulate: ${error.message}\n`);
  process.exitCode = 2;
});
