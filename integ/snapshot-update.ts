#!/usr/bin/env node
/*
 * `npm run integ:snapshot`: synthesizes the integration test app and rewrites its checked-in
 * snapshot, printing what changed. Review the printed changes (and `git diff`) before committing:
 * the test command fails on any difference between the app and this snapshot.
 */
import * as path from 'path';
import { compareSnapshots, readSnapshot, SNAPSHOT_DIR, Snapshot, synthesizeSnapshot, writeSnapshot } from './snapshot';
import * as fs from 'fs';

const actual = synthesizeSnapshot();
const expected: Snapshot = fs.existsSync(SNAPSHOT_DIR) ? readSnapshot() : new Map();
const changes = compareSnapshots(expected, actual);
writeSnapshot(actual);
console.log(
  changes.length === 0
    ? `${path.relative(process.cwd(), SNAPSHOT_DIR)}: unchanged`
    : `${path.relative(process.cwd(), SNAPSHOT_DIR)}: ${changes.length} change(s)\n${changes.map((line) => `  ${line}`).join('\n')}`,
);
