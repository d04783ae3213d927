import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SNAPSHOT_SYNTH_VARIABLE } from './integ-config';

/**
 * The integration test's snapshot: what integ-runner would check offline, done here because the
 * newest integ-runner on the registry (2.197.10) cannot read the cloud assembly this aws-cdk-lib
 * writes (schema 55; it reads up to 53). The snapshot holds the test manifest (`integ.json`) and
 * every stack's template, stage assemblies included, in canonical form:
 * - asset hashes (64 hex digits) become ASSET_HASH, as integ-runner ignores them by default: a
 *   Lambda bundle changes with every dependency update without changing what is deployed;
 *   the asset publishing step's buildspec file, named after a hash of the asset hashes, likewise;
 * - the `salt` integ-tests-alpha puts on each assertion (Date.now(), so that assertions run on
 *   every deployment) becomes SALT.
 * Everything else must match, key for key.
 */

const ROOT = path.join(__dirname, '..');

/** An integration test app: its file, where its snapshot lives (integ-runner's layout), and its assertion stack. */
export interface IntegApp {
  readonly file: string;
  readonly snapshotDir: string;
  /**
   * The stack the snapshot synthesis selects (`--exclusively`): the CLI writes every template all
   * the same, but bundles only the selected stack's functions. The snapshot ignores asset hashes,
   * so the regional functions need not be bundled (test/lambda/bundles.test.ts and the README's
   * `cdk synth` bundle them).
   */
  readonly assertionStack: string;
}

function integApp(name: string, assertionStack: string): IntegApp {
  const file = path.join(ROOT, 'integ', `integ.${name}.ts`);
  return { file, snapshotDir: `${file}.snapshot`, assertionStack };
}

/** The failover and failback of one account's two regions. */
export const FAILOVER_APP = integApp('failover', 'Dr-integ-use2/IntegAssertions');
/** The pipeline in the three-account layout. */
export const ACCOUNTS_APP = integApp('accounts', 'DrPipelineSupport');
export const INTEG_APPS: readonly IntegApp[] = [FAILOVER_APP, ACCOUNTS_APP];

/** integ-runner's placeholder account for snapshot synthesis (the value is never deployed). */
const SNAPSHOT_ACCOUNT = '12345678';

/**
 * What integ-runner leaves out of its synthesis, for the same reason: library versions
 * (CDKMetadata), construct paths and asset paths change without a change in what is deployed.
 */
const SNAPSHOT_SYNTH_OPTIONS = ['--no-version-reporting', '--no-path-metadata', '--no-asset-metadata'];

/** Relative path (posix separators) to canonical JSON text. */
export type Snapshot = Map<string, string>;

const ASSET_HASH = /\b[0-9a-f]{64}\b/g;
/**
 * The buildspec file CDK Pipelines writes for its asset publishing step is named after a hash of
 * its content, which lists the asset hashes: it changes with them, and is replaced the same way.
 */
const BUILDSPEC_HASH = /\bbuildspec-[0-9a-f]{16,}-/g;

/** Replaces what changes without a change in what is deployed (see the module comment). */
export function canonicalize(value: unknown, key?: string): unknown {
  if (typeof value === 'string')
    return key === 'salt' && /^\d+$/.test(value) ? 'SALT' : value.replace(ASSET_HASH, 'ASSET_HASH').replace(BUILDSPEC_HASH, 'buildspec-ASSET_HASH-');
  if (Array.isArray(value)) return value.map((item) => canonicalize(item));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, canonicalize(v, k)]),
    );
  }
  return value;
}

/** The snapshot of a synthesized cloud assembly directory: integ.json and every template, recursively. */
export function snapshotOf(assemblyDir: string): Snapshot {
  const snapshot: Snapshot = new Map();
  const files = fs
    .readdirSync(assemblyDir, { recursive: true })
    .map(String)
    .map((file) => file.split(path.sep).join('/'));
  for (const file of files.filter((name) => name === 'integ.json' || name.endsWith('.template.json')).sort()) {
    const content = JSON.parse(fs.readFileSync(path.join(assemblyDir, file), 'utf8')) as unknown;
    snapshot.set(file, `${JSON.stringify(canonicalize(content), null, 1)}\n`);
  }
  if (!snapshot.has('integ.json')) throw new Error(`${assemblyDir}: no integ.json; is this an integ-tests-alpha app's assembly?`);
  return snapshot;
}

