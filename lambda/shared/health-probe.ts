/**
 * Probing a region's deep `/health` from outside it: what the orchestrator's preflight and the
 * prober both need. A region "answers" when any HTTP response arrives; it "can serve" when that
 * response is 200. The body names the checks, so a caller can tell a region that is only drained
 * (its control check fails on purpose) from one whose database or journal is down.
 */

import type { HealthCheckReport, HealthProbe } from '../contracts/health';

export type { HealthCheckReport, HealthProbe };

export type HttpGet = (url: string, timeoutMs: number) => Promise<{ status: number; body: string }>;

/** GET with a timeout through the runtime's fetch. */
export const fetchGet: HttpGet = async (url, timeoutMs) => {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  return { status: response.status, body: await response.text() };
};

function parseChecks(body: string): HealthCheckReport[] {
  try {
    const parsed = JSON.parse(body) as { checks?: unknown };
    if (!Array.isArray(parsed.checks)) return [];
    return parsed.checks
      .filter(
        (check): check is Record<string, unknown> => typeof check === 'object' && check !== null && typeof (check as { name?: unknown }).name === 'string',
      )
      .map((check) => ({ name: String(check.name), ok: check.ok === true, detail: typeof check.detail === 'string' ? check.detail : undefined }));
  } catch {
    // A body that is not the health function's JSON (a gateway error page): no checks to report.
    return [];
  }
}

/** A region's `/health` URL from its API stage URL (with or without the trailing slash). */
export function healthUrlOf(apiUrl: string): string {
  return new URL('health', apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`).toString();
}

/** One GET of a `/health` URL; never throws. */
export async function probeHealth(url: string, timeoutMs: number, get: HttpGet = fetchGet): Promise<HealthProbe> {
  const started = Date.now();
  try {
    const response = await get(url, timeoutMs);
    const checks = parseChecks(response.body);
    const failing = checks.filter((check) => !check.ok).map((check) => `${check.name}: ${check.detail ?? 'failed'}`);
    return {
      answered: true,
      status: response.status,
      checks,
      detail: response.status === 200 ? 'healthy' : `HTTP ${response.status}${failing.length > 0 ? ` (${failing.join('; ')})` : ''}`,
      ms: Date.now() - started,
    };
  } catch (error) {
    return { answered: false, checks: [], detail: `no answer from ${url}: ${(error as Error).message}`, ms: Date.now() - started };
  }
}

/** True when the named checks all passed (a region that is drained but otherwise sound passes `database` and `journal`). */
export function checksPassed(probe: HealthProbe, names: readonly string[]): boolean {
  return names.every((name) => probe.checks.some((check) => check.name === name && check.ok));
}

/** The checks that say a region's own dependencies work, whatever its role: the control check reports the role. */
export const DEPENDENCY_CHECKS = ['database', 'journal'] as const;
