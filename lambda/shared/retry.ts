/**
 * Retries with exponential backoff and full jitter (delay drawn uniformly from 0 to
 * min(maxDelay, baseDelay * 2^attempt)), the scheme AWS recommends to keep many clients from
 * retrying in lockstep. One helper for every AWS and database call in the handlers.
 */
export interface RetryOptions {
  /** Total attempts including the first. @default 5 */
  readonly attempts?: number;
  /** Backoff base in milliseconds. @default 100 */
  readonly baseDelayMs?: number;
  /** Cap of a single delay in milliseconds. @default 5000 */
  readonly maxDelayMs?: number;
  /** Whether an error is worth another attempt. @default every error */
  readonly isRetryable?: (error: unknown) => boolean;
  /** Called before each wait, for logging. */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Source of randomness in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** How to wait. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Milliseconds the caller may still spend (an invocation's remaining time less what it keeps
   * back). When set, retrying also stops once the next wait would not fit: a retry budget in time,
   * for outages measured in seconds (a writer restart) rather than in attempts.
   */
  readonly budgetMs?: () => number;
}

/** Thrown when every attempt failed; `cause` is the last error. */
export class RetriesExhaustedError extends Error {
  constructor(
    public readonly operation: string,
    public readonly attempts: number,
    cause: unknown,
  ) {
    super(`${operation} failed after ${attempts} attempt(s): ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'RetriesExhaustedError';
  }
}

/** The delay before retry number `attempt` (0-based), with full jitter. */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `operation` until it succeeds, an error is not retryable (rethrown as is), or the attempts
 * are used up (RetriesExhaustedError naming the operation).
 */
export async function withRetry<T>(operationName: string, operation: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  const isRetryable = options.isRetryable ?? (() => true);
  const sleep = options.sleep ?? defaultSleep;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      lastError = error;
      if (!isRetryable(error)) throw error;
      if (attempt === attempts - 1) break;
      const delayMs = backoffDelay(attempt, options.baseDelayMs ?? 100, options.maxDelayMs ?? 5000, options.random);
      if (options.budgetMs !== undefined && options.budgetMs() <= delayMs) {
        throw new RetriesExhaustedError(`${operationName} (out of time)`, attempt + 1, error);
      }
      options.onRetry?.(error, attempt + 1, delayMs);
      await sleep(delayMs);
    }
  }
  throw new RetriesExhaustedError(operationName, attempts, lastError);
}
