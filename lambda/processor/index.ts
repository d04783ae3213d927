import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { PROCESSOR, PROCESSOR_METRICS } from '../contracts/processor';
import { databaseFromEnvironment } from '../shared/database-environment';
import { controlSettings } from '../shared/env';
import { createLogger } from '../shared/logger';
import { processOrders, ProcessorOutcome } from './processor';

const environment = PROCESSOR.environment.read();

const settings = controlSettings(environment);
const logger = createLogger(PROCESSOR.service);
const metrics = new Metrics({ serviceName: PROCESSOR.service });
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 5 }), { marshallOptions: { removeUndefinedValues: true } });
const database = databaseFromEnvironment(environment, logger, { poolSize: environment.DB_POOL_SIZE });

const OUTCOME_METRIC: Record<ProcessorOutcome, string> = PROCESSOR_METRICS;

/** Kept back from the invocation's time for the journal writes and the answer. */
const RESERVE_MS = 5000;

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  try {
    return await processOrders(event, {
      database,
      documents,
      ...settings,
      logger,
      record: (outcome, count = 1) => metrics.addMetric(OUTCOME_METRIC[outcome], MetricUnit.Count, count),
      remainingMs: () => context.getRemainingTimeInMillis(),
      reserveMs: RESERVE_MS,
    });
  } finally {
    metrics.publishStoredMetrics();
  }
}
