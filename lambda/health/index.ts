import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { HEALTH } from '../contracts/health';
import { databaseFromEnvironment } from '../shared/database-environment';
import { controlSettings } from '../shared/env';
import { createLogger } from '../shared/logger';
import { checkHealth } from './checks';

const environment = HEALTH.environment.read();

const settings = controlSettings(environment);
const logger = createLogger(HEALTH.service);
// One attempt each: the whole answer must fit Route 53's response window, and the next probe
// comes within seconds anyway.
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 1 }));
const database = databaseFromEnvironment(environment, logger, {
  poolSize: 1,
  connectTimeoutMs: environment.CHECK_TIMEOUT_MS,
  secretsMaxAttempts: 2,
  retry: { attempts: 1 },
});

export async function handler(_event: unknown, context: Context): Promise<APIGatewayProxyResult> {
  logger.addContext(context);
  return checkHealth({
    database,
    documents,
    ...settings,
    checkTimeoutMs: environment.CHECK_TIMEOUT_MS,
    logger,
  });
}
