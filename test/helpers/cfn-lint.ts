import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { toolCommand } from './python-tools';

const CONFIG = path.join(__dirname, '..', '..', '.cfnlintrc.yaml');

/** cfn-lint over `files` with the project's .cfnlintrc.yaml (the config `npm run lint:cfn` uses). */
export function cfnLint(files: string[]): { error?: Error; output: string; status: number | null } {
  const lint = spawnSync(toolCommand('cfn-lint'), ['--config-file', CONFIG, '--', ...files], { encoding: 'utf8' });
  return { error: lint.error, output: lint.stdout + lint.stderr, status: lint.status };
}

/** cfn-lint over the templates of an integration snapshot (relative path to template text). */
export function cfnLintSnapshot(snapshot: ReadonlyMap<string, string>): { error?: Error; output: string; status: number | null } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'integ-lint-'));
  try {
    const files = [...snapshot]
      .filter(([file]) => file.endsWith('.template.json'))
      .map(([file, text]) => {
        const target = path.join(dir, path.basename(file));
        fs.writeFileSync(target, text);
        return target;
      });
    return cfnLint(files);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
