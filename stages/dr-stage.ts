import { Stage, StageProps } from 'aws-cdk-lib';
import type * as route53 from 'aws-cdk-lib/aws-route53';
import type { Construct } from 'constructs';
import { AwsCallSupport } from '../lib/core/aws-call-support';
import { applyGuardrails } from '../lib/core/compliance';
import { AppConfig, apiHostName } from '../lib/core/config';
import { RegionRole, regionSettings } from '../lib/core/region-settings';
import { Naming, Purpose, regionCode } from '../lib/core/naming';
import { RegionalParameters } from '../lib/core/regional-parameters';
import type { ControlTable } from '../lib/data/control-table';
import type { GlobalDatabase } from '../lib/data/global-database';
import type { OrderJournal } from '../lib/data/order-journal';
import type { SessionStore } from '../lib/data/session-store';
import type { Storage } from '../lib/data/storage';
import { CrossRegionAccess } from '../lib/failover/cross-region-access';
import type { FailoverOrchestrator } from '../lib/failover/failover-orchestrator';
import type { FailoverProber } from '../lib/failover/failover-prober';
import type { FaultInjection } from '../lib/failover/fault-injection';
import { DrillAccess, DrillTrust } from '../lib/failover/drill-access';
import type { AlertTopic } from '../lib/observability/alert-topic';
import type { DrDashboard } from '../lib/observability/dr-dashboard';
import type { DrEventBus } from '../lib/observability/dr-event-bus';
import type { EventForwarding } from '../lib/observability/event-forwarding';
import type { ReadinessCheck } from '../lib/observability/readiness-check';
import type { RegionalAlarms } from '../lib/observability/regional-alarms';
import type { ContinuousReconciliation } from '../lib/order-path/continuous-reconciliation';
import type { OrderApi } from '../lib/order-path/order-api';
import type { OrderProcessing } from '../lib/order-path/order-processing';
import type { FailoverRouting } from '../lib/routing/failover-routing';
import type { SwitchKeeper } from '../lib/routing/switch-keeper';
import type { StageContext } from './groups/context';
import { buildData, buildStorage } from './groups/data';
import { buildFailoverControl, buildFaultInjection } from './groups/failover';
import { buildNetwork } from './groups/network';
import { buildAnnouncements, buildObservability } from './groups/observability';
import { buildOrderPath } from './groups/order-path';
import { buildHostedZone, buildRouting } from './groups/routing';
import { RegionalStack } from './regional-stack';
import { stageLogging } from './stage-logging';

/** Construct id of a region's stage: readable in `cdk ls` and unique per environment and region. */
export function stageId(config: AppConfig, role: RegionRole): string {
  const region = role === RegionRole.PRIMARY ? config.primaryRegion : config.secondaryRegion;
  return `Dr-${config.environmentSuffix}-${regionCode(region)}`;
}

export interface DrStageProps extends StageProps {
  /** The validated app configuration. */
  readonly config: AppConfig;
  /** Which region of the pair this stage deploys. */
  readonly role: RegionRole;
  /**
   * The pipeline's drill projects, for the test environment only: its primary stage creates the
   * role they assume. @default - no drill role (production, and a direct deployment)
   */
  readonly drillTrust?: DrillTrust;
}

/**
 * The full infrastructure of one region of the deployment. Both regions are built from the same
 * constructs; the role decides only what needs both regions: the secondary, deployed after the
 * primary, completes the cross-region wiring (VPC peering and the primary's return routes).
 */
