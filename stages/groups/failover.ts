import { Duration } from 'aws-cdk-lib';
import { RegionRole } from '../../lib/core/region-settings';
import type { CrossRegionAccess } from '../../lib/failover/cross-region-access';
import { FailoverOrchestrator } from '../../lib/failover/failover-orchestrator';
import { FailoverProber } from '../../lib/failover/failover-prober';
import { FaultInjection, faultDuration } from '../../lib/failover/fault-injection';
import { ParameterKey } from '../../lib/core/naming';
import type { Storage } from '../../lib/data/storage';
import type { RegionalAlarms } from '../../lib/observability/regional-alarms';
import type { AlertTopic } from '../../lib/observability/alert-topic';
import type { DrEventBus } from '../../lib/observability/dr-event-bus';
import { ContinuousReconciliation } from '../../lib/order-path/continuous-reconciliation';
import { API_STAGE_NAME, OrderApi } from '../../lib/order-path/order-api';
import type { StageContext } from './context';
import type { RegionalData } from './data';

export interface FailoverControl {
  /** The state machine that moves the active role to this region. */
  readonly orchestrator: FailoverOrchestrator;
  /** Journal reconciliation on a schedule, with its alarms. */
  readonly reconciliation: ContinuousReconciliation;
  /** The automatic trigger (secondary region only). */
  readonly prober?: FailoverProber;
}

export interface FailoverControlInputs {
  readonly data: RegionalData;
  readonly orderApi: OrderApi;
  readonly alerts: AlertTopic;
  readonly events: DrEventBus;
  /** The orchestrator's role (built with the network, before the data, where the stage has always built it). */
  readonly crossRegionAccess: CrossRegionAccess;
}

/** The orchestrator with its cross-region role, scheduled reconciliation, and (in the secondary) the prober. */
export function buildFailoverControl(ctx: StageContext, { data, orderApi, alerts, events, crossRegionAccess }: FailoverControlInputs): FailoverControl {
  const { stack, config, role, settings, naming } = ctx;
  const orchestrator = new FailoverOrchestrator(stack, 'FailoverOrchestrator', {
    naming,
    peerRegion: settings.peerRegion,
    primaryRegion: config.primaryRegion,
    controlTable: data.controlTable,
    journal: data.orderJournal,
    database: data.database,
    role: crossRegionAccess.orchestratorRole,
    alertTopic: alerts.topic,
    eventBus: events.bus,
    eventSource: events.source,
    apiUrl: orderApi.api.url,
    canaryRouteArns: [orderApi.api.arnForExecuteApi('POST', '/orders', API_STAGE_NAME), orderApi.api.arnForExecuteApi('GET', '/orders/*', API_STAGE_NAME)],
    apiHostName: ctx.apiHostName,
    apiTarget: orderApi.domain.domainNameAliasDomainName,
    config,
  });
  const reconciliation = new ContinuousReconciliation(stack, 'ContinuousReconciliation', {
    naming,
    reconcileFunction: orchestrator.reconcileFunction.function,
    alertTopic: alerts.topic,
    interval: Duration.minutes(config.reconcileIntervalMinutes),
  });
  const prober =
    role === RegionRole.SECONDARY
      ? new FailoverProber(stack, 'FailoverProber', {
          naming,
          peerRegion: settings.peerRegion,
          primaryRegion: config.primaryRegion,
          controlTable: data.controlTable,
          stateMachine: orchestrator.stateMachine,
          alertTopic: alerts.topic,
          apiHostName: ctx.apiHostName,
          apiTarget: orderApi.domain.domainNameAliasDomainName,
          config,
        })
      : undefined;
  return { orchestrator, reconciliation, prober };
}

export interface FaultInjectionInputs {
  readonly orderApi: OrderApi;
  /** The region's alarms: the dead-letter alarm is the experiment's stop condition. */
  readonly regionalAlarms: RegionalAlarms;
  /** The access-log bucket the configuration bucket logs to. */
  readonly storage: Storage;
}

/**
 * The unplanned drill's fault (`faultInjectionDrills`, the test environment only), in the primary
 * region: an FIS experiment failing the health and intake functions, its id published for the drill.
 */
export function buildFaultInjection(ctx: StageContext, { orderApi, regionalAlarms, storage }: FaultInjectionInputs): FaultInjection | undefined {
  const { stack, config, role, naming, parameters } = ctx;
  if (!config.faultInjectionDrills || role !== RegionRole.PRIMARY) return undefined;
  const faultInjection = new FaultInjection(stack, 'FaultInjection', {
    naming,
    targets: [orderApi.health.function, orderApi.intake.function],
    // Dead letters are orders that need a person: the drill fails health and intake only, and a
    // standby processor defers (never dead-letters) what the journal holds, so an order here means
    // the drill harms more than the drill. Queue age is not: processing in the drained primary
    // stops by design during the drill.
    stopCondition: regionalAlarms.alarms.get('dead-letters')!,
    duration: faultDuration(config),
    accessLogBucket: storage.accessLogBucket,
  });
  parameters.publish(
    ParameterKey.faultInjectionTemplateId,
    faultInjection.template.attrId,
    "The unplanned drill's FIS experiment template (Lambda invocation errors on this region's health and intake functions)",
  );
  return faultInjection;
}
