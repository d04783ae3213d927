import { integer, parameterName, text } from './environment';

/**
 * Variables several functions share, as shapes to spread into their contracts. The values come
 * from the constructs named beside each group.
 */

/** Where a database-facing function finds the cluster (GlobalDatabase.connectionVariables()). */
export const DATABASE_VARIABLES = {
  DB_HOST: text(),
  DB_PORT: integer(1),
  DB_NAME: text(),
  DB_SECRET_ARN: text(),
};

/** Functions that read the journal and the control table, and which region they run in. */
export const CONTROL_VARIABLES = {
  JOURNAL_TABLE: text(),
  CONTROL_TABLE: text(),
  /** Set by the Lambda runtime. */
  AWS_REGION: text(),
  /** The deployment's primary region: active until the control table records otherwise. */
  PRIMARY_REGION: text(),
};

/** Functions that probe or act on the peer region (failover steps, prober, readiness). */
export const PEER_VARIABLES = {
  /** Set by the Lambda runtime. */
  AWS_REGION: text(),
  PEER_REGION: text(),
  PRIMARY_REGION: text(),
  CONTROL_TABLE: text(),
  /** The peer's API URL parameter, read in the peer region when first needed. */
  PEER_API_URL_PARAMETER: parameterName(),
  /** Time one HTTP request to an API may take. */
  HTTP_TIMEOUT_MS: integer(100),
};
