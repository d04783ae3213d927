import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { INTAKE, INTAKE_METRICS } from '../contracts/intake';
import { createLogger } from '../shared/logger';
import { acceptOrder, refuseContentType, IntakeOutcome } from './intake';

const environment = INTAKE.environment.read();

const logger = createLogger(INTAKE.service);
const metrics = new Metrics({ serviceName: INTAKE.service });
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
