import { promises as dns } from 'dns';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { PROBER, PROBER_METRICS } from '../contracts/prober';
import { crossRegionClientConfig } from '../shared/cross-region';
import { fetchGet } from '../shared/health-probe';
import { createLogger } from '../shared/logger';
import { peerParameterReader } from '../shared/peer-parameter';
import { probeOnce, ProbeOutcome } from './prober';

const environment = PROBER.environment.read();

const logger = createLogger(PROBER.service);
// Namespace and service come from POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME (lib/core/handler-function.ts).
const metrics = new Metrics();
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 3 }), { marshallOptions: { removeUndefinedValues: true } });
const sfn = new SFNClient({ maxAttempts: 3 });
// Clients of the peer region have connection and request timeouts: a silent region fails fast.
const peerConfig = crossRegionClientConfig(environment.PEER_REGION);
const peerSfn = new SFNClient(peerConfig);
const localSwitch = { ssm: new SSMClient({ maxAttempts: 3 }), cloudwatch: new CloudWatchClient({ maxAttempts: 3 }) };
const peerSwitch = { ssm: new SSMClient(peerConfig), cloudwatch: new CloudWatchClient(peerConfig) };
const sns = new SNSClient({ maxAttempts: 3 });
const peerApiUrl = peerParameterReader(environment.PEER_REGION, environment.PEER_API_URL_PARAMETER);
const intervalMs = environment.PROBE_INTERVAL_SECONDS * 1000;

/**
 * Runs once a minute (EventBridge's shortest schedule) and probes every PROBE_INTERVAL_SECONDS
 * within the minute, stopping early enough that two invocations never overlap.
 */
export async function handler(_event: unknown, context: Context): Promise<ProbeOutcome[]> {
  logger.addContext(context);
  const outcomes: ProbeOutcome[] = [];
  const deps = {
    region: environment.AWS_REGION,
    peerRegion: environment.PEER_REGION,
    primaryRegion: environment.PRIMARY_REGION,
    controlTable: environment.CONTROL_TABLE,
    ownStateMachineArn: environment.OWN_STATE_MACHINE_ARN,
    peerStateMachineArn: environment.PEER_STATE_MACHINE_ARN,
    failureThreshold: environment.FAILURE_THRESHOLD,
    minimumOutageMs: environment.MINIMUM_OUTAGE_SECONDS * 1000,
    restartAfterMs: environment.RESTART_AFTER_SECONDS * 1000,
    apiHostName: environment.API_HOST_NAME,
    ownApiTarget: environment.OWN_API_TARGET,
    switchParameterName: environment.SWITCH_PARAMETER,
    metricNamespace: environment.METRIC_NAMESPACE,
    switchMetricName: environment.EVACUATION_METRIC_NAME,
    localSwitch,
    peerSwitch,
    resolveCname: (name: string) => dns.resolveCname(name),
    autoFailback: environment.AUTO_FAILBACK,
    failbackAfterHealthyMs: environment.FAILBACK_AFTER_HEALTHY_SECONDS * 1000,
    alertTopicArn: environment.ALERT_TOPIC_ARN,
    httpTimeoutMs: environment.HTTP_TIMEOUT_MS,
    documents,
    sfn,
    peerSfn,
    sns,
    peerApiUrl,
    get: fetchGet,
    logger,
    now: () => Date.now(),
  };
  // Leave one interval plus the request timeout before the next invocation is due.
  while (context.getRemainingTimeInMillis() > intervalMs + environment.HTTP_TIMEOUT_MS * 2) {
    const started = Date.now();
    const outcome = await probeOnce(deps);
    outcomes.push(outcome);
    // The dashboard's "active region": one datapoint per probe for the region the control table names.
    const active = metrics.singleMetric();
    active.addDimension('Region', outcome.activeRegion);
    active.addMetric(PROBER_METRICS.activeRegion, MetricUnit.Count, 1);
    const pause = intervalMs - (Date.now() - started);
    if (pause > 0 && context.getRemainingTimeInMillis() > pause + intervalMs + environment.HTTP_TIMEOUT_MS * 2) {
      await new Promise((resolve) => setTimeout(resolve, pause));
    } else {
      break;
    }
  }
  return outcomes;
}
