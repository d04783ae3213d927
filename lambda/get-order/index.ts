import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { z } from 'zod';
import { databaseFromEnvironment, DatabaseEnvironmentSchema } from '../shared/database-environment';
import { readEnvironment } from '../shared/env';
import { createLogger } from '../shared/logger';
import { lookupOrder } from './lookup';

const environment = readEnvironment(
  DatabaseEnvironmentSchema.extend({
    JOURNAL_TABLE: z.string().min(1),
    DB_POOL_SIZE: z.coerce.number().int().min(1),
  }),
);

const logger = createLogger('order-lookup');
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
    return await lookupOrder(event.pathParameters?.id, event.queryStringParameters?.accountId, { database, documents, journalTable: environment.JOURNAL_TABLE, logger });
  } finally {
    logger.resetKeys();
  }
}
