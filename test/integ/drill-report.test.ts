import { execFile } from 'child_process';
import { randomBytes } from 'crypto';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { RetriesExhaustedError } from '../../lambda/shared/retry';
import { elapsedPrinter, failureLines, NO_CREDENTIALS } from '../../integ/drill-cli';
import { plannedReportDocument } from '../../integ/drill-evidence';
import { auditBucket, drillProvenance, DrillReportSchema, writeDrillReport, type DrillReportDocument } from '../../integ/drill-report';
import type { DrillOptions } from '../../integ/drill';

/*
 * The report's bucket is moto_server's S3 (the jest global setup): PutObject and GetObject are
 * real calls, and a bucket that does not exist answers NoSuchBucket as S3 does. The CLI tests run
 * `tsx integ/drill-run.ts` as a user does; the one without credentials runs with every source of
 * credentials removed (no keys, no profile files, no instance metadata), so the SDK's own
 * CredentialsProviderError is what the CLI turns into one line.
 */

const REGION = 'us-east-2';
const ACCOUNT = '123456789012';
const s3 = new S3Client({ region: REGION, forcePathStyle: true });
const instant = async (): Promise<void> => undefined;

const directories: string[] = [];
afterAll(() => directories.forEach((directory) => rmSync(directory, { recursive: true, force: true })));
function scratchDirectory(): string {
  const directory = mkdtempSync(path.join(tmpdir(), 'drill-reports-'));
  directories.push(directory);
  return directory;
}

const options: DrillOptions = {
  appName: 'trading-dr',
  environmentSuffix: 'test',
  account: ACCOUNT,
  targetRegion: REGION,
  otherRegion: 'us-east-1',
  mode: 'planned',
  reason: 'drill 2026-11-25',
  targets: { trafficSeconds: 60, totalSeconds: 900 },
  pollMs: 5000,
  timeoutMs: 1_800_000,
};

function report(environment: string, overrides: Partial<DrillReportDocument> = {}): DrillReportDocument {
  return {
    ...plannedReportDocument(
      { ...options, environmentSuffix: environment },
      {
        ok: false,
        executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:sfn-failover-use2-${environment}:drill-use2-1`,
        figures: {
          trafficSeconds: 85,
          canaryAcceptedSeconds: 87,
          canaryProcessedSeconds: 90,
          replicationLagMs: 850,
          ordersReconciled: 7,
          totalSeconds: 120,
          recordedFailoverSeconds: null,
        },
        problems: ['traffic figure 85 s (execution start -> DNS answers us-east-2) exceeds the target trafficSeconds 60 s'],
      },
      {
        account: ACCOUNT,
        commit: '0123456789abcdef0123456789abcdef01234567',
        startedBy: `arn:aws:sts::${ACCOUNT}:assumed-role/sre/alice`,
        startedAt: new Date('2026-11-25T14:00:00.123Z'),
        endedAt: new Date('2026-11-25T14:05:00.000Z'),
      },
    ),
    ...overrides,
  };
}

async function objectText(bucket: string, key: string): Promise<string> {
  return (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
}

describe('writeDrillReport', () => {
  test('puts the JSON and the Markdown into the audit bucket under drills/<env>/<date>/ and writes the same files locally (moto S3)', async () => {
    const env = `e${randomBytes(4).toString('hex')}`;
    const document = report(env);
    const bucket = auditBucket(document);
    expect(bucket).toBe(`s3-audit-logs-use2-${ACCOUNT}-${env}`);
    await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: REGION } }));
    const base = scratchDirectory();
    const location = await writeDrillReport(document, { s3, baseDirectory: base, sleep: instant });
    expect(location.jsonKey).toBe(`drills/${env}/2026-11-25/planned-2026-11-25T14-00-00-123Z.json`);
    expect(location.markdownKey).toBe(`drills/${env}/2026-11-25/planned-2026-11-25T14-00-00-123Z.md`);
    expect(location.uploaded).toBe(true);
    const uploaded = JSON.parse(await objectText(bucket, location.jsonKey));
    expect(uploaded).toEqual(document);
    expect(Object.keys(uploaded).sort()).toEqual(
      [
        'account',
        'appName',
        'commit',
        'details',
        'endedAt',
        'environment',
        'executionArn',
        'experimentId',
        'figures',
        'kind',
        'regions',
        'result',
        'schemaVersion',
        'startedAt',
        'startedBy',
        'targets',
      ].sort(),
    );
    expect(uploaded).toMatchObject({
      kind: 'planned',
      regions: { target: REGION, other: 'us-east-1' },
      targets: { trafficSeconds: 60, totalSeconds: 900 },
      figures: { trafficSeconds: 85, recordedFailoverSeconds: null },
      result: { passed: false, problems: [expect.stringContaining('exceeds the target trafficSeconds 60 s')], evidenceProblems: [] },
      experimentId: null,
    });
    const markdown = await objectText(bucket, location.markdownKey);
    expect(markdown).toContain(`# planned drill: ${env} (us-east-2): FAILED`);
    expect(markdown).toContain('| trafficSeconds | 85 |');
    expect(markdown).toContain('| recordedFailoverSeconds | unknown |');
    expect(markdown).toContain('- traffic figure 85 s');
    expect(location.localJson).toBe(path.join(base, 'drill-reports', env, '2026-11-25', 'planned-2026-11-25T14-00-00-123Z.json'));
    expect(JSON.parse(readFileSync(location.localJson, 'utf8'))).toEqual(document);
    expect(readFileSync(location.localMarkdown, 'utf8')).toBe(markdown);
  });

  test('a failed upload is an evidence problem in the local copy and never changes the verdict (moto S3: NoSuchBucket)', async () => {
    const env = `e${randomBytes(4).toString('hex')}`;
    const document = report(env, { result: { passed: true, problems: [], evidenceProblems: [] } });
    const location = await writeDrillReport(document, { s3, baseDirectory: scratchDirectory(), sleep: instant });
    expect(location.uploaded).toBe(false);
    const local = JSON.parse(readFileSync(location.localJson, 'utf8'));
    expect(local.result.passed).toBe(true);
    expect(local.result.problems).toEqual([]);
    expect(local.result.evidenceProblems).toEqual([
      expect.stringMatching(new RegExp(`^upload to s3://s3-audit-logs-use2-${ACCOUNT}-${env}/drills/${env}/2026-11-25/planned-.*\\.json failed: .*4 attempt`)),
      expect.stringMatching(/\.md failed: /),
    ]);
    expect(readFileSync(location.localMarkdown, 'utf8')).toContain('Evidence:');
  });

  test('refuses a report that breaks the schema, naming the field', async () => {
    await expect(writeDrillReport(report('test', { account: '123' }), { s3, baseDirectory: scratchDirectory(), sleep: instant })).rejects.toThrow(
      'drill report: account: must be a 12-digit account id',
    );
    expect(DrillReportSchema.safeParse({ ...report('test'), extra: 1 }).success).toBe(false);
  });
});

