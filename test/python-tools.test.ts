import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { missingTools } from '../scripts/python-tools';
import { onPath } from './helpers/python-tools';

/**
 * npm test's pretest step (scripts/python-tools.ts) on machines without the Python tools. The
 * path that installs them from the Python package index cannot run here (no index); these runs
 * cover what it says when it cannot: no Python 3, and an install that fails (a stand-in Python
 * whose pip answers as pip does without the index).
 */

const ROOT = path.join(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

function scratch(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'python-tools-'));
}

function executable(file: string, body: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, body, { mode: 0o755 });
}

/** Runs the pretest step with PATH holding only `bin` (node, and whatever the case adds). */
function pretest(bin: string, venv: string) {
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  return spawnSync(TSX, [path.join(ROOT, 'scripts', 'python-tools.ts')], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: bin, TOOLS_VENV: venv, HOME: os.tmpdir() },
  });
}

describe('the Python tools step of npm test', () => {
  it('does nothing when both tools are on PATH', () => {
    const dir = scratch();
    for (const tool of ['moto_server', 'cfn-lint']) executable(path.join(dir, 'bin', tool), '#!/bin/sh\n');
    expect(missingTools(path.join(dir, 'bin'), path.join(dir, 'venv'))).toEqual([]);
    expect(missingTools(path.join(dir, 'elsewhere'), path.join(dir, 'venv'))).toEqual(['moto_server', 'cfn-lint']);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stops at once, in one line, without Python 3', () => {
    const dir = scratch();
    fs.mkdirSync(path.join(dir, 'bin'));
    const run = pretest(path.join(dir, 'bin'), path.join(dir, 'venv'));
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^npm test: moto_server and cfn-lint not found, and Python 3 is not installed/);
    expect(lines[0]).toContain('pip install -r requirements-dev.txt');
    expect(fs.existsSync(path.join(dir, 'venv'))).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stops in one line naming the index when the install fails', () => {
    const dir = scratch();
    // A Python 3 whose venv has a pip that fails as pip does without the package index.
    executable(
      path.join(dir, 'bin', 'python3'),
      [
        '#!/bin/sh',
        '[ "$1" = "-m" ] && [ "$2" = "venv" ] || exit 2',
        `${onPath('mkdir')} -p "$3/bin"`,
        'printf \'#!/bin/sh\\necho "ERROR: Could not find a version that satisfies the requirement moto[server]==5.2.1 (from versions: none)" >&2\\nexit 1\\n\' > "$3/bin/pip"',
        `${onPath('chmod')} +x "$3/bin/pip"`,
      ].join('\n') + '\n',
    );
    const run = pretest(path.join(dir, 'bin'), path.join(dir, 'venv'));
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^npm test: could not install moto_server and cfn-lint from the Python package index \(ERROR: Could not find a version/);
    expect(lines[0]).toContain('python3 -m venv .venv-tools && .venv-tools/bin/pip install -r requirements-dev.txt');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
