/**
 * `npm run bench`: figures for the order path, printed, never asserted.
 * - processor throughput (orders/s) against a local PostgreSQL, in batches as SQS delivers them:
 *   once with the journal on moto_server (the whole local path) and once with the journal's
 *   answer given in-process (the database path alone);
 * - the same PostgreSQL's raw multi-row insert rate, measured in the same run, and the ratio;
 * - each function's bundle against a floor: size, module load, and the standby's first request
 *   (scripts/bench-bundles.ts). `npm run bench -- --bundles` prints these alone.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Client } from 'pg';
import type { Migration } from '../lambda/migrate/migrations';
import { applyMigrations } from '../lambda/migrate/migrator';
import { configSchema, PROCESSOR_BATCH_SIZE_MAX } from '../lib/core/config';
import { MIGRATIONS_DIRECTORY } from '../lib/data/schema-migration';
import { processOrders } from '../lambda/processor/processor';
import { Database } from '../lambda/shared/database';
import { journalEntry } from '../lambda/shared/journal';
import { AcceptedOrder, requestDigest } from '../lambda/shared/order';
import { createJournalTable, createControlTable } from '../test/helpers/aws';
import { sqsEvent } from '../test/helpers/sqs-event';
import { startMoto, startPostgres } from '../test/helpers/services';
import { bundleFigures } from './bench-bundles';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 5000);
const CONCURRENT_BATCHES = 4;
const RAW_ROWS_PER_STATEMENT = 1000;

/** The migrations, read from their files (tsx cannot import .sql as the bundles do). */
const MIGRATIONS: Migration[] = fs
  .readdirSync(MIGRATIONS_DIRECTORY)
  .filter((file) => file.endsWith('.sql'))
  .sort()
  .map((file) => ({ version: file.replace(/\.sql$/, ''), sql: fs.readFileSync(path.join(MIGRATIONS_DIRECTORY, file), 'utf8') }));

const logger = new Logger({ serviceName: 'bench', logLevel: (process.env.BENCH_LOG_LEVEL ?? 'SILENT') as 'SILENT' });

function order(index: number): AcceptedOrder {
  const request = {
    clientOrderId: `bench-${index}`,
    accountId: 'acct-1',
    symbol: 'AAPL',
    side: 'buy' as const,
    orderType: 'limit' as const,
    quantity: '10',
    limitPrice: '187.25',
  };
  return { ...request, orderId: crypto.randomUUID(), acceptedAt: new Date().toISOString(), acceptedRegion: 'us-east-1', requestDigest: requestDigest(request) };
}

async function freshDatabase(url: string, name: string): Promise<Client> {
  const admin = new Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const client = new Client({ connectionString: url.replace(/\/postgres$/, `/${name}`) });
  await client.connect();
  await applyMigrations(client, MIGRATIONS);
  return client;
}

async function rawInsertRate(client: Client): Promise<number> {
  const rows = Array.from({ length: ORDERS }, (_unused, index) => order(index));
  const started = process.hrtime.bigint();
  for (let offset = 0; offset < rows.length; offset += RAW_ROWS_PER_STATEMENT) {
    const chunk = rows.slice(offset, offset + RAW_ROWS_PER_STATEMENT);
    const values: unknown[] = [];
    const tuples = chunk.map((row, index) => {
      values.push(
        row.orderId,
        row.clientOrderId,
        row.accountId,
        row.symbol,
        row.side,
        row.orderType,
        row.quantity,
        row.limitPrice,
        row.acceptedAt,
        row.acceptedRegion,
        1,
      );
      const base = index * 11;
      return `(${Array.from({ length: 11 }, (_v, column) => `$${base + column + 1}`).join(', ')})`;
    });
    await client.query(
      `INSERT INTO orders (order_id, client_order_id, account_id, symbol, side, order_type, quantity, limit_price, accepted_at, accepted_region, fencing_epoch) VALUES ${tuples.join(', ')}`,
      values,
    );
  }
  return ORDERS / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function processorRate(
  databaseUrl: string,
  databaseName: string,
  documents: DynamoDBDocumentClient,
  journalTable: string,
  controlTable: string,
  secretArn: string,
  batchSize: number,
): Promise<number> {
  const url = new URL(databaseUrl);
  const database = new Database(
    { host: url.hostname, port: Number(url.port), database: databaseName, secretArn, poolSize: 8, tls: false },
    new (await import('@aws-sdk/client-secrets-manager')).SecretsManagerClient({}),
    logger,
  );
  const orders = Array.from({ length: ORDERS }, (_unused, index) => order(index));
  // Journal entries exist before processing, as intake wrote them.
  if (journalTable !== 'in-process') {
    for (let offset = 0; offset < orders.length; offset += 50) {
      await Promise.all(
        orders.slice(offset, offset + 50).map((each) => documents.send(new PutCommand({ TableName: journalTable, Item: journalEntry(each, 1) }))),
      );
    }
  }
  const batches: AcceptedOrder[][] = [];
  for (let offset = 0; offset < orders.length; offset += batchSize) batches.push(orders.slice(offset, offset + batchSize));
  const started = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENT_BATCHES }, async () => {
      while (next < batches.length) {
        const batch = batches[next++];
        const response = await processOrders(sqsEvent(batch.map((each) => ({ messageId: each.orderId, body: JSON.stringify(each) }))), {
          database,
          documents,
          journalTable,
          controlTable,
          region: 'us-east-1',
          primaryRegion: 'us-east-1',
          logger,
        });
        if (response.batchItemFailures.length > 0) throw new Error(`bench batch had ${response.batchItemFailures.length} failures`);
      }
    }),
  );
  const rate = ORDERS / (Number(process.hrtime.bigint() - started) / 1e9);
  await database.end();
  return rate;
}