describe('drillProvenance', () => {
  const callerArn = async (): Promise<string> => `arn:aws:sts::${ACCOUNT}:assumed-role/sre/alice`;

  test('in CodeBuild: the resolved source version and the build with its initiator', async () => {
    const env = {
      CODEBUILD_RESOLVED_SOURCE_VERSION: 'abc123',
      CODEBUILD_BUILD_ARN: 'arn:aws:codebuild:us-east-1:1:build/drill:42',
      CODEBUILD_INITIATOR: 'codepipeline/pipeline-delivery-use1-pipeline',
    };
    expect(await drillProvenance({ env, gitHead: () => 'ignored', callerArn })).toEqual({
      commit: 'abc123',
      startedBy: 'arn:aws:codebuild:us-east-1:1:build/drill:42 (initiator codepipeline/pipeline-delivery-use1-pipeline)',
    });
  });

  test('by hand: git HEAD and the caller; without git "unknown"; without STS it says why', async () => {
    expect(await drillProvenance({ env: {}, gitHead: () => 'feedface', callerArn })).toEqual({
      commit: 'feedface',
      startedBy: `arn:aws:sts::${ACCOUNT}:assumed-role/sre/alice`,
    });
    const failing = async (): Promise<string> => {
      throw new Error('AccessDenied');
    };
    expect(await drillProvenance({ env: {}, gitHead: () => undefined, callerArn: failing })).toEqual({
      commit: 'unknown',
      startedBy: 'unknown (STS GetCallerIdentity failed: AccessDenied)',
    });
  });
});

describe('the command line', () => {
  const credentialsError = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });

  test('missing credentials are one line naming what to set, even wrapped by the retries', () => {
    expect(failureLines(credentialsError, false)).toEqual([NO_CREDENTIALS]);
    expect(failureLines(new RetriesExhaustedError('read the caller identity', 2, credentialsError), false)).toEqual([NO_CREDENTIALS]);
    expect(failureLines(new Error('Region is missing'), false)).toEqual([expect.stringMatching(/^drill: no AWS region: set AWS_REGION/)]);
  });

  test('any other error is its name and message, with the stack only when asked', () => {
    const error = new TypeError('cannot read x');
    expect(failureLines(error, false)).toEqual(['drill: TypeError: cannot read x']);
    expect(failureLines(error, true)).toEqual(['drill: TypeError: cannot read x', error.stack]);
  });

  test('progress lines carry the seconds since the start', () => {
    const lines: string[] = [];
    let clock = 1_000;
    const print = elapsedPrinter(
      (line) => lines.push(line),
      () => clock,
      1_000,
    );
    clock = 13_345;
    print("execution RUNNING: state 'Promote: switchover'");
    expect(lines).toEqual(["[  12.3 s] execution RUNNING: state 'Promote: switchover'"]);
  });

  function run(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [require.resolve('tsx/cli'), 'integ/drill-run.ts', ...argv],
        { env, cwd: path.join(__dirname, '..', '..') },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
      );
    });
  }

  test('--help prints the usage of both drills and exits 0', async () => {
    const result = await run(['--help'], process.env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('usage: npm run drill -- --env <suffix>');
    expect(result.stdout).toContain('usage: npm run drill -- --restore --env <suffix>');
  });

  test('without credentials it ends with exit 1 and one line, no stack', async () => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: scratchDirectory(),
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const result = await run(['--env', 'test'], env);
    expect(result.code).toBe(1);
    const lines = result.stderr.split('\n').filter((line) => line.startsWith('drill') || /^\s+at /.test(line));
    expect(lines).toEqual([NO_CREDENTIALS]);
  });

  test('a bad argument exits 2 with the error and the usage', async () => {
    const result = await run(['--restore', '--env', 'test', '--region', 'mars-1'], process.env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("drill: --region must be one of us-east-1, us-east-2, not 'mars-1'");
  });
});