/**
 * Synthesizes the integration test app with the CDK CLI, as a deployment would (but marked as a
 * snapshot synthesis, offline, with no credentials), into a fresh directory; returns its snapshot.
 */
export function synthesizeSnapshot(app: IntegApp = FAILOVER_APP): Snapshot {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'integ-snapshot-'));
  try {
    const result = spawnSync(
      path.join(ROOT, 'node_modules', '.bin', 'cdk'),
      [
        'synth',
        '--quiet',
        '--app',
        `npx tsx ${path.relative(ROOT, app.file)}`,
        '--output',
        outdir,
        ...SNAPSHOT_SYNTH_OPTIONS,
        '--exclusively',
        app.assertionStack,
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: {
          ...process.env,
          [SNAPSHOT_SYNTH_VARIABLE]: SNAPSHOT_ACCOUNT,
          AWS_ACCESS_KEY_ID: '',
          AWS_SECRET_ACCESS_KEY: '',
          AWS_SESSION_TOKEN: '',
          AWS_PROFILE: '',
          AWS_REGION: '',
          AWS_DEFAULT_REGION: '',
          CDK_DISABLE_VERSION_CHECK: '1',
        },
      },
    );
    if (result.status !== 0) {
      throw new Error(`cdk synth of ${path.relative(ROOT, app.file)} failed (exit ${result.status ?? result.signal}):\n${result.stderr}`);
    }
    return snapshotOf(outdir);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** Reads a checked-in snapshot directory. */
export function readSnapshot(dir = FAILOVER_APP.snapshotDir): Snapshot {
  if (!fs.existsSync(dir)) throw new Error(`${path.relative(ROOT, dir)} does not exist; write it with \`npm run integ:snapshot\``);
  const snapshot: Snapshot = new Map();
  for (const file of fs
    .readdirSync(dir, { recursive: true })
    .map(String)
    .filter((name) => name.endsWith('.json'))
    .sort()) {
    snapshot.set(file.split(path.sep).join('/'), fs.readFileSync(path.join(dir, file), 'utf8'));
  }
  return snapshot;
}

/** Replaces a snapshot directory's content with `snapshot`. */
export function writeSnapshot(snapshot: Snapshot, dir = FAILOVER_APP.snapshotDir): void {
  fs.rmSync(dir, { recursive: true, force: true });
  for (const [file, text] of snapshot) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
}

/**
 * The differences between the checked-in snapshot and a new one, one line each: files missing or
 * new, and for each changed template the resources (or other top-level entries) that differ.
 */
export function compareSnapshots(expected: Snapshot, actual: Snapshot): string[] {
  const problems: string[] = [];
  for (const file of expected.keys()) if (!actual.has(file)) problems.push(`${file}: in the snapshot, no longer synthesized`);
  for (const [file, text] of actual) {
    const before = expected.get(file);
    if (before === undefined) {
      problems.push(`${file}: synthesized, not in the snapshot`);
    } else if (before !== text) {
      problems.push(...changedEntries(file, JSON.parse(before) as Record<string, unknown>, JSON.parse(text) as Record<string, unknown>));
    }
  }
  return problems;
}

/** The changed entries of two versions of one JSON document: per resource/output for templates. */
function changedEntries(file: string, before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const lines: string[] = [];
  for (const section of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[section];
    const b = after[section];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    const isMap = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
    if (isMap(a) && isMap(b) && file.endsWith('.template.json')) {
      for (const id of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (!(id in a)) lines.push(`${file}: ${section}.${id} added`);
        else if (!(id in b)) lines.push(`${file}: ${section}.${id} removed`);
        else if (JSON.stringify(a[id]) !== JSON.stringify(b[id])) lines.push(`${file}: ${section}.${id} changed`);
      }
    } else {
      lines.push(`${file}: ${section} changed`);
    }
  }
  return lines.length > 0 ? lines : [`${file}: changed`];
}