/** A document client whose every call succeeds in-process: isolates the database path. */
function inProcessDocuments(): DynamoDBDocumentClient {
  return { send: async () => ({}) } as unknown as DynamoDBDocumentClient;
}

async function main(): Promise<void> {
  process.env.AWS_ACCESS_KEY_ID = 'bench';
  process.env.AWS_SECRET_ACCESS_KEY = 'bench';
  process.env.AWS_REGION = 'us-east-1';
  if (process.argv.includes('--bundles')) {
    const moto = await startMoto();
    process.env.AWS_ENDPOINT_URL = moto.url;
    try {
      await bundleFigures();
    } finally {
      await moto.stop();
    }
    return;
  }
  const [postgres, moto] = await Promise.all([startPostgres(), startMoto()]);
  process.env.AWS_ENDPOINT_URL = moto.url;
  try {
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
    const { SecretsManagerClient, CreateSecretCommand } = await import('@aws-sdk/client-secrets-manager');
    const secret = await new SecretsManagerClient({}).send(
      new CreateSecretCommand({ Name: 'bench-db', SecretString: JSON.stringify({ username: 'postgres', password: 'trust' }) }),
    );

    const raw = await freshDatabase(postgres.url, 'bench_raw');
    const rawRate = await rawInsertRate(raw);
    await raw.end();

    // The database path at the default batch and at the largest the config allows: a statement's
    // fixed cost (planning, the fence, the commit) is shared by the batch's rows.
    const defaultBatch = configSchema.shape.processorBatchSize.parse(undefined);
    const alone: { batchSize: number; rate: number }[] = [];
    for (const batchSize of [defaultBatch, PROCESSOR_BATCH_SIZE_MAX]) {
      const name = `bench_alone_${batchSize}`;
      await (await freshDatabase(postgres.url, name)).end();
      alone.push({ batchSize, rate: await processorRate(postgres.url, name, inProcessDocuments(), 'in-process', 'in-process', secret.ARN!, batchSize) });
    }

    await (await freshDatabase(postgres.url, 'bench_moto')).end();
    const [journalTable, controlTable] = await Promise.all([createJournalTable(documents), createControlTable(documents)]);
    const motoRate = await processorRate(postgres.url, 'bench_moto', documents, journalTable, controlTable, secret.ARN!, defaultBatch);

    console.log(`orders per run: ${ORDERS} (${CONCURRENT_BATCHES} batches at once, pool of 8)`);
    console.log(`raw multi-row insert (${RAW_ROWS_PER_STATEMENT} rows/statement, autocommit): ${rawRate.toFixed(0)} rows/s`);
    for (const { batchSize, rate } of alone) {
      console.log(
        `processor, database path alone, batches of ${String(batchSize).padStart(3)}: ${rate.toFixed(0)} orders/s  ratio to raw ${(rate / rawRate).toFixed(2)}`,
      );
    }
    console.log(
      `processor, journal on moto_server, batches of ${String(defaultBatch).padStart(3)}: ${motoRate.toFixed(0)} orders/s  ratio to raw ${(motoRate / rawRate).toFixed(3)}`,
    );
    await bundleFigures();
  } finally {
    moto.stop();
    postgres.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
