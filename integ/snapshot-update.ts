#!/usr/bin/env node
/*
 * `npm run integ:snapshot`: synthesizes each integration test app and rewrites its checked-in
 * snapshot, printing what changed. Review the printed changes (and `git diff`) before committing:
 * the test command fails on any difference between an app and its snapshot.
 */
import * as fs from 'fs';
import * as path from 'path';
import { compareSnapshots, INTEG_APPS, readSnapshot, Snapshot, synthesizeSnapshot, writeSnapshot } from './snapshot';

for (const app of INTEG_APPS) {
  const actual = synthesizeSnapshot(app);
  const expected: Snapshot = fs.existsSync(app.snapshotDir) ? readSnapshot(app.snapshotDir) : new Map();
  const changes = compareSnapshots(expected, actual);
  writeSnapshot(actual, app.snapshotDir);
  const where = path.relative(process.cwd(), app.snapshotDir);
  console.log(changes.length === 0 ? `${where}: unchanged` : `${where}: ${changes.length} change(s)\n${changes.map((line) => `  ${line}`).join('\n')}`);
}
