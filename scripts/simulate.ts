#!/usr/bin/env node
/*
 * `npm run simulate -- --seeds N [--seed S] [--sequence NAME]`: the two-region simulation
 * (test/simulation/) outside jest. Each worker process starts its own moto_server and PostgreSQL on
 * loopback, synthesizes the app, then runs its share of:
 *   --seeds N          N seeds, 1..N (default: 20 for random schedules, 1 for a named sequence)
 *   --first F          the range starts at seed F instead
 *   --seed S           one seed only (of a random schedule, or of --sequence)
 *   --sequence NAME    a named sequence (or `random`); `--sequence all` runs every named one
 *   --workers W        processes running seeds side by side (default: the machine's cores, at
 *                      most one per seed); each takes every W-th seed
 * Prints a table per sequence and a summary; exits 1 when a required invariant broke, printing
 * the command that replays each failing seed.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
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
  readonly workers: number;
  /** Set in a worker process: the seeds it runs, given by its parent. */
  readonly seedList?: number[];
}

/** What a worker reports to its parent, one line each, after this prefix. */
const REPORT_LINE = '@@simulate ';

interface WorkerMessage {
  /** A sequence's table, printed whole. */
  readonly report?: string;
  readonly totals?: Totals;
}

interface Totals {
  sequences: number;
  runs: number;
  simulatedSeconds: number;
  failing: string[];
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      seeds: { type: 'string' },
      first: { type: 'string' },
      seed: { type: 'string' },
      sequence: { type: 'string' },
      workers: { type: 'string' },
      'seed-list': { type: 'string' },
    },
    strict: true,
  });
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
  const workers = Math.min(seeds.length, whole('workers', values.workers ?? String(os.availableParallelism())));
  const seedList = values['seed-list']?.split(',').map((text) => whole('seed-list', text));
  return { seeds, sequences: [sequence], workers, seedList };
}

/** Runs `seeds` of every sequence in this process, handing each table to `emit` as it is done. */
async function runHere(sequences: string[], seeds: number[], emit: (message: WorkerMessage) => void): Promise<Totals> {
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
  const totals: Totals = { sequences: 0, runs: 0, simulatedSeconds: 0, failing: [] };
  try {
    // Imported now: their SDK clients read the emulator's address when they are built.
    const { deploymentOf } = await import('../test/helpers/two-region-world');
    const { SimulationFixture } = await import('../test/simulation/fixture');
    const { brokenInvariants, formatReport, replayCommand, SIMULATION_CONFIG } = await import('../test/simulation/report');
    const { NAMED_SEQUENCES, sequenceOf } = await import('../test/simulation/sequences');
    const { Simulation } = await import('../test/simulation/simulation');
    const names = sequences[0] === 'all' ? Object.keys(NAMED_SEQUENCES) : sequences;
    const fixture = new SimulationFixture(deploymentOf(SIMULATION_CONFIG));
    await fixture.start();
    try {
      for (const name of names) {
        for (const seed of seeds) {
          await fixture.reset();
          const report = await new Simulation(fixture, sequenceOf(name, seed), seed).run();
          totals.sequences++;
          totals.runs += report.runs.length;
          totals.simulatedSeconds += report.simulatedSeconds;
          emit({ report: formatReport(report) });
          if (brokenInvariants(report).length > 0) totals.failing.push(`${replayCommand(report)}   # ${brokenInvariants(report).join(', ')}`);
        }
      }
    } finally {
      await fixture.stop();
    }
  } finally {
    await moto.stop();
    postgres?.stop();
  }
  return totals;
}

/** Runs the seeds in `workers` child processes (every W-th seed each), printing each table as it arrives. */
async function runInWorkers(chosen: Options): Promise<Totals> {
  const shares = Array.from({ length: chosen.workers }, (_, worker) => chosen.seeds.filter((_seed, index) => index % chosen.workers === worker));
  const totals: Totals = { sequences: 0, runs: 0, simulatedSeconds: 0, failing: [] };
  await Promise.all(
    shares.map(
      (share) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(
            process.execPath,
            [...process.execArgv, __filename, '--sequence', chosen.sequences[0], '--seed-list', share.join(','), '--workers', '1'],
            {
              stdio: ['ignore', 'pipe', 'inherit'],
            },
          );
          let pending = '';
          child.stdout.setEncoding('utf8');
          child.stdout.on('data', (chunk: string) => {
            pending += chunk;
            const lines = pending.split('\n');
            pending = lines.pop() ?? '';
            for (const line of lines) {
              if (!line.startsWith(REPORT_LINE)) {
                process.stdout.write(`${line}\n`);
                continue;
              }
              const message = JSON.parse(line.slice(REPORT_LINE.length)) as WorkerMessage;
              if (message.report) process.stdout.write(`${message.report}\n`);
              if (message.totals) {
                totals.sequences += message.totals.sequences;
                totals.runs += message.totals.runs;
                totals.simulatedSeconds += message.totals.simulatedSeconds;
                totals.failing.push(...message.totals.failing);
              }
            }
          });
          child.on('error', reject);
          child.on('exit', (code) => (code === 0 || code === 1 ? resolve() : reject(new Error(`worker for seeds ${share.join(',')} exited with ${code}`))));
        }),
    ),
  );
  return totals;
}

async function main(): Promise<void> {
  const chosen = options(process.argv.slice(2));
  const started = Date.now();
  if (chosen.seedList) {
    // A worker: its tables and totals go to the parent, one line each.
    const send = (message: WorkerMessage) => process.stdout.write(`${REPORT_LINE}${JSON.stringify(message)}\n`);
    const totals = await runHere(chosen.sequences, chosen.seedList, send);
    send({ totals });
    process.exitCode = totals.failing.length > 0 ? 1 : 0;
    return;
  }
  const totals =
    chosen.workers > 1 ? await runInWorkers(chosen) : await runHere(chosen.sequences, chosen.seeds, (message) => process.stdout.write(`${message.report}\n`));
  process.stdout.write(
    `\nsummary: ${totals.sequences} sequences, ${totals.runs} state machine runs, ${Math.round(totals.simulatedSeconds / 60)} simulated minutes in ${Math.round((Date.now() - started) / 1000)} s ` +
      `(${chosen.workers} worker${chosen.workers > 1 ? 's' : ''}); ${totals.sequences - totals.failing.length} kept every required invariant, ${totals.failing.length} did not\n`,
  );
  for (const line of totals.failing.sort()) process.stdout.write(`  ${line}\n`);
  process.exitCode = totals.failing.length > 0 ? 1 : 0;
}

main().catch((error: Error) => {
  process.stderr.write(`simulate: ${error.message}\n`);
  process.exitCode = 2;
});
