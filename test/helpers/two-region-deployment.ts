/**
 * The two regions a failover test runs: their names, the synthesized deployment (both regions'
 * templates and names), the settings the templates give each function, and each region's API on
 * loopback, whose /health reads the control table as the health function does.
 */

import type { IncomingMessage, ServerResponse } from 'http';
import { Template } from 'aws-cdk-lib/assertions';
import { readControlState } from '../../lambda/shared/control';
import type { AppConfig } from '../../lib/core/config';
import { Naming, ParameterKey } from '../../lib/core/naming';
import { documents } from './aws';
import { namingFor, synthDeployment } from './app';
import { LoopbackApi } from './loopback-api';

export const PRIMARY = 'us-east-1';
export const SECONDARY = 'us-east-2';
export const REGIONS = [PRIMARY, SECONDARY] as const;
export type Region = (typeof REGIONS)[number];
export const ACCOUNT = '111111111111';
/** A loopback port nothing listens on. */
/** Each region's API Gateway domain target: the value of its failover record. */
export const TARGETS: Record<Region, string> = {
  [PRIMARY]: 'd-primary.execute-api.us-east-1.amazonaws.com',
  [SECONDARY]: 'd-secondary.execute-api.us-east-2.amazonaws.com',
};

/** Real time a reconciliation run in the world may take (its retries wait in real time). */

export const peerOf = (region: Region): Region => (region === PRIMARY ? SECONDARY : PRIMARY);

/** The synthesized app's templates and names, for one config. */
export interface Deployment {
  readonly config: AppConfig;
  readonly templates: Record<Region, Record<string, any>>;
  readonly namings: Record<Region, Naming>;
  readonly controlTable: string;
  readonly switchParameter: string;
  readonly clusterArns: Record<Region, string>;
}

/** Synthesizes the app (both stages) with `overrides` and takes what the world needs from it. */
export function deploymentOf(overrides: Record<string, unknown> = {}): Deployment {
  const { deployment, config } = synthDeployment(overrides);
  const namings = { [PRIMARY]: namingFor(config, PRIMARY), [SECONDARY]: namingFor(config, SECONDARY) };
  return {
    config,
    templates: {
      [PRIMARY]: Template.fromStack(deployment.primary.regionalStack).toJSON(),
      [SECONDARY]: Template.fromStack(deployment.secondary.regionalStack).toJSON(),
    },
    namings,
    controlTable: namings[SECONDARY].name('table', 'control'),
    switchParameter: namings[SECONDARY].parameterName(ParameterKey.evacuationSwitch),
    clusterArns: {
      [PRIMARY]: `arn:aws:rds:${PRIMARY}:${ACCOUNT}:cluster:${namings[PRIMARY].name('dbCluster', 'orders')}`,
      [SECONDARY]: `arn:aws:rds:${SECONDARY}:${ACCOUNT}:cluster:${namings[SECONDARY].name('dbCluster', 'orders')}`,
    },
  };
}

/** A region's API as the failover steps and the prober see it: /health from the control table, the canary's routes. */
export class RegionApi extends LoopbackApi {
  public databaseOk = true;
  public reachable = true;
  /** The region answers, but every request with 500 (a region answering errors rather than silence). */
  public failing = false;

  constructor(
    private readonly region: Region,
    private readonly controlTable: string,
  ) {
    super();
  }

  /** What /health answers (lambda/health/checks.ts: 503 when drained or when the database fails). */
  async health(): Promise<{ status: number; failing: string[] }> {
    if (this.failing) return { status: 500, failing: [] };
    const control = await readControlState(documents, this.controlTable, PRIMARY);
    const failing = [...(this.databaseOk ? [] : ['database']), ...(control.drainedRegions.includes(this.region) ? ['control'] : [])];
    return { status: failing.length === 0 ? 200 : 503, failing };
  }

  protected answer(request: IncomingMessage, response: ServerResponse): void {
    if (!this.reachable) {
      request.socket.destroy();
      return;
    }
    if (this.failing) {
      this.send(response, 500, { message: 'Internal server error' });
      return;
    }
    if (request.url === '/v1/health') {
      void this.health().then(({ status, failing }) => this.send(response, status, this.healthBody(status, failing)));
    } else if (request.method === 'POST' && request.url === '/v1/orders') {
      this.send(response, 201, { status: 'accepted' });
    } else if (request.method === 'GET' && request.url?.startsWith('/v1/orders/')) {
      this.send(response, 200, { source: 'database' });
    } else {
      this.send(response, 404, { error: 'not_found' });
    }
  }
}

/** The one resource of `type` in the template. */
export function logicalIdOfType(template: Record<string, any>, type: string): string {
  const ids = Object.entries(template.Resources as Record<string, { Type: string }>)
    .filter(([, resource]) => resource.Type === type)
    .map(([id]) => id);
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.join(', ') || 'none'}`);
  return ids[0];
}

/** A setting of one of `region`'s functions, as the template gives it to the handler (the seam between the two). */
export function functionSetting(deployment: Deployment, template: Record<string, any>, region: Region, purpose: string, variable: string): string {
  const functionName = deployment.namings[region].name('function', purpose);
  const [found] = Object.values(template.Resources as Record<string, any>).filter(
    (resource) => resource.Type === 'AWS::Lambda::Function' && resource.Properties.FunctionName === functionName,
  );
  const value = found?.Properties.Environment.Variables[variable];
  if (typeof value !== 'string') throw new Error(`${functionName} has no ${variable} in the template`);
  return value;
}
