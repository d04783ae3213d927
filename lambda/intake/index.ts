import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { z } from 'zod';
import { readEnvironment } from '../shared/env';
import { createLogger } from '../shared/logger';
import { INTAKE_METRICS, INTAKE_SERVICE } from '../shared/metrics';
import { acceptOrder, refuseContentType, IntakeOutcome } from './intake';

const environment = readEnvironment(
  z.object({
    JOURNAL_TABLE: z.string().min(1),
    QUEUE_URL: z.url(),
    AWS_REGION: z.string().min(1),
    PENDING_SHARDS: z.coerce.number().int().min(1),
    MAX_BODY_BYTES: z.coerce.number().int().min(1),
  }),
);

const logger = createLogger(INTAKE_SERVICE);
const metrics = new Metrics({ serviceName: INTAKE_SERVICE });
// Clients live for the container. The SDK's standard retry mode backs off exponentially with jitter.
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 3 }), { marshallOptions: { removeUndefinedValues: true } });
const sqs = new SQSClient({ maxAttempts: 5 });

const OUTCOME_METRIC: Record<IntakeOutcome, string> = INTAKE_METRICS;

export async function handler(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
  logger.addContext(context);
  logger.appendKeys({ correlationId: event.requestContext?.requestId });
  try {
    const refused = refuseContentType(event.headers);
    if (refused) {
      metrics.addMetric(OUTCOME_METRIC.rejected, MetricUnit.Count, 1);
      return refused;
    }
    return await acceptOrder(event.body, event.isBase64Encoded, {
      documents,
      sqs,
      journalTable: environment.JOURNAL_TABLE,
      queueUrl: environment.QUEUE_URL,
      region: environment.AWS_REGION,
      pendingShards: environment.PENDING_SHARDS,
      maxBodyBytes: environment.MAX_BODY_BYTES,
      logger,
      record: (outcome) => metrics.addMetric(OUTCOME_METRIC[outcome], MetricUnit.Count, 1),
    });
  } finally {
    metrics.publishStoredMetrics();
    logger.resetKeys();
  }
}
