import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { RECONCILE, RECONCILE_METRICS } from '../contracts/reconcile';
import { databaseFromEnvironment } from '../shared/database-environment';
import { controlSettings } from '../shared/env';
import { createLogger } from '../shared/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { reconcileJournal, ReconcileResult } from './reconcile';

const environment = RECONCILE.environment.read();

const settings = controlSettings(environment);
const logger = createLogger(RECONCILE.service);
const metrics = new Metrics({ serviceName: RECONCILE.service });
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 5 }), { marshallOptions: { removeUndefinedValues: true } });
const database = databaseFromEnvironment(environment, logger, { poolSize: environment.DB_POOL_SIZE });

/**
 * Journal entries per query page (a page also stops at 1 MB) and at most per insert statement:
 * most entries of a page need nothing and are skipped unread, so large pages keep a run's requests
 * few; the ones that need something are read in BatchGetItem requests of 100.
 */
const PAGE_SIZE = 1000;
/**
 * A scheduled run ends within this, so runs on a one-minute schedule do not pile up while the
 * writer refuses (a region named active whose cluster is not the writer yet).
 */
const SCHEDULED_RUN_MS = 50_000;
/** Time kept back to answer the state machine before the function times out. */
const RESERVE_MS = 15_000;

/** What starts a run: the schedule (every few minutes, in both regions) or the failover state machine. */
const EventSchema = z.looseObject({ trigger: z.optional(z.enum(['schedule', 'failover'])) });

/**
 * The schedule's and the orchestrator's reconcile step. The schedule sends `{"trigger":"schedule"}`
 * (a standby region then does nothing); anything else is the failover's run, which must find its
 * region active. The figures go out as metrics, which the overdue-orders alarm watches.
 */
export async function handler(event: unknown, context: Context): Promise<ReconcileResult> {
  logger.addContext(context);
  const parsed = EventSchema.safeParse(event ?? {});
  if (!parsed.success)
    throw new Error(
      `reconcile input must be an object with an optional trigger of schedule or failover: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`,
    );
  const trigger = parsed.data.trigger ?? 'failover';
  const deadline = trigger === 'schedule' ? Date.now() + SCHEDULED_RUN_MS : Number.POSITIVE_INFINITY;
  try {
    const result = await reconcileJournal({
      database,
      documents,
      ...settings,
      logger,
      pendingShards: environment.PENDING_SHARDS,
      pageSize: PAGE_SIZE,
      remainingMs: () => Math.min(context.getRemainingTimeInMillis(), deadline - Date.now()),
      reserveMs: RESERVE_MS,
      durableAfterMs: environment.DURABLE_AFTER_SECONDS * 1000,
      replicationMarginMs: environment.REPLICATION_MARGIN_SECONDS * 1000,
      boundMs: environment.ORDER_BOUND_SECONDS * 1000,
      trigger,
    });
    if (result.active) {
      metrics.addMetric(RECONCILE_METRICS.applied, MetricUnit.Count, result.applied);
      metrics.addMetric(RECONCILE_METRICS.overdue, MetricUnit.Count, result.overdue);
      metrics.addMetric(RECONCILE_METRICS.conflicts, MetricUnit.Count, result.conflicts);
      metrics.addMetric(RECONCILE_METRICS.notCommitted, MetricUnit.Count, result.notCommitted);
      metrics.addMetric(RECONCILE_METRICS.awaitingReplication, MetricUnit.Count, result.awaitingReplication);
      metrics.addMetric(RECONCILE_METRICS.incomplete, MetricUnit.Count, result.complete ? 0 : 1);
    }
    return result;
  } finally {
    metrics.publishStoredMetrics();
  }
}
