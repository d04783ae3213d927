import type { ClientConfig } from 'pg';
import * as z from 'zod/mini';

/** The fields of the RDS master secret this code reads. */
export const DatabaseSecretSchema = z.object({
  username: z.string().check(z.minLength(1)),
  password: z.string().check(z.minLength(1)),
});
export type DatabaseCredentials = z.infer<typeof DatabaseSecretSchema>;

/**
 * PostgreSQL error classes worth retrying: connection failures (08), too many connections or
 * out of resources (53), operator intervention such as a failover in progress (57P01..57P03),
 * serialization failures and deadlocks (40001, 40P01), and read-only transactions (25006, a
 * writer that has just been demoted).
 */
const TRANSIENT_SQLSTATE = /^(08|53|57P0[1-3]|40001|40P01|25006)/;
/** Network errors from the socket layer. */
const TRANSIENT_NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

/** True when a database error is likely to go away on retry. */
export function isTransientDatabaseError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== 'string') {
    return error instanceof Error && /Connection terminated|timeout/i.test(error.message);
  }
  return TRANSIENT_SQLSTATE.test(code) || TRANSIENT_NETWORK.has(code);
}

export interface ConnectionSettings {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly credentials: DatabaseCredentials;
  /** Verify the server certificate (always in AWS; the loopback test server has none). @default true */
  readonly tls?: boolean;
  /** Connection timeout in milliseconds. @default 5000 */
  readonly connectTimeoutMs?: number;
}

/** PostgreSQL's statement_timeout, lock_timeout and idle_in_transaction_session_timeout, in milliseconds. */
export interface SessionLimits {
  readonly statementMs: number;
  readonly lockMs: number;
  readonly idleInTransactionMs: number;
}

/**
 * Every session's limits, so no statement, lock wait or open transaction outlives the function
 * that started it (a transaction whose function died would otherwise commit, or hold locks,
 * later): shorter than any function's timeout that uses the database (30 s and more). Callers set
 * tighter ones per transaction from their remaining time (Database.transaction).
 */
export const SESSION_LIMITS: SessionLimits = { statementMs: 15_000, lockMs: 5_000, idleInTransactionMs: 15_000 };

/**
 * pg client settings: TLS with certificate verification (the Lambda runtime trusts the RDS CAs
 * when NODE_EXTRA_CA_CERTS points at its bundle; the cluster refuses plain connections).
 */
export function clientConfig(settings: ConnectionSettings): ClientConfig {
  return {
    host: settings.host,
    port: settings.port,
    database: settings.database,
    user: settings.credentials.username,
    password: settings.credentials.password,
    ssl: settings.tls === false ? false : { rejectUnauthorized: true },
    connectionTimeoutMillis: settings.connectTimeoutMs ?? 5000,
    application_name: 'trading-dr',
    statement_timeout: SESSION_LIMITS.statementMs,
    lock_timeout: SESSION_LIMITS.lockMs,
    idle_in_transaction_session_timeout: SESSION_LIMITS.idleInTransactionMs,
  };
}
