import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ORDER_LOOKUP } from '../contracts/order-lookup';
import { databaseFromEnvironment } from '../shared/database-environment';
import { createLogger } from '../shared/logger';
import { lookupOrder } from './lookup';

const environment = ORDER_LOOKUP.environment.read();

const logger = createLogger(ORDER_LOOKUP.service);
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 3 }));
const database = databaseFromEnvironment(environment, logger, {
  poolSize: environment.DB_POOL_SIZE,
  secretsMaxAttempts: 3,
  retry: { attempts: 2, baseDelayMs: 50, maxDelayMs: 200 },
});

export async function handler(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
  logger.addContext(context);
  logger.appendKeys({ correlationId: event.requestContext?.requestId });
  try {
    return await lookupOrder(event.pathParameters?.id, event.queryStringParameters?.accountId, {
      database,
      documents,
      journalTable: environment.JOURNAL_TABLE,
      logger,
    });
  } finally {
    logger.resetKeys();
  }
}
