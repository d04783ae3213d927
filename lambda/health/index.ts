import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { z } from 'zod';
import { databaseFromEnvironment, DatabaseEnvironmentSchema } from '../shared/database-environment';
import { ControlEnvironmentSchema, controlSettings, readEnvironment } from '../shared/env';
import { createLogger } from '../shared/logger';
import { checkHealth } from './checks';

const environment = readEnvironment(
  DatabaseEnvironmentSchema.extend(ControlEnvironmentSchema.shape).extend({
    CHECK_TIMEOUT_MS: z.coerce.number().int().min(1),
  }),
);

const settings = controlSettings(environment);
const logger = createLogger('regional-health');
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
