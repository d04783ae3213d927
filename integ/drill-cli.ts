/**
 * What the drill's command line prints around the drill itself: progress lines stamped with the
 * time since the command started, and one line for an error that ends it (the stack only with
 * DRILL_DEBUG=1).
 */

/** A line writer that prefixes the seconds since `started`: `[  12.3 s] execution RUNNING: ...`. */
export function elapsedPrinter(write: (line: string) => void, now: () => number, started: number = now()): (line: string) => void {
  return (line) => {
    const seconds = ((now() - started) / 1000).toFixed(1).padStart(6);
    write(`[${seconds} s] ${line}`);
  };
}

export const NO_CREDENTIALS = 'drill: no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or run where an IAM role provides them)';
export const NO_REGION = 'drill: no AWS region: set AWS_REGION or AWS_DEFAULT_REGION (or region in the profile AWS_PROFILE names)';
export const EXPIRED_CREDENTIALS = 'drill: the AWS credentials have expired: refresh them (aws sso login, or new keys) and run again';

/** The error and its causes, outermost first (withRetry wraps the last error as `cause`). */
function causeChain(error: unknown): Error[] {
  const chain: Error[] = [];
  let current: unknown = error;
  while (current instanceof Error && chain.length < 10) {
    chain.push(current);
    current = (current as Error & { cause?: unknown }).cause;
  }
  return chain;
}

/**
 * The lines printed for an error that ends the command: a named line for missing or expired
 * credentials and a missing region (the SDK's CredentialsProviderError, ExpiredToken and "Region
 * is missing"), else the error's name and message; the stack only when `debug`.
 */
export function failureLines(error: unknown, debug: boolean): string[] {
  const chain = causeChain(error);
  const stack = debug && chain[0]?.stack ? [chain[0].stack] : [];
  if (chain.some((each) => each.name === 'CredentialsProviderError' || /Could not load credentials from any providers/.test(each.message))) {
    return [NO_CREDENTIALS, ...stack];
  }
  if (chain.some((each) => /^(ExpiredToken|ExpiredTokenException|RequestExpired)$/.test(each.name))) return [EXPIRED_CREDENTIALS, ...stack];
  if (chain.some((each) => /Region is missing/.test(each.message))) return [NO_REGION, ...stack];
  if (chain.length === 0) return [`drill: ${String(error)}`];
  return [`drill: ${chain[0].name}: ${chain[0].message}`, ...stack];
}
