import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The README's synth command, run as a user runs it (the CDK CLI starting bin/app.ts). */
const ROOT = path.join(__dirname, '..');
const CDK = path.join(ROOT, 'node_modules', '.bin', 'cdk');

function cdkSynth(...args: string[]) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-cli-'));
  const result = spawnSync(CDK, ['synth', '--quiet', '--output', outdir, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    // No credentials and no region: synth must not need AWS.
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_PROFILE: '',
      AWS_REGION: '',
      AWS_DEFAULT_REGION: '',
      CDK_DISABLE_VERSION_CHECK: '1',
    },
  });
  return { ...result, outdir };
}

describe('cdk synth', () => {
  it('writes the pipeline with the test and production stages of both regions by default, offline', () => {
    const result = cdkSynth();
    expect(result.stderr).not.toMatch(/Synthesis found|Invalid configuration/);
    expect(result.status).toBe(0);
    const templates = fs
      .readdirSync(result.outdir, { recursive: true })
      .map(String)
      .filter((file) => file.endsWith('.template.json'));
    expect(templates.sort()).toEqual([
      'DrPipeline.template.json',
      'DrPipelineSupport.template.json',
      expect.stringMatching(/^assembly-DrPipeline-Dr-prod-use1\/.*\.template\.json$/),
      expect.stringMatching(/^assembly-DrPipeline-Dr-prod-use2\/.*\.template\.json$/),
      expect.stringMatching(/^assembly-DrPipeline-Dr-test-use1\/.*\.template\.json$/),
      expect.stringMatching(/^assembly-DrPipeline-Dr-test-use2\/.*\.template\.json$/),
    ]);
  });

  it("writes one environment's us-east-1 and us-east-2 stages for direct deployment on request", () => {
    const result = cdkSynth('-c', 'deployment=direct');
    expect(result.stderr).not.toMatch(/Synthesis found|Invalid configuration/);
    expect(result.status).toBe(0);
    const templates = fs
      .readdirSync(result.outdir, { recursive: true })
      .map(String)
      .filter((file) => file.endsWith('.template.json'));
    expect(templates.sort()).toEqual([
      expect.stringMatching(/^assembly-Dr-dev-use1\/.*\.template\.json$/),
      expect.stringMatching(/^assembly-Dr-dev-use2\/.*\.template\.json$/),
    ]);
  });

  it('stops on a bad suffix with one line naming environmentSuffix', () => {
    const result = cdkSynth('-c', 'environmentSuffix=Bad_Suffix!');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/Invalid configuration:\n {2}environmentSuffix: must use only a-z, 0-9 and single hyphens/);
  });
});
