import { Fn } from 'aws-cdk-lib';
import type { ControlTable } from '../../lib/data/control-table';
import type * as route53 from 'aws-cdk-lib/aws-route53';
import { RegionRole } from '../../lib/core/region-settings';
import { ParameterKey, Purpose } from '../../lib/core/naming';
import { PeerParameter } from '../../lib/core/peer-parameter';
import { AlertTopic } from '../../lib/observability/alert-topic';
import { DrDashboard } from '../../lib/observability/dr-dashboard';
import { DrEventBus } from '../../lib/observability/dr-event-bus';
import { EventForwarding } from '../../lib/observability/event-forwarding';
import { ReadinessCheck } from '../../lib/observability/readiness-check';
import { RegionalAlarms } from '../../lib/observability/regional-alarms';
import type { OrderApi } from '../../lib/order-path/order-api';
import type { FailoverRouting } from '../../lib/routing/failover-routing';
import type { StageContext } from './context';
import type { FailoverControl } from './failover';

/** The global tables whose replication the readiness check, the alarms and the dashboard watch. */
const TABLE_PURPOSES = [Purpose.orderJournal, Purpose.control, Purpose.sessions];

/** Where this region announces: the critical alert topic and the disaster-recovery event bus. */
export function buildAnnouncements({ stack, config, naming }: StageContext): { alerts: AlertTopic; events: DrEventBus } {
  return { alerts: new AlertTopic(stack, 'Alerts', { naming, email: config.alertEmail }), events: new DrEventBus(stack, 'Events', { naming }) };
}

export interface Observability {
  readonly readiness: ReadinessCheck;
  readonly regionalAlarms: RegionalAlarms;
  readonly eventForwarding: EventForwarding;
  /** The dashboard of both regions (secondary region only). */
  readonly dashboard?: DrDashboard;
}

export interface ObservabilityInputs {
  readonly zone: route53.IHostedZone;
  readonly controlTable: ControlTable;
  readonly orderApi: OrderApi;
  readonly routing: FailoverRouting;
  readonly failover: FailoverControl;
  readonly alerts: AlertTopic;
  readonly events: DrEventBus;
  /** The schema migration's function is here too. */
  readonly holdsWriter: boolean;
}

/** The hourly readiness check, the region's alarms, forwarding of critical events to the peer, and the dashboard. */
export function buildObservability(ctx: StageContext, inputs: ObservabilityInputs): Observability {
  const { stack, config, settings, naming, parameters } = ctx;
  const { routing, failover, events } = inputs;
  const healthChecks = [routing.endpointHealthCheck, routing.healthCheck];
  parameters.publish(
    ParameterKey.healthCheckIds,
    healthChecks.map((check) => check.healthCheckId).join(','),
    "This region's Route 53 checks: the /health check and the routing (calculated) check, comma-separated",
  );
  const readiness = new ReadinessCheck(stack, 'Readiness', {
    naming,
    peerRegion: settings.peerRegion,
    primaryRegion: config.primaryRegion,
    controlTable: inputs.controlTable,
    apiUrl: inputs.orderApi.api.url,
    apiHostName: ctx.apiHostName,
    hostedZone: inputs.zone,
    setIdentifier: routing.setIdentifier,
    healthChecks,
    stateMachine: failover.orchestrator.stateMachine,
    tablePurposes: TABLE_PURPOSES,
    eventBus: events.bus,
    eventSource: events.source,
    config,
  });
  const regionalAlarms = buildAlarms(ctx, inputs);
  const eventForwarding = new EventForwarding(stack, 'EventForwarding', {
    naming,
    peerRegion: settings.peerRegion,
    bus: events.bus,
    source: events.source,
    processingAlarms: ['queue-age', 'dead-letters'].map((purpose) => regionalAlarms.alarms.get(purpose)!),
  });
  return { readiness, regionalAlarms, eventForwarding, dashboard: buildDashboard(ctx, routing, regionalAlarms) };
}

/** The region's alarms, over every function this stage deploys and the thresholds from config. */
function buildAlarms({ stack, config, settings, naming }: StageContext, { routing, failover, alerts, holdsWriter }: ObservabilityInputs): RegionalAlarms {
  const functionPurposes: string[] = [
    Purpose.orderIntake,
    Purpose.orderProcessor,
    Purpose.orderLookup,
    Purpose.health,
    Purpose.failoverSteps,
    Purpose.reconcile,
    Purpose.readiness,
  ];
  if (failover.prober) functionPurposes.push(Purpose.prober);
  if (holdsWriter) functionPurposes.push(Purpose.migration);
  return new RegionalAlarms(stack, 'Alarms', {
    naming,
    peerRegion: settings.peerRegion,
    topic: alerts.topic,
    functionPurposes,
    tablePurposes: TABLE_PURPOSES,
    healthChecks: { 'route53-endpoint': routing.endpointHealthCheck, 'route53-routing': routing.healthCheck },
    config,
  });
}

/** The dashboard of both regions, in the secondary (deployed second, it reads the primary's health checks). */
function buildDashboard(
  { stack, config, role, settings, naming }: StageContext,
  routing: FailoverRouting,
  regionalAlarms: RegionalAlarms,
): DrDashboard | undefined {
  if (role !== RegionRole.SECONDARY) return undefined;
  const [primaryEndpointCheck, primaryRoutingCheck] = Fn.split(
    ',',
    new PeerParameter(stack, 'PeerHealthChecks', { naming, peerRegion: settings.peerRegion, key: ParameterKey.healthCheckIds }).value,
    2,
  );
  return new DrDashboard(stack, 'Dashboard', {
    naming,
    regions: [config.primaryRegion, config.secondaryRegion],
    healthChecks: {
      [`${settings.peerRegion} /health`]: primaryEndpointCheck,
      [`${settings.peerRegion} routing`]: primaryRoutingCheck,
      [`${settings.region} /health`]: routing.endpointHealthCheck.healthCheckId,
      [`${settings.region} routing`]: routing.healthCheck.healthCheckId,
    },
    tablePurposes: TABLE_PURPOSES,
    alarms: [...regionalAlarms.alarms.values()],
  });
}
