import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { databaseFromEnvironment, DatabaseEnvironmentSchema } from '../shared/database-environment';
import { ControlEnvironmentSchema, controlSettings, readEnvironment } from '../shared/env';
import { createLogger } from '../shared/logger';
import { reconcileJournal, ReconcileResult } from './reconcile';

const environment = readEnvironment(
  DatabaseEnvironmentSchema.extend(ControlEnvironmentSchema.shape).extend({
    PENDING_SHARDS: z.coerce.number().int().min(1),
    DB_POOL_SIZE: z.coerce.number().int().min(1),
  }),
);

const settings = controlSettings(environment);
const logger = createLogger('failover-reconcile');
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 5 }), { marshallOptions: { removeUndefinedValues: true } });
const database = databaseFromEnvironment(environment, logger, { poolSize: environment.DB_POOL_SIZE });

/** Journal entries per query page and per insert statement (the processor's batches are smaller). */
const PAGE_SIZE = 100;
/** Time kept back to answer the state machine before the function times out. */
const RESERVE_MS = 15_000;

/** The orchestrator's reconcile step: its input carries nothing this function needs (it reads the control table itself). */
export async function handler(_event: unknown, context: Context): Promise<ReconcileResult> {
  logger.addContext(context);
  return reconcileJournal({
    database,
    documents,
    ...settings,
    logger,
    pendingShards: environment.PENDING_SHARDS,
    pageSize: PAGE_SIZE,
    remainingMs: () => context.getRemainingTimeInMillis(),
    reserveMs: RESERVE_MS,
  });
}
