import { Arn, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { AppConfig } from '../core/config';
import { READINESS, READINESS_CHECKS } from '../../lambda/contracts/readiness';
import { evacuationSignal } from '../routing/evacuation-switch';
import type { ControlTable } from '../data/control-table';
import { HandlerFunction } from '../core/handler-function';
import { Naming, ParameterKey, Purpose, regionCode } from '../core/naming';
import { publishMetricsStatement } from '../core/service-metric';
import { readPeerParameterStatement } from '../core/peer-parameter';
import { REPLICATED_BUCKET_PURPOSES } from '../data/storage';

/** The checks the readiness function runs, in its order: the handler's own list, so a new check gets its metric here. */
export const READINESS_CHECK_NAMES = READINESS_CHECKS;

/** Each check's own time limit; they run at once, and the function needs time to publish after. */
const CHECK_TIMEOUT = Duration.seconds(20);
/** One HTTP request to an API's /health. */
const HTTP_TIMEOUT = Duration.seconds(5);

/** The config keys the readiness check reads (lib/core/config.ts documents and defaults each). */
export type ReadinessConfig = Pick<AppConfig, 'maxReplicationLagMs' | 'readinessIntervalHours' | 'logRetentionDays' | 'lambdaSourceMaps'>;

export interface ReadinessCheckProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The other region. */
  readonly peerRegion: string;
  /** The deployment's primary region (this region or the peer): the roles check tells the two roles apart by it. */
  readonly primaryRegion: string;
  /** The control table: the roles check reads the active region and drained regions, the automation check the pause item. */
  readonly controlTable: ControlTable;
  /** This region's API stage URL. */
  readonly apiUrl: string;
  /** `api.<zone>`, the failover record's name. */
  readonly apiHostName: string;
  /** The zone the failover record is in. */
  readonly hostedZone: route53.IHostedZone;
  /** This region's failover record's set identifier. */
  readonly setIdentifier: string;
  /** This region's Route 53 checks (the /health check and the routing check). */
  readonly healthChecks: route53.IHealthCheck[];
  /** This region's failover state machine. */
  readonly stateMachine: sfn.IStateMachine;
  /** The global tables, by purpose. */
  readonly tablePurposes: string[];
  /** The DR bus a failed check is announced on. */
  readonly eventBus: events.IEventBus;
  /** The `source` of the deployment's events. */
  readonly eventSource: string;
  /** The lag limit, the schedule and the log retention. */
  readonly config: ReadinessConfig;
}

/**
 * The scheduled failover-readiness check of one region (`lambda/readiness/`): both /health
 * endpoints, this region's database, Aurora replication lag, the global tables' replicas, S3
 * replication, the state machine and its last run, the DNS record and health checks, whether
 * both regions are where their roles want them (drained list and evacuation switches), and
 * whether operators have paused automatic failover. It publishes one metric per check and a
 * summary (the alarm is in lib/observability/regional-alarms.ts), and a `Readiness Failed` event on the DR bus
 * when any check fails. It runs outside the VPC: it must
 * reach Route 53, the peer region and both public APIs, which the isolated subnets cannot.
 */
export class ReadinessCheck extends Construct {
  /** What the readiness check of `naming.region` reports, by name alone: one metric per check and a summary (1 ready, 0 not). */
  public static metricsIn(naming: Naming) {
    const metric = (metricName: string, dimensionsMap: Record<string, string>) =>
      new cloudwatch.Metric({
        namespace: naming.metricNamespace(),
        metricName,
        dimensionsMap,
        statistic: 'Minimum',
        period: Duration.hours(1),
        region: naming.region,
      });
    return {
      summary: metric('ReadinessSummary', { Region: naming.region }),
      checks: Object.fromEntries(READINESS_CHECK_NAMES.map((check) => [check, metric('ReadinessCheck', { Region: naming.region, Check: check })])) as Record<
        (typeof READINESS_CHECK_NAMES)[number],
        cloudwatch.Metric
      >,
    };
  }

  /** The readiness function. */
  public readonly function: HandlerFunction;

