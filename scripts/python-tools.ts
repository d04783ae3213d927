/**
 * `npm test`'s pretest step: makes sure the Python tools the tests use (moto_server, cfn-lint) can
 * run. Each is used from PATH when there; otherwise this creates .venv-tools/ with Python 3 and
 * installs requirements-dev.txt into it, once. Without Python 3, or when the install fails (no
 * access to the Python package index), it stops at once with one line naming what is missing and
 * the command to run.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { inToolsVenv, onPath, PYTHON_TOOLS, PythonTool, REPOSITORY_ROOT, REQUIREMENTS, TOOLS_VENV, venvBin } from '../test/helpers/python-tools';

const MANUAL = `python3 -m venv .venv-tools && .venv-tools/bin/pip install -r requirements-dev.txt`;

/** The tools that can run neither from PATH nor from the virtual environment. */
export function missingTools(searchPath = process.env.PATH ?? '', venv = TOOLS_VENV): PythonTool[] {
  return PYTHON_TOOLS.filter((tool) => !onPath(tool, searchPath) && !inToolsVenv(tool, venv));
}

function fail(line: string): never {
  console.error(`npm test: ${line}`);
  process.exit(1);
}

function main(): void {
  const venv = process.env.TOOLS_VENV ?? TOOLS_VENV;
  const missing = missingTools(process.env.PATH, venv);
  if (missing.length === 0) return;
  const what = missing.join(' and ');
  const python = onPath('python3');
  if (!python) fail(`${what} not found, and Python 3 is not installed to set them up: install python3 (with venv), then run npm test again, or run ${MANUAL}`);
  console.log(`${what} not on PATH: installing requirements-dev.txt into ${path.relative(REPOSITORY_ROOT, venv) || venv} with ${python}`);
  const create = spawnSync(python, ['-m', 'venv', venv], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (create.status !== 0)
    fail(`could not create the virtual environment (${(create.stderr ?? '').trim().split('\n').pop()}): install python3-venv, or run ${MANUAL}`);
  const pip = path.join(venvBin(venv), 'pip');
  const install = spawnSync(pip, ['install', '--quiet', '-r', REQUIREMENTS], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (install.status !== 0) {
    const reason = (install.stderr ?? '').trim().split('\n').filter(Boolean).pop() ?? `exit ${install.status}`;
    fail(`could not install ${what} from the Python package index (${reason}): run ${MANUAL} where the index is reachable, or put ${what} on PATH`);
  }
  const still = missingTools(process.env.PATH, venv);
  if (still.length > 0) fail(`${still.join(' and ')} still missing after installing requirements-dev.txt into ${venv}`);
}

if (require.main === module) main();
