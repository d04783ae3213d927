import { spawnSync } from 'child_process';
import * as path from 'path';
import { toolCommand } from './python-tools';

const CONFIG = path.join(__dirname, '..', '..', '.cfnlintrc.yaml');

/** cfn-lint over `files` with the project's .cfnlintrc.yaml (the config `npm run lint:cfn` uses). */
export function cfnLint(files: string[]): { error?: Error; output: string; status: number | null } {
  const lint = spawnSync(toolCommand('cfn-lint'), ['--config-file', CONFIG, '--', ...files], { encoding: 'utf8' });
  return { error: lint.error, output: lint.stdout + lint.stderr, status: lint.status };
}