  constructor(scope: Construct, id: string, props: ReadinessCheckProps) {
    super(scope, id);
    const { naming } = props;
    const stack = Stack.of(this);
    const peerNaming = naming.forRegion(props.peerRegion);
    const tableNames = props.tablePurposes.map((purpose) => naming.name('table', purpose));
    const bucketNames = REPLICATED_BUCKET_PURPOSES.map((purpose) => naming.name('bucket', purpose));
    const clusterIds = [naming, peerNaming].map((each) => each.name('dbCluster', Purpose.orders));
    // The switch this region hosts (the peer's) and the one the peer hosts (this region's): same path, both regions.
    const switchParameterName = naming.parameterName(ParameterKey.evacuationSwitch);
    const switchParameterArns = [naming.region, props.peerRegion].map((each) =>
      Arn.format({ service: 'ssm', region: each, resource: 'parameter', resourceName: switchParameterName.slice(1) }, stack),
    );

    this.function = new HandlerFunction(this, 'Readiness', {
      naming,
      purpose: Purpose.readiness,
      contract: READINESS,
      description: 'Hourly failover-readiness check: endpoints, database, replication, state machine, DNS, roles, automation',
      timeout: CHECK_TIMEOUT.plus(Duration.seconds(40)),
      logRetention: props.config.logRetentionDays,
      sourceMaps: props.config.lambdaSourceMaps,
      variables: {
        PEER_REGION: props.peerRegion,
        PEER_REGION_CODE: regionCode(props.peerRegion),
        PEER_API_URL_PARAMETER: naming.parameterName(ParameterKey.apiUrl),
        HTTP_TIMEOUT_MS: HTTP_TIMEOUT.toMilliseconds(),
        OWN_API_URL: props.apiUrl,
        CHECK_TIMEOUT_MS: CHECK_TIMEOUT.toMilliseconds(),
        DB_CLUSTER_ID: clusterIds[0],
        PEER_DB_CLUSTER_ID: clusterIds[1],
        MAX_REPLICATION_LAG_MS: props.config.maxReplicationLagMs,
        GLOBAL_TABLE_NAMES: tableNames,
        REPLICATED_BUCKET_NAMES: bucketNames,
        STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
        HEALTH_CHECK_IDS: props.healthChecks.map((check) => check.healthCheckId),
        HOSTED_ZONE_ID: props.hostedZone.hostedZoneId,
        API_HOST_NAME: props.apiHostName,
        SET_IDENTIFIER: props.setIdentifier,
        METRIC_NAMESPACE: naming.metricNamespace(),
        EVENT_BUS_NAME: props.eventBus.eventBusName,
        EVENT_SOURCE: props.eventSource,
        CONTROL_TABLE: props.controlTable.table.tableName,
        PRIMARY_REGION: props.primaryRegion,
        SWITCH_PARAMETER: switchParameterName,
        EVACUATION_METRIC_NAME: evacuationSignal(naming, props.peerRegion, naming.region).metricName,
      },
    });
    const fn = this.function.function;
    const healthCheckArns = props.healthChecks.map((check) =>
      Arn.format({ service: 'route53', region: '', account: '', resource: 'healthcheck', resourceName: check.healthCheckId }, stack),
    );
    for (const statement of [
      readPeerParameterStatement(stack, naming, props.peerRegion, ParameterKey.apiUrl),
      new iam.PolicyStatement({
        sid: 'DescribeGlobalTables',
        actions: ['dynamodb:DescribeTable'],
        resources: tableNames.map((tableName) => Arn.format({ service: 'dynamodb', resource: 'table', resourceName: tableName }, stack)),
      }),
      new iam.PolicyStatement({ sid: 'ReadEvacuationSwitches', actions: ['ssm:GetParameter'], resources: switchParameterArns }),
      new iam.PolicyStatement({
        sid: 'ReadReplicationSettings',
        actions: ['s3:GetReplicationConfiguration'],
        resources: bucketNames.map((bucket) => `arn:${stack.partition}:s3:::${bucket}`),
      }),
      new iam.PolicyStatement({
        sid: 'ReadStateMachine',
        actions: ['states:DescribeStateMachine', 'states:ListExecutions'],
        resources: [props.stateMachine.stateMachineArn],
      }),
      new iam.PolicyStatement({ sid: 'ReadHealthChecks', actions: ['route53:GetHealthCheck', 'route53:GetHealthCheckStatus'], resources: healthCheckArns }),
      new iam.PolicyStatement({
        sid: 'ReadFailoverRecord',
        actions: ['route53:ListResourceRecordSets'],
        resources: [Arn.format({ service: 'route53', region: '', account: '', resource: 'hostedzone', resourceName: props.hostedZone.hostedZoneId }, stack)],
      }),
      // Neither supports resource-level permissions; PutMetricData is scoped by namespace.
      new iam.PolicyStatement({ sid: 'ReadLagAndHealthMetrics', actions: ['cloudwatch:GetMetricStatistics'], resources: ['*'] }),
      publishMetricsStatement(naming, 'PublishReadiness'),
    ]) {
      fn.addToRolePolicy(statement);
    }
    props.eventBus.grantPutEventsTo(fn);
    props.controlTable.grantReadState(fn);
    Validations.of(this.function.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "cloudwatch:GetMetricStatistics and PutMetricData support no resource-level permissions; PutMetricData is limited to the deployment's namespace by condition",
    });

    new events.Rule(this, 'Schedule', {
      ruleName: naming.name('rule', Purpose.readiness),
      description: `Runs the failover-readiness check of ${naming.region}`,
      schedule: events.Schedule.rate(Duration.hours(props.config.readinessIntervalHours)),
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 1 })],
    });
  }
}
