import { Logger } from '@aws-lambda-powertools/logger';

/** A Powertools logger for one function: JSON lines with the service name and request context. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}
