import * as fs from 'fs';
import * as path from 'path';

/**
 * The Python tools the tests use: moto_server (the AWS API emulator) and cfn-lint (the
 * CloudFormation linter), pinned in requirements-dev.txt. They are used from PATH when there, or
 * else from the project's own virtual environment, which `npm test` creates when they are missing
 * (scripts/python-tools.ts).
 */

export const REPOSITORY_ROOT = path.join(__dirname, '..', '..');
/** The project's own virtual environment for the tools (git-ignored). */
export const TOOLS_VENV = path.join(REPOSITORY_ROOT, '.venv-tools');
export const REQUIREMENTS = path.join(REPOSITORY_ROOT, 'requirements-dev.txt');
export const PYTHON_TOOLS = ['moto_server', 'cfn-lint'] as const;
export type PythonTool = (typeof PYTHON_TOOLS)[number];

/** The executable `name` on `searchPath`, if any. */
export function onPath(name: string, searchPath = process.env.PATH ?? ''): string | undefined {
  for (const directory of searchPath.split(path.delimiter)) {
    if (!directory) continue;
    const candidate = path.join(directory, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Where a virtual environment keeps its executables (`Scripts` on Windows). */
export function venvBin(venv: string): string {
  return path.join(venv, process.platform === 'win32' ? 'Scripts' : 'bin');
}

/** The tool in the project's virtual environment, if it was installed there. */
export function inToolsVenv(tool: PythonTool, venv = TOOLS_VENV): string | undefined {
  const candidate = path.join(venvBin(venv), tool);
  return fs.existsSync(candidate) ? candidate : undefined;
}

/** How to run a tool: from PATH, else from the project's virtual environment, else by name (and fail to start, saying so). */
export function toolCommand(tool: PythonTool): string {
  return onPath(tool) ?? inToolsVenv(tool) ?? tool;
}
