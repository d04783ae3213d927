import {
  DeleteTableCommand,
  DescribeTableCommand,
  paginateScan,
  RestoreTableToPointInTimeCommand,
  type DynamoDBClient,
  type ScanCommandInput,
} from '@aws-sdk/client-dynamodb';
import { OrderJournalSchema } from '../lambda/contracts/tables';
import { withRetry } from '../lambda/shared/retry';
import { waitUntil, type WaitDependencies } from './restore-wait';

/**
 * The DynamoDB half of the restore drill: the order journal restored with point-in-time recovery
 * into a scratch table (RestoreTableToPointInTime: "restores the specified table to the specified
 * point in time within EarliestRestorableDateTime and LatestRestorableDateTime", DynamoDB API
 * reference), counted, compared with the source, and deleted.
 */

/** Attempts of each DynamoDB call. */
const DYNAMODB_ATTEMPTS = 5;

/**
 * How far an entry's `acceptedAt` can be from the moment its write reached the table: intake stamps
 * the order, then writes it, within one request (its API Gateway integration times out after 29 s).
 * A restore at time T holds every entry written before T, so its count lies between the source's
 * entries accepted before T minus this and those accepted before T plus this.
 */
export const ACCEPTED_TO_WRITTEN_MARGIN_MS = 30_000;

/** How long the scratch table's deletion may take, whatever time the restore used (a deletion takes seconds to minutes). */
const TABLE_DELETE_TIMEOUT_MS = 10 * 60_000;

export interface TableRestoreDependencies extends WaitDependencies {
  readonly dynamodb: Pick<DynamoDBClient, 'send'>;
}

export interface TableRestoreResult {
  readonly restoredItems: number | null;
  /** Source entries accepted before the point minus / plus the margin: the restored count must lie between. */
  readonly sourceItemsBefore: { readonly low: number; readonly high: number } | null;
  readonly restoreSeconds: number | null;
  readonly problems: string[];
}

/** Items in a table (Scan with Select COUNT, every page), optionally only those matching a filter. */
export async function countItems(
  deps: TableRestoreDependencies,
  table: string,
  filter?: Pick<ScanCommandInput, 'FilterExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>,
): Promise<number> {
  return withRetry(
    `count the items of ${table}`,
    async () => {
      let count = 0;
      for await (const page of paginateScan({ client: deps.dynamodb as DynamoDBClient }, { TableName: table, Select: 'COUNT', ...filter })) {
        count += page.Count ?? 0;
      }
      return count;
    },
    { attempts: DYNAMODB_ATTEMPTS, sleep: deps.sleep },
  );
}

function acceptedBefore(time: number): Pick<ScanCommandInput, 'FilterExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'> {
  return {
    FilterExpression: '#accepted < :time',
    ExpressionAttributeNames: { '#accepted': OrderJournalSchema.acceptedAt },
    ExpressionAttributeValues: { ':time': { S: new Date(time).toISOString() } },
  };
}

async function tableStatus(deps: TableRestoreDependencies, table: string): Promise<string> {
  try {
    const response = await withRetry(`describe table ${table}`, () => deps.dynamodb.send(new DescribeTableCommand({ TableName: table })), {
      attempts: DYNAMODB_ATTEMPTS,
      sleep: deps.sleep,
      isRetryable: (error) => (error as Error).name !== 'ResourceNotFoundException',
    });
    return response.Table?.TableStatus ?? 'unknown';
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return 'gone';
    throw error;
  }
}

/** Deletes the scratch table and waits until it is gone; the problem, if any. */
async function deleteScratchTable(deps: TableRestoreDependencies, table: string, deadline: number, pollMs: number): Promise<string | undefined> {
  try {
    await withRetry(`delete table ${table}`, () => deps.dynamodb.send(new DeleteTableCommand({ TableName: table })), {
      attempts: DYNAMODB_ATTEMPTS,
      sleep: deps.sleep,
      isRetryable: (error) => (error as Error).name !== 'ResourceNotFoundException',
    });
    await waitUntil(
      `deleting table ${table}`,
      async () => {
        const status = await tableStatus(deps, table);
        return { done: status === 'gone', status };
      },
      deadline,
      pollMs,
      deps,
    );
    return undefined;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return undefined;
    return `scratch table ${table} NOT deleted: ${(error as Error).message}; delete it by hand: aws dynamodb delete-table --table-name ${table}`;
  }
}

/**
 * Restores `journalTable` as it was at `point` into `scratchTable`, waits until ACTIVE, counts both,
 * and deletes the scratch table whatever happened after the restore started.
 */
export async function restoreJournalTable(
  tables: { readonly journalTable: string; readonly scratchTable: string },
  point: Date,
  deadline: number,
  pollMs: number,
  deps: TableRestoreDependencies,
): Promise<TableRestoreResult> {
  const problems: string[] = [];
  const started = deps.now();
  try {
    await withRetry(
      `restore ${tables.journalTable} to ${point.toISOString()} as ${tables.scratchTable}`,
      () =>
        deps.dynamodb.send(
          new RestoreTableToPointInTimeCommand({ SourceTableName: tables.journalTable, TargetTableName: tables.scratchTable, RestoreDateTime: point }),
        ),
      { attempts: DYNAMODB_ATTEMPTS, sleep: deps.sleep, isRetryable: (error) => (error as Error).name !== 'TableAlreadyExistsException' },
    );
  } catch (error) {
    return { restoredItems: null, sourceItemsBefore: null, restoreSeconds: null, problems: [`DynamoDB restore failed: ${(error as Error).message}`] };
  }
  let restoredItems: number | null = null;
  let sourceItemsBefore: TableRestoreResult['sourceItemsBefore'] = null;
  let restoreSeconds: number | null = null;
  try {
    await waitUntil(
      `scratch table ${tables.scratchTable}`,
      async () => {
        const status = await tableStatus(deps, tables.scratchTable);
        return { done: status === 'ACTIVE', status };
      },
      deadline,
      pollMs,
      deps,
    );
    restoreSeconds = Math.round(deps.now() - started) / 1000;
    restoredItems = await countItems(deps, tables.scratchTable);
    sourceItemsBefore = {
      low: await countItems(deps, tables.journalTable, acceptedBefore(point.getTime() - ACCEPTED_TO_WRITTEN_MARGIN_MS)),
      high: await countItems(deps, tables.journalTable, acceptedBefore(point.getTime() + ACCEPTED_TO_WRITTEN_MARGIN_MS)),
    };
    if (restoredItems < sourceItemsBefore.low || restoredItems > sourceItemsBefore.high) {
      problems.push(
        `the journal restored to ${point.toISOString()} holds ${restoredItems} item(s); the source has ${sourceItemsBefore.low} accepted before ${ACCEPTED_TO_WRITTEN_MARGIN_MS / 1000} s earlier and ${sourceItemsBefore.high} before ${ACCEPTED_TO_WRITTEN_MARGIN_MS / 1000} s later`,
      );
    }
  } catch (error) {
    problems.push(`DynamoDB restore check failed: ${(error as Error).message}`);
  } finally {
    deps.print(`deleting scratch table ${tables.scratchTable}${problems.length > 0 ? ' (after a failed check)' : ''}`);
    const problem = await deleteScratchTable(deps, tables.scratchTable, deps.now() + TABLE_DELETE_TIMEOUT_MS, pollMs);
    if (problem) problems.push(problem);
  }
  return { restoredItems, sourceItemsBefore, restoreSeconds, problems };
}
