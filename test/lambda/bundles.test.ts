import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FUNCTION_CONTRACTS } from '../../lambda/contracts';
import { INTAKE } from '../../lambda/contracts/intake';
import { createJournalTable, createOrderQueues, scanAll } from '../helpers/aws';
import { bundleAsDeployed } from '../helpers/bundles';

/**
 * Each handler bundled as the deployment bundles it (BUNDLE_OPTIONS), its esbuild metafile read
 * for packages that do not belong: the classic zod API (handlers use zod/mini), and any AWS SDK
 * client the handler does not call. Then the intake bundle itself, the code a standby region runs
 * on its first request of a failover, accepts an order against moto_server.
 */

const ROOT = path.join(__dirname, '..', '..');

/** The AWS SDK clients each handler calls; any other in its bundle is a stray. */
const SDK_CLIENTS: Record<string, readonly string[]> = {
  intake: ['dynamodb', 'sqs'],
  'get-order': ['dynamodb', 'secrets-manager'],
  health: ['dynamodb', 'secrets-manager'],
  processor: ['dynamodb', 'secrets-manager'],
  reconcile: ['dynamodb', 'secrets-manager'],
  'failover-steps': ['cloudwatch', 'dynamodb', 'rds', 'sfn', 'ssm'],
  prober: ['cloudwatch', 'dynamodb', 'sfn', 'sns', 'ssm'],
  readiness: ['cloudwatch', 'dynamodb', 'eventbridge', 'route-53', 's3', 'sfn', 'ssm'],
  'switch-keeper': ['cloudwatch', 'ssm'],
  migrate: ['secrets-manager'],
  'backup-vault-cleaner': ['backup'],
};

const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundles-'));
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

async function bundle(folder: string): Promise<{ file: string; packages: Set<string> }> {
  const file = path.join(outdir, `${folder}.js`);
  const metafile = await bundleAsDeployed(path.join(ROOT, 'lambda', folder, 'index.ts'), file);
  const packages = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)(\/v4\/classic)?/.exec(input);
    if (match) packages.add(match[2] ? `${match[1]}/classic` : match[1]);
  }
  return { file, packages };
}

describe('handler bundles', () => {
  it('covers every deployed handler', () => {
    expect(Object.keys(SDK_CLIENTS).sort()).toEqual(FUNCTION_CONTRACTS.map((contract) => contract.codeFolder).sort());
  });

  it.each(Object.entries(SDK_CLIENTS))('%s holds only the SDK clients it calls, and no classic zod', async (folder, clients) => {
    const { packages } = await bundle(folder);
    const sdkClients = [...packages].filter((name) => name.startsWith('@aws-sdk/client-')).map((name) => name.slice('@aws-sdk/client-'.length));
    expect(sdkClients.sort()).toEqual([...clients].sort());
    expect([...packages].filter((name) => name === 'zod/classic')).toEqual([]);
  });

  it('runs: the intake bundle, loaded fresh with its environment, accepts an order against moto_server', async () => {
    const { file } = await bundle('intake');
    const [journalTable, queues] = await Promise.all([createJournalTable(), createOrderQueues(5, 30)]);
    const event = {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientOrderId: 'bundle-1', accountId: 'acct-1', symbol: 'AAPL', side: 'buy', orderType: 'market', quantity: '5' }),
      isBase64Encoded: false,
      requestContext: { requestId: 'r-1' },
    };
    const run = spawnSync(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(file)}).handler(${JSON.stringify(event)}, { getRemainingTimeInMillis: () => 10000, functionName: 'intake', awsRequestId: 'r-1' })` +
          '.then((answer) => process.stdout.write(JSON.stringify(answer)))',
      ],
      {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_REGION: 'us-east-1',
          JOURNAL_TABLE: journalTable,
          QUEUE_URL: queues.queueUrl,
          PENDING_SHARDS: '8',
          MAX_BODY_BYTES: '4096',
          POWERTOOLS_SERVICE_NAME: INTAKE.service,
          POWERTOOLS_METRICS_NAMESPACE: 'bundle-test',
          POWERTOOLS_LOG_LEVEL: 'SILENT',
        },
      },
    );
    expect(run.status).toBe(0);
    const answer = JSON.parse(run.stdout.slice(run.stdout.indexOf('{"statusCode"')));
    expect(answer.statusCode).toBe(201);
    expect(await scanAll(journalTable)).toEqual([expect.objectContaining({ clientOrderId: 'bundle-1', accountId: 'acct-1' })]);
  });
});
