import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { readControlState } from '../shared/control';
import type { Database } from '../shared/database';
import type { ControlSettings } from '../shared/env';
import { json } from '../shared/http';
import { readJournalEntry } from '../shared/journal';

/** A key no order can have (account and client order ids exclude spaces): reading it proves the journal answers. */
export const JOURNAL_PROBE_KEY = { accountId: 'health probe', clientOrderId: 'health probe' } as const;

export interface HealthDependencies extends ControlSettings {
  readonly database: Database;
  readonly documents: DynamoDBDocumentClient;
  /** Time each check may take; they run at once. */
  readonly checkTimeoutMs: number;
  readonly logger: Logger;
}

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly detail: string;
}

async function timed(name: string, timeoutMs: number, check: () => Promise<string>): Promise<CheckResult> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const detail = await Promise.race([check(), timeout]);
    return { name, ok: true, ms: Date.now() - started, detail };
  } catch (error) {
    return { name, ok: false, ms: Date.now() - started, detail: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * GET /health, the deep check Route 53 probes. 200 only when this region can serve:
 * - database: this region's cluster answers a query (writer or, in a standby region, reader:
 *   intake does not need the writer, and requiring it would keep traffic away from the standby
 *   until Aurora's promotion ends);
 * - journal: this region's replica of the order journal answers a strongly consistent read;
 * - control: the control table answers and does not list this region as drained (the
 *   orchestrator drains the old region in a planned failover).
 * Otherwise 503 naming the failing checks. All run at once within `checkTimeoutMs`.
 */
export async function checkHealth(deps: HealthDependencies): Promise<APIGatewayProxyResult> {
  const checks = await Promise.all([
    timed('database', deps.checkTimeoutMs, async () => {
      const rows = await deps.database.query<{ in_recovery: boolean }>('health query', 'SELECT pg_is_in_recovery() AS in_recovery');
      return rows[0]?.in_recovery ? 'reader reachable' : 'writer reachable';
    }),
    timed('journal', deps.checkTimeoutMs, async () => {
      await readJournalEntry(deps.documents, deps.journalTable, JOURNAL_PROBE_KEY);
      return 'readable';
    }),
    timed('control', deps.checkTimeoutMs, async () => {
      const state = await readControlState(deps.documents, deps.controlTable, deps.primaryRegion);
      if (state.drainedRegions.includes(deps.region)) {
        throw new Error(`region drained (active region ${state.activeRegion}, epoch ${state.fencingEpoch})`);
      }
      return state.activeRegion === deps.region ? `active, epoch ${state.fencingEpoch}` : `standby, active region ${state.activeRegion}`;
    }),
  ]);
  const failing = checks.filter((check) => !check.ok).map((check) => check.name);
  if (failing.length > 0) {
    deps.logger.warn('region unhealthy', { failing, checks });
    return json(503, { status: 'unavailable', region: deps.region, failing, checks });
  }
  return json(200, { status: 'ok', region: deps.region, checks });
}
