/**
 * The benchmark's bundle figures: each handler bundled as the deployment bundles it
 * (BUNDLE_OPTIONS), against a floor bundled the same way in the same run (scripts/bundle-floor/:
 * intake's two calls with just the DynamoDB and SQS clients).
 * - size, and the ratio to the floor, with the goal where there is one;
 * - module load: a fresh Node.js process requiring the bundle, median of LOAD_RUNS, floor and
 *   handler alternating;
 * - the standby's first request: a fresh process that loads intake with its environment and
 *   accepts one order against moto_server, against the floor doing the same two calls.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FUNCTION_CONTRACTS } from '../lambda/contracts';
import { INTAKE } from '../lambda/contracts/intake';
import { createJournalTable, createOrderQueues } from '../test/helpers/aws';
import { bundleAsDeployed } from '../test/helpers/bundles';

const ROOT = path.join(__dirname, '..');
/**
 * Fresh processes per figure, floor and handler alternating. The issue asked for the median of 7;
 * on the 2-core CI machine kind that median still moved by 15% between runs, so 15.
 */
const LOAD_RUNS = 15;
/** The goals, as ratios to the floor. */
const SIZE_GOALS: Record<string, number> = { intake: 1.3, health: 1.3, processor: 1.3, readiness: 1.6, 'failover-steps': 1.6 };
const LOAD_GOAL = 1.15;
const FLOOR = 'floor';

/** An environment every handler's contract accepts at load (the values are never called). */
const LOAD_ENVIRONMENT: Record<string, string> = {
  JOURNAL_TABLE: 'journal',
  CONTROL_TABLE: 'control',
  QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/111111111111/orders',
  PENDING_SHARDS: '8',
  MAX_BODY_BYTES: '4096',
  PRIMARY_REGION: 'us-east-1',
  AWS_REGION: 'us-east-1',
  DB_HOST: 'localhost',
  DB_PORT: '5432',
  DB_NAME: 'trading',
  DB_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:db',
  DB_POOL_SIZE: '4',
  CHECK_TIMEOUT_MS: '1500',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
};

export interface BundleFigure {
  readonly name: string;
  readonly bytes: number;
  readonly file: string;
  /** Bytes in the bundle by package (`lambda/` for this repository's code), from esbuild's metafile. */
  readonly packages: Map<string, number>;
}

async function build(name: string, entry: string, directory: string): Promise<BundleFigure> {
  const file = path.join(directory, `${name}.js`);
  const metafile = await bundleAsDeployed(entry, file);
  const packages = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input.split('/')[0];
      packages.set(name, (packages.get(name) ?? 0) + bytesInOutput);
    }
  }
  return { name, file, bytes: fs.statSync(file).size, packages };
}

/** The packages that make a bundle bigger than the floor, largest first: what its size above the floor is made of. */
function aboveFloor(bundle: BundleFigure, floor: BundleFigure, count: number): string {
  return [...bundle.packages]
    .map(([name, bytes]) => [name, bytes - (floor.packages.get(name) ?? 0)] as const)
    .filter(([, extra]) => extra >= 1024)
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, extra]) => `${name} +${kib(extra)}`)
    .join(', ');
}

/** Milliseconds a fresh Node.js process takes to run `script` (timed inside it), once. */
function timeFresh(script: string, environment: Record<string, string>): number {
  const output = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...environment } });
  const match = /ELAPSED=([0-9.]+)/.exec(output);
  if (!match) throw new Error(`no timing in the output: ${output.slice(-300)}`);
  return Number(match[1]);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Two scripts' timings, LOAD_RUNS runs each, alternating A B A B so drift affects both alike. */
interface Paired {
  readonly a: number;
  readonly b: number;
  /** The median of each pair's b/a: a neighbour's load on a shared machine moves both halves of a pair alike. */
  readonly ratio: number;
}

function alternating(a: () => number, b: () => number): Paired {
  const as: number[] = [];
  const bs: number[] = [];
  for (let run = 0; run < LOAD_RUNS; run++) {
    as.push(a());
    bs.push(b());
  }
  return { a: median(as), b: median(bs), ratio: median(bs.map((value, run) => value / as[run])) };
}

const loadScript = (file: string) =>
  `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write('ELAPSED='+String(Number(process.hrtime.bigint()-t)/1e6))`;

/** What a handler pays to log at all: a Console on stdout and stderr, which Node.js opens on first use. */
const consoleScript = `const t=process.hrtime.bigint();new (require('console').Console)({stdout:process.stdout,stderr:process.stderr});process.stdout.write('ELAPSED='+String(Number(process.hrtime.bigint()-t)/1e6))`;

