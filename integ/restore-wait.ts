/**
 * Polling with a deadline for the restore drill: every wait names what it waits for, prints each
 * status change, backs off from `pollMs` to four times that, and fails naming the last status.
 */

export interface WaitDependencies {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly print: (line: string) => void;
}

/** The longest pause between polls, as a multiple of the first. */
const MAX_POLL_FACTOR = 4;

/** What one poll saw: done, or the status to report while waiting. */
export type PollResult = { readonly done: true; readonly status: string } | { readonly done: false; readonly status: string };

/** Thrown when a wait passes its deadline. */
export class WaitTimeoutError extends Error {
  constructor(what: string, lastStatus: string, waitedMs: number) {
    super(`${what}: not reached within ${Math.round(waitedMs / 1000)} s (last status: ${lastStatus})`);
    this.name = 'WaitTimeoutError';
  }
}

/**
 * Polls `probe` until it reports done or `deadline` (epoch ms) passes. A probe that throws fails
 * the wait with its error (the probe itself retries what is worth retrying).
 */
export async function waitUntil(what: string, probe: () => Promise<PollResult>, deadline: number, pollMs: number, deps: WaitDependencies): Promise<string> {
  const started = deps.now();
  let delay = pollMs;
  let lastStatus = '';
  for (;;) {
    const result = await probe();
    if (result.status !== lastStatus) deps.print(`${what}: ${result.status}`);
    lastStatus = result.status;
    if (result.done) return result.status;
    if (deps.now() >= deadline) throw new WaitTimeoutError(what, lastStatus, deps.now() - started);
    await deps.sleep(Math.min(delay, Math.max(0, deadline - deps.now())));
    delay = Math.min(delay * 2, pollMs * MAX_POLL_FACTOR);
  }
}
