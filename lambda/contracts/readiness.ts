import * as z from 'zod/mini';
import { PEER_VARIABLES } from './common';
import { arn, defineEnvironment, FunctionContract, integer, nameList, parameterName, positive, text } from './environment';

/** The hourly failover-readiness check: lib/observability/readiness-check.ts deploys lambda/readiness. */
export const READINESS = {
  codeFolder: 'readiness',
  service: 'failover-readiness',
  environment: defineEnvironment(
    {
      ...PEER_VARIABLES,
      PEER_REGION_CODE: z.string('must be set').check(z.regex(/^[a-z0-9]+$/, 'must be a region code like use2')),
      OWN_API_URL: z.url('must be a URL').check(z.endsWith('/', 'must end with /')),
      CHECK_TIMEOUT_MS: integer(100),
      DB_CLUSTER_ID: text(),
      PEER_DB_CLUSTER_ID: text(),
      MAX_REPLICATION_LAG_MS: positive(),
      GLOBAL_TABLE_NAMES: nameList(),
      REPLICATED_BUCKET_NAMES: nameList(),
      STATE_MACHINE_ARN: arn(),
      HEALTH_CHECK_IDS: nameList(),
      HOSTED_ZONE_ID: text(),
      API_HOST_NAME: text(),
      SET_IDENTIFIER: text(),
      METRIC_NAMESPACE: text(),
      EVENT_BUS_NAME: text(),
      EVENT_SOURCE: text(),
      SWITCH_PARAMETER: parameterName(),
      EVACUATION_METRIC_NAME: text(),
    },
    // The roles check tells the secondary from the primary by this.
    (environment) =>
      environment.PRIMARY_REGION === environment.AWS_REGION || environment.PRIMARY_REGION === environment.PEER_REGION
        ? undefined
        : { variable: 'PRIMARY_REGION', problem: 'must be this region (AWS_REGION) or the peer (PEER_REGION)' },
  ),
} satisfies FunctionContract;

/**
 * The checks, in report order. The names are the `Check` dimension of the `ReadinessCheck`
 * metric, which alarms select on: do not rename them.
 */
export const READINESS_CHECKS = [
  'own-health',
  'peer-health',
  'database',
  'replication-lag',
  'global-tables',
  'storage-replication',
  'state-machine',
  'dns',
  'roles',
  'automation',
] as const;
export type ReadinessCheckName = (typeof READINESS_CHECKS)[number];

/** Metric per check (dimensions `Region`, `Check`): 1 passed, 0 failed. */
export const READINESS_CHECK_METRIC = 'ReadinessCheck';
/** Metric per region (dimension `Region`): 1 when every check passed. */
export const READINESS_SUMMARY_METRIC = 'ReadinessSummary';
/** The EventBridge detail type published when any check failed. */
export const READINESS_FAILED_DETAIL_TYPE = 'Readiness Failed';
