import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import { AddressInfo } from 'net';

/** The checks the health function reports (lambda/health/checks.ts). */
const HEALTH_CHECKS = ['database', 'journal', 'control'] as const;

/**
 * A region's API stood in for on loopback, for the code that calls it over HTTP (the failover
 * steps, the prober): a real server, so requests, timeouts and refused connections are real.
 * Subclasses answer the routes they need; `url` is the stage URL (`.../v1/`), as `api.url` is.
 */
export abstract class LoopbackApi {
  public url = '';
  private server?: Server;

  async start(): Promise<void> {
    this.server = createServer((request, response) => this.answer(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  protected abstract answer(request: IncomingMessage, response: ServerResponse): void;

  protected send(response: ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  }

  /** The body /health answers with: every check, the failing ones not ok. */
  protected healthBody(status: number, failingChecks: readonly string[]): Record<string, unknown> {
    return {
      status: status === 200 ? 'ok' : 'unavailable',
      checks: HEALTH_CHECKS.map((name) => ({ name, ok: !failingChecks.includes(name), detail: failingChecks.includes(name) ? 'down' : 'ok' })),
    };
  }
}
