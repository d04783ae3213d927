/**
 * `npm run compare-templates -- BEFORE AFTER`: whether two synthesized cloud assemblies (the
 * output directories of `npx cdk synth -o DIR`) deploy the same thing. A refactor that changes no
 * behaviour leaves every template equal once each asset hash is replaced by a digest of what the
 * asset holds: a function bundle by its `index.js` alone (the source map names source files,
 * which a refactor may move), any other asset by all of its files. The statements of an IAM
 * policy are compared as a set: IAM gives their order no meaning, and a refactor that grants in
 * another order moves them. The `CDKMetadata` resource is left out: it reports to AWS which
 * construct types the app uses, compressed, so building the same constructs in another order
 * changes it, and it deploys nothing. Prints each template that
 * differs, with the paths of the differing values, and exits 1; exits 0 when all are equal.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/** CDK names assets and their staged directories by a SHA-256 in hex. */
const ASSET_DIRECTORY = /^asset\.([0-9a-f]{64})(\..+)?$/;
const HASH = /[0-9a-f]{64}/g;
const DESTINATION_SUFFIX = /(asset:[0-9a-f]{16}:[0-9]{12}-[a-z0-9-]+?)-[0-9a-f]{8}\b/g;

function walk(directory: string): string[] {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    return entry.isDirectory() ? [full, ...walk(full)] : [full];
  });
}

/** Every asset of an assembly: its hash → a digest of its content. */
function assetDigests(root: string): Map<string, string> {
  const digests = new Map<string, string>();
  for (const full of walk(root)) {
    const match = ASSET_DIRECTORY.exec(path.basename(full));
    if (!match) continue;
    const hash = createHash('sha256');
    if (fs.statSync(full).isDirectory()) {
      const bundle = path.join(full, 'index.js');
      const files = fs.existsSync(bundle)
        ? [bundle]
        : walk(full)
            .filter((file) => fs.statSync(file).isFile())
            .sort();
      for (const file of files) hash.update(path.relative(full, file)).update('\0').update(fs.readFileSync(file));
    } else {
      hash.update(fs.readFileSync(full));
    }
    digests.set(match[1], `asset:${hash.digest('hex').slice(0, 16)}`);
  }
  return digests;
}

/** The value with every policy's `Statement` list in one order (IAM evaluates statements as a set). */
function withStatementsSorted(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) {
    const items = value.map((item) => withStatementsSorted(item));
    return key === 'Statement' ? items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) : items;
  }
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, withStatementsSorted(item, name)]));
}

/** The assembly's templates, by path inside it, with asset hashes replaced by their digests. */
function templates(root: string): Map<string, unknown> {
  const digests = assetDigests(root);
  const found = new Map<string, unknown>();
  for (const full of walk(root).filter((file) => file.endsWith('.template.json'))) {
    const text = fs
      .readFileSync(full, 'utf8')
      .replace(HASH, (hash) => digests.get(hash) ?? hash)
      // CDK Pipelines publishes each asset to a destination named `<hash>:<account>-<region>-<8 hex>`,
      // the last part derived from the asset's hash too.
      .replace(DESTINATION_SUFFIX, '$1');
    const template = withStatementsSorted(JSON.parse(text)) as { Resources?: Record<string, unknown> };
    delete template.Resources?.CDKMetadata;
    found.set(path.relative(root, full), template);
  }
  return found;
}

/** Paths at which two JSON values differ (at most `limit`). */
function differences(before: unknown, after: unknown, at: string, out: string[], limit = 20): void {
  if (out.length >= limit) return;
  if (typeof before !== typeof after || Array.isArray(before) !== Array.isArray(after) || before === null || after === null || typeof before !== 'object') {
    if (JSON.stringify(before) !== JSON.stringify(after)) out.push(`${at}: ${JSON.stringify(before)?.slice(0, 160)} → ${JSON.stringify(after)?.slice(0, 160)}`);
    return;
  }
  const left = before as Record<string, unknown>;
  const right = after as Record<string, unknown>;
  for (const key of new Set([...Object.keys(left), ...Object.keys(right)])) differences(left[key], right[key], `${at}/${key}`, out, limit);
}

function main(): void {
  const [beforeRoot, afterRoot] = process.argv.slice(2);
  if (!beforeRoot || !afterRoot) {
    console.error('usage: npm run compare-templates -- BEFORE_CDK_OUT AFTER_CDK_OUT');
    process.exit(2);
  }
  const before = templates(beforeRoot);
  const after = templates(afterRoot);
  let differing = 0;
  for (const name of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const found: string[] = [];
    if (!before.has(name) || !after.has(name)) found.push(before.has(name) ? 'only before' : 'only after');
    else differences(before.get(name), after.get(name), '', found);
    if (found.length === 0) continue;
    differing++;
    console.log(`${name}\n  ${found.join('\n  ')}`);
  }
  console.log(`${before.size} templates before, ${after.size} after; ${differing} differ`);
  process.exit(differing === 0 ? 0 : 1);
}

main();