function firstRequestScript(file: string, event: unknown): string {
  return (
    `const t=process.hrtime.bigint();` +
    `require(${JSON.stringify(file)}).handler(${JSON.stringify(event)},{getRemainingTimeInMillis:()=>10000,functionName:'bench',awsRequestId:'b'})` +
    `.then((a)=>{if(a.statusCode!==201)throw new Error('answered '+JSON.stringify(a));process.stdout.write('\\nELAPSED='+String(Number(process.hrtime.bigint()-t)/1e6))})`
  );
}

export async function bundleFigures(): Promise<void> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-bundles-'));
  try {
    const floor = await build(FLOOR, path.join(ROOT, 'scripts', 'bundle-floor', 'index.ts'), directory);
    const handlers: BundleFigure[] = [];
    for (const contract of FUNCTION_CONTRACTS)
      handlers.push(await build(contract.codeFolder, path.join(ROOT, 'lambda', contract.codeFolder, 'index.ts'), directory));

    console.log(`bundles as deployed (minified, AWS SDK included, ES modules first, no source map); floor ${kib(floor.bytes)}:`);
    console.log(`  ${'function'.padEnd(16)} ${'size'.padStart(9)}  ratio  goal`);
    for (const bundle of handlers) {
      const ratio = bundle.bytes / floor.bytes;
      const goal = SIZE_GOALS[bundle.name];
      const verdict = goal === undefined ? '' : `${goal.toFixed(1)} ${ratio <= goal ? 'met' : 'MISSED'}`;
      console.log(`  ${bundle.name.padEnd(16)} ${kib(bundle.bytes).padStart(9)}  ${ratio.toFixed(2)}   ${verdict}`);
    }
    console.log('what each bundle holds beyond the floor (largest packages first):');
    for (const bundle of handlers) console.log(`  ${bundle.name.padEnd(16)} ${aboveFloor(bundle, floor, 7)}`);

    const intake = handlers.find((bundle) => bundle.name === 'intake')!;
    console.log(`module load, fresh process (median of ${LOAD_RUNS}, alternating with the floor; ratio: the median of each pair's ratio):`);
    for (const name of ['intake', 'health', 'processor', 'get-order']) {
      const bundle = handlers.find((each) => each.name === name)!;
      const load = alternating(
        () => timeFresh(loadScript(floor.file), LOAD_ENVIRONMENT),
        () => timeFresh(loadScript(bundle.file), LOAD_ENVIRONMENT),
      );
      const goal = name === 'intake' ? `  goal ${LOAD_GOAL} ${load.ratio <= LOAD_GOAL ? 'met' : 'MISSED'}` : '';
      console.log(`  ${name.padEnd(16)} ${load.b.toFixed(1).padStart(6)} ms  floor ${load.a.toFixed(1).padStart(6)} ms  ratio ${load.ratio.toFixed(2)}${goal}`);
    }

    const streams: number[] = [];
    for (let run = 0; run < LOAD_RUNS; run++) streams.push(timeFresh(consoleScript, LOAD_ENVIRONMENT));
    console.log(
      `  of which opening stdout and stderr, which the floor never writes to (Powertools' logger and metrics each make a Console on them): ${median(streams).toFixed(1)} ms`,
    );

    const [journalTable, queues] = await Promise.all([createJournalTable(), createOrderQueues(5, 30)]);
    const environment = {
      ...LOAD_ENVIRONMENT,
      JOURNAL_TABLE: journalTable,
      QUEUE_URL: queues.queueUrl,
      AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL ?? '',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      POWERTOOLS_SERVICE_NAME: INTAKE.service,
    };
    let sequence = 0;
    const order = () => ({
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientOrderId: `cold-${sequence++}`, accountId: 'bench', symbol: 'AAPL', side: 'buy', orderType: 'market', quantity: '1' }),
      isBase64Encoded: false,
      requestContext: { requestId: `cold-${sequence}` },
    });
    const first = alternating(
      () => timeFresh(firstRequestScript(floor.file, order()), environment),
      () => timeFresh(firstRequestScript(intake.file, order()), environment),
    );
    console.log(
      `standby's first request (fresh process: load with its environment, accept one order on moto_server; median of ${LOAD_RUNS}):` +
        `\n  intake ${first.b.toFixed(1)} ms  floor ${first.a.toFixed(1)} ms  ratio ${first.ratio.toFixed(2)}`,
    );
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KiB`;
}
