import { GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import {
  GetHealthCheckCommand,
  GetHealthCheckStatusCommand,
  HealthCheckObservation,
  ListResourceRecordSetsCommand,
  ResourceRecordSet,
  RRType,
} from '@aws-sdk/client-route-53';
import { latestDatapoint } from '../shared/metrics';

import {
  awsCall,
  CHECKERLESS_HEALTH_CHECK_TYPES,
  fail,
  HEALTHY_CHECKER_SHARE,
  MAX_RECORD_PAGES,
  METRIC_WINDOW_MS,
  pass,
  ReadinessDependencies,
  Verdict,
} from './dependencies';

/** Route 53: the region's health checks are healthy and its failover record exists (Route 53's API is in ROUTE53_REGION). */

/** Route 53's own rule: healthy when more than 18% of the checkers report success. */
export function checkersReportHealthy(observations: readonly HealthCheckObservation[]): { healthy: boolean; summary: string } {
  const succeeded = observations.filter((observation) => observation.StatusReport?.Status?.startsWith('Success')).length;
  return {
    healthy: observations.length > 0 && succeeded / observations.length > HEALTHY_CHECKER_SHARE,
    summary: `${succeeded} of ${observations.length} checkers report success`,
  };
}

async function healthCheckProblem(healthCheckId: string, deps: ReadinessDependencies): Promise<string | undefined> {
  const described = await awsCall(
    `describe health check ${healthCheckId}`,
    () => deps.route53.send(new GetHealthCheckCommand({ HealthCheckId: healthCheckId })),
    ['NoSuchHealthCheck'],
  );
  const config = described.HealthCheck?.HealthCheckConfig;
  const type = config?.Type ?? 'unknown';
  // Route 53 treats a disabled check as healthy whatever the endpoint does: no failover would follow.
  if (config?.Disabled) return `health check ${healthCheckId} (${type}) is disabled`;
  if (CHECKERLESS_HEALTH_CHECK_TYPES.includes(type)) {
    // GetHealthCheckStatus does not serve calculated checks; Route 53 publishes their status to CloudWatch.
    const end = new Date(deps.now());
    const response = await awsCall(`read HealthCheckStatus of ${healthCheckId}`, () =>
      deps.route53Cloudwatch.send(
        new GetMetricStatisticsCommand({
          Namespace: 'AWS/Route53',
          MetricName: 'HealthCheckStatus',
          Dimensions: [{ Name: 'HealthCheckId', Value: healthCheckId }],
          StartTime: new Date(end.getTime() - METRIC_WINDOW_MS),
          EndTime: end,
          Period: 60,
          Statistics: ['Minimum'],
        }),
      ),
    );
    const point = latestDatapoint(response.Datapoints);
    if (point?.Minimum === undefined) return `health check ${healthCheckId} (${type}) reported no status in the last ${METRIC_WINDOW_MS / 60_000} minutes`;
    return point.Minimum >= 1
      ? undefined
      : `health check ${healthCheckId} (${type}) is unhealthy (HealthCheckStatus ${point.Minimum} at ${point.Timestamp?.toISOString() ?? 'an unknown time'})`;
  }
  const status = await awsCall(
    `read the status of health check ${healthCheckId}`,
    () => deps.route53.send(new GetHealthCheckStatusCommand({ HealthCheckId: healthCheckId })),
    ['NoSuchHealthCheck'],
  );
  const verdict = checkersReportHealthy(status.HealthCheckObservations ?? []);
  return verdict.healthy ? undefined : `health check ${healthCheckId} (${type}) is unhealthy: ${verdict.summary}`;
}

function normalizedName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** The failover record of `apiHostName` with this region's SetIdentifier, or undefined. */
async function findFailoverRecord(deps: ReadinessDependencies): Promise<ResourceRecordSet | undefined> {
  const wanted = normalizedName(deps.apiHostName);
  let start: { name: string; type?: RRType; identifier?: string } = { name: deps.apiHostName };
  for (let page = 0; page < MAX_RECORD_PAGES; page++) {
    const request = { HostedZoneId: deps.hostedZoneId, StartRecordName: start.name, StartRecordType: start.type, StartRecordIdentifier: start.identifier };
    const response = await awsCall(`list record sets of ${deps.hostedZoneId}`, () => deps.route53.send(new ListResourceRecordSetsCommand(request)), [
      'NoSuchHostedZone',
    ]);
    const records = response.ResourceRecordSets ?? [];
    const record = records.find(
      (candidate) => normalizedName(candidate.Name ?? '') === wanted && candidate.SetIdentifier === deps.setIdentifier && candidate.Failover !== undefined,
    );
    if (record) return record;
    // Records are sorted by name: once past the host name, it has no more.
    if (!response.IsTruncated || !response.NextRecordName || normalizedName(response.NextRecordName) !== wanted) return undefined;
    start = { name: response.NextRecordName, type: response.NextRecordType, identifier: response.NextRecordIdentifier };
  }
  return undefined;
}

export async function dns(deps: ReadinessDependencies): Promise<Verdict> {
  const [healthProblems, record] = await Promise.all([
    Promise.all(deps.healthCheckIds.map((id) => healthCheckProblem(id, deps).catch((error: Error) => `health check ${id}: ${error.message}`))),
    findFailoverRecord(deps).catch((error: Error) => error),
  ]);
  const problems = healthProblems.filter((problem): problem is string => problem !== undefined);
  if (record instanceof Error) problems.push(`record sets of hosted zone ${deps.hostedZoneId}: ${record.message}`);
  else if (!record) problems.push(`no failover record ${deps.apiHostName} with SetIdentifier ${deps.setIdentifier} in hosted zone ${deps.hostedZoneId}`);
  if (problems.length > 0 || !record || record instanceof Error) return fail(problems.join('; '));
  return pass(`${deps.healthCheckIds.length} health check(s) healthy; ${deps.apiHostName} ${record.Type} ${record.Failover} record ${deps.setIdentifier}`);
}