export class DrStage extends Stage {
  /** The stack holding this region's resources. */
  public readonly regionalStack: RegionalStack;
  /** Names of this region's resources. */
  public readonly naming: Naming;
  /** This region's replica of the order journal. */
  public readonly orderJournal: OrderJournal;
  /** This region's replica of the control table. */
  public readonly controlTable: ControlTable;
  /** This region's replica of the session table. */
  public readonly sessionStore: SessionStore;
  /** This region's member of the Aurora global database. */
  public readonly database: GlobalDatabase;
  /** This region's order queue and processor. */
  public readonly orderProcessing: OrderProcessing;
  /** This region's order API. */
  public readonly orderApi: OrderApi;
  /** This region's config, audit and access-log buckets. */
  public readonly storage: Storage;
  /** This region's failover record, health checks and evacuation switch. */
  public readonly routing: FailoverRouting;
  /** The position of the evacuation switch this region hosts (the peer's), republished every minute. */
  public readonly switchKeeper: SwitchKeeper;
  /** This region's critical alert topic. */
  public readonly alerts: AlertTopic;
  /** This region's disaster-recovery event bus. */
  public readonly events: DrEventBus;
  /** The state machine that moves the active role to this region. */
  public readonly orchestrator: FailoverOrchestrator;
  public readonly reconciliation: ContinuousReconciliation;
  /** The automatic trigger (secondary region only). */
  public readonly prober?: FailoverProber;
  /** This region's hourly failover-readiness check. */
  public readonly readiness: ReadinessCheck;
  /** This region's alarms. */
  public readonly regionalAlarms: RegionalAlarms;
  /** Forwarding of critical events to the other region. */
  public readonly eventForwarding: EventForwarding;
  /** The dashboard of both regions (secondary region only). */
  public readonly dashboard?: DrDashboard;
  /** The public hosted zone of the API names (created by the primary stage, or the configured one). */
  public readonly hostedZone: route53.IHostedZone;
  /** The unplanned drill's FIS experiment (primary region, `faultInjectionDrills` only). */
  public readonly faultInjection?: FaultInjection;
  /** The role the pipeline's drill steps assume (the test environment's primary stage only). */
  public readonly drillAccess?: DrillAccess;

  constructor(scope: Construct, id: string, props: DrStageProps) {
    const { config, role } = props;
    const settings = regionSettings(config, role);
    super(scope, id, { ...props, env: { account: config.account, region: settings.region } });

    const naming = Naming.forDeployment(config, settings.region);
    this.naming = naming;
    applyGuardrails(this, { environment: config.environmentSuffix, region: settings.region, application: config.appName });

    const stack = new RegionalStack(this, 'Regional', {
      stackName: naming.name('stack', Purpose.regional),
      description: `${config.appName} ${role} region (${settings.region}), environment ${config.environmentSuffix}`,
      availabilityZones: settings.availabilityZones,
      env: { account: config.account, region: settings.region },
    });
    this.regionalStack = stack;
    stageLogging(this, stack, naming, config.logRetentionDays);
    AwsCallSupport.create(stack, { naming, logRetention: config.logRetentionDays });
    const parameters = new RegionalParameters(stack, 'Parameters', { naming, role, peerRegion: settings.peerRegion });
    const ctx: StageContext = { stack, config, role, settings, naming, parameters, apiHostName: apiHostName(config) };

    // The capability groups (stages/groups/), in the order they depend on each other.
    const network = buildNetwork(ctx);
    const crossRegionAccess = new CrossRegionAccess(stack, 'CrossRegionAccess', { naming, peerRegion: settings.peerRegion });
    const data = buildData(ctx, network);
    ({ orderJournal: this.orderJournal, controlTable: this.controlTable, sessionStore: this.sessionStore, database: this.database } = data);
    this.hostedZone = buildHostedZone(ctx);
    ({ orderProcessing: this.orderProcessing, orderApi: this.orderApi } = buildOrderPath(ctx, data, this.hostedZone));
    ({ routing: this.routing, switchKeeper: this.switchKeeper } = buildRouting(ctx, this.hostedZone, this.orderApi));
    ({ alerts: this.alerts, events: this.events } = buildAnnouncements(ctx));
    const failover = buildFailoverControl(ctx, { data, orderApi: this.orderApi, alerts: this.alerts, events: this.events, crossRegionAccess });
    ({ orchestrator: this.orchestrator, reconciliation: this.reconciliation, prober: this.prober } = failover);
    const observability = buildObservability(ctx, {
      zone: this.hostedZone,
      controlTable: this.controlTable,
      orderApi: this.orderApi,
      routing: this.routing,
      failover,
      alerts: this.alerts,
      events: this.events,
      holdsWriter: data.holdsWriter,
    });
    ({ readiness: this.readiness, regionalAlarms: this.regionalAlarms, eventForwarding: this.eventForwarding, dashboard: this.dashboard } = observability);
    this.storage = buildStorage(ctx, this.database);
    this.faultInjection = buildFaultInjection(ctx, { orderApi: this.orderApi, regionalAlarms: this.regionalAlarms, storage: this.storage });
    if (props.drillTrust !== undefined && role === RegionRole.PRIMARY) {
      this.drillAccess = new DrillAccess(stack, 'DrillAccess', { config, trust: props.drillTrust });
    }
  }
}
