import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { z } from 'zod';
import { Database } from '../shared/database';
import { readEnvironment } from '../shared/env';
import { createLogger } from '../shared/logger';
import { lookupOrder } from './lookup';

const environment = readEnvironment(
  z.object({
    JOURNAL_TABLE: z.string().min(1),
    DB_HOST: z.string().min(1),
    DB_PORT: z.coerce.number().int().min(1),
    DB_NAME: z.string().min(1),
    DB_SECRET_ARN: z.string().min(1),
    DB_POOL_SIZE: z.coerce.number().int().min(1),
  }),
);

const logger = createLogger('order-lookup');
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 3 }));
const database = new Database(
  {
    host: environment.DB_HOST,
    port: environment.DB_PORT,
    database: environment.DB_NAME,
    secretArn: environment.DB_SECRET_ARN,
    poolSize: environment.DB_POOL_SIZE,
    tls: true,
  },
  new SecretsManagerClient({ maxAttempts: 3 }),
  logger,
  { attempts: 2, baseDelayMs: 50, maxDelayMs: 200 },
);

export async function handler(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
  logger.addContext(context);
  logger.appendKeys({ correlationId: event.requestContext?.requestId });
  try {
    return await lookupOrder(event.pathParameters?.id, { database, documents, journalTable: environment.JOURNAL_TABLE, logger });
  } finally {
    logger.resetKeys();
  }
}
