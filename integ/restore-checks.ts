import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { ExecuteStatementCommand, type RDSDataClient } from '@aws-sdk/client-rds-data';
import { paginateScan, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { OrderJournalSchema } from '../lambda/contracts/tables';
import { MIGRATIONS_TABLE } from '../lambda/migrate/migrator';
import { withRetry } from '../lambda/shared/retry';

/**
 * What the restore drill checks in a restored cluster: the schema the migrations create, and that
 * every order the journal says was applied before the restore point is in the restored `orders`.
 * SQL runs through the small SqlRunner interface: the RDS Data API against the scratch cluster, a
 * loopback PostgreSQL in the tests.
 */

/** SQL with `:name` parameters (the Data API's syntax), answering rows of plain values. */
export interface SqlRunner {
  query(sql: string, parameters?: Record<string, string>): Promise<Record<string, unknown>[]>;
}

/** The migrations' directory: the schema the restored cluster must have is read from it. */
export const MIGRATIONS_DIRECTORY = path.join(__dirname, '..', 'lambda', 'migrate', 'migrations');

/** How many order ids one membership query carries (the Data API answers at most 1 MiB). */
const ORDER_ID_BATCH = 500;

/** How many missing orders the report lists (the count is always complete). */
export const MISSING_LISTED = 20;

/** Attempts of each Data API statement: a new writer can refuse the first few while it starts. */
const SQL_ATTEMPTS = 4;

/**
 * The RDS Data API as a SqlRunner: ExecuteStatement on the cluster's writer with the database
 * secret, records formatted as JSON (RDS Data API reference, "ExecuteStatement": formatRecordsAs;
 * the Data API runs only on a writer instance, and not on T instance classes: Aurora User Guide,
 * "Limitations for the Amazon RDS Data API").
 */
export function dataApiRunner(
  client: Pick<RDSDataClient, 'send'>,
  target: { readonly resourceArn: string; readonly secretArn: string; readonly database: string },
  sleep?: (ms: number) => Promise<void>,
): SqlRunner {
  return {
    query: async (sql, parameters = {}) => {
      const response = await withRetry(
        `run '${sql.slice(0, 60)}' on ${target.resourceArn} (Data API)`,
        () =>
          client.send(
            new ExecuteStatementCommand({
              resourceArn: target.resourceArn,
              secretArn: target.secretArn,
              database: target.database,
              sql,
              parameters: Object.entries(parameters).map(([name, value]) => ({ name, value: { stringValue: value } })),
              formatRecordsAs: 'JSON',
            }),
          ),
        { attempts: SQL_ATTEMPTS, sleep },
      );
      if (response.formattedRecords === undefined || response.formattedRecords === '') return [];
      const rows: unknown = JSON.parse(response.formattedRecords);
      if (!Array.isArray(rows)) throw new Error(`Data API on ${target.resourceArn}: formattedRecords is not a JSON array`);
      return rows as Record<string, unknown>[];
    },
  };
}

/** The tables and migration versions the migrations in `directory` create (read from their SQL). */
export function expectedSchema(directory: string = MIGRATIONS_DIRECTORY): { tables: string[]; versions: string[] } {
  const files = readdirSync(directory)
    .filter((file) => file.endsWith('.sql'))
    .sort();
  const tables = new Set<string>([MIGRATIONS_TABLE]);
  for (const file of files) {
    for (const match of readFileSync(path.join(directory, file), 'utf8').matchAll(/CREATE TABLE IF NOT EXISTS\s+([a-z_][a-z0-9_]*)/gi)) {
      tables.add(match[1].toLowerCase());
    }
  }
  return { tables: [...tables].sort(), versions: files.map((file) => file.replace(/\.sql$/, '')) };
}

/** Problems with the restored schema: missing tables, migrations not recorded. */
export async function checkSchema(sql: SqlRunner, expected: { tables: string[]; versions: string[] }): Promise<string[]> {
  const problems: string[] = [];
  const tables = new Set(
    (await sql.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")).map((row) => String(row.table_name)),
  );
  const missingTables = expected.tables.filter((table) => !tables.has(table));
  if (missingTables.length > 0) problems.push(`the restored database lacks table(s) ${missingTables.join(', ')}`);
  if (tables.has(MIGRATIONS_TABLE)) {
    const versions = new Set((await sql.query(`SELECT version FROM ${MIGRATIONS_TABLE}`)).map((row) => String(row.version)));
    const missingVersions = expected.versions.filter((version) => !versions.has(version));
    if (missingVersions.length > 0) problems.push(`the restored ${MIGRATIONS_TABLE} does not record migration(s) ${missingVersions.join(', ')}`);
  }
  return problems;
}

/** A journal entry the restored database must hold. */
export interface AppliedEntry {
  readonly orderId: string;
  readonly orderKey: string;
  readonly appliedAt: string;
}

/**
 * Every journal entry marked applied (`appliedAt`, set by the processor after its commit) before
 * `cutoff`: its order was committed before the restore point, so the restored cluster must have
 * it. Strongly consistent scan, every page.
 */
export async function appliedBefore(
  dynamodb: Pick<DynamoDBClient, 'send'>,
  journalTable: string,
  cutoff: Date,
  sleep?: (ms: number) => Promise<void>,
): Promise<AppliedEntry[]> {
  return withRetry(
    `scan ${journalTable} for entries applied before ${cutoff.toISOString()}`,
    async () => {
      const entries: AppliedEntry[] = [];
      const pages = paginateScan(
        { client: dynamodb as DynamoDBClient },
        {
          TableName: journalTable,
          ConsistentRead: true,
          FilterExpression: 'appliedAt < :cutoff',
          ProjectionExpression: '#key, orderId, appliedAt',
          ExpressionAttributeNames: { '#key': OrderJournalSchema.orderKey },
          ExpressionAttributeValues: { ':cutoff': { S: cutoff.toISOString() } },
        },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) {
          const orderId = item.orderId?.S;
          if (!orderId) throw new Error(`journal entry ${item[OrderJournalSchema.orderKey]?.S ?? '(no key)'} in ${journalTable} has no orderId`);
          entries.push({ orderId, orderKey: item[OrderJournalSchema.orderKey]?.S ?? '', appliedAt: item.appliedAt?.S ?? '' });
        }
      }
      return entries;
    },
    { attempts: SQL_ATTEMPTS, sleep },
  );
}

/** The restored order count and the applied journal entries it lacks. */
export interface OrderCheck {
  readonly restoredOrders: number;
  readonly journalApplied: number;
  /** How many applied entries the restored `orders` lacks. */
  readonly missingCount: number;
  /** The first MISSING_LISTED of them, oldest applied first. */
  readonly missing: AppliedEntry[];
}

/** Counts the restored orders and finds every applied journal entry the restored `orders` lacks. */
export async function checkOrders(sql: SqlRunner, applied: readonly AppliedEntry[]): Promise<OrderCheck> {
  const [countRow] = await sql.query('SELECT count(*) AS count FROM orders');
  const restoredOrders = Number(countRow?.count);
  if (!Number.isFinite(restoredOrders)) throw new Error(`SELECT count(*) FROM orders answered ${JSON.stringify(countRow)}`);
  const found = new Set<string>();
  for (let start = 0; start < applied.length; start += ORDER_ID_BATCH) {
    const ids = applied.slice(start, start + ORDER_ID_BATCH).map((entry) => entry.orderId);
    // One text parameter split in SQL: the Data API takes no array parameters.
    const rows = await sql.query("SELECT order_id::text AS order_id FROM orders WHERE order_id = ANY(string_to_array(:ids, ',')::uuid[])", {
      ids: ids.join(','),
    });
    for (const row of rows) found.add(String(row.order_id).toLowerCase());
  }
  const missing = applied.filter((entry) => !found.has(entry.orderId.toLowerCase())).sort((a, b) => a.appliedAt.localeCompare(b.appliedAt));
  return { restoredOrders, journalApplied: applied.length, missingCount: missing.length, missing: missing.slice(0, MISSING_LISTED) };
}
