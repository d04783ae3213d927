import { Aspects, Duration, Fn, RemovalPolicy, Stage, StageProps } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as route53 from 'aws-cdk-lib/aws-route53';
import type { Construct } from 'constructs';
import { applyGuardrails, ProviderLogging } from '../lib/core/compliance';
import { AppConfig, RegionRole, regionSettings } from '../lib/core/config';
import { ControlTable } from '../lib/data/control-table';
import { CrossRegionAccess } from '../lib/failover/cross-region-access';
import { AlertTopic } from '../lib/observability/alert-topic';
import { DrDashboard } from '../lib/observability/dr-dashboard';
import { DrEventBus } from '../lib/observability/dr-event-bus';
import { EventForwarding } from '../lib/observability/event-forwarding';
import { ReadinessCheck } from '../lib/observability/readiness-check';
import { RegionalAlarms } from '../lib/observability/regional-alarms';
import { ContinuousReconciliation } from '../lib/order-path/continuous-reconciliation';
import { FailoverOrchestrator } from '../lib/failover/failover-orchestrator';
import { FailoverProber } from '../lib/failover/failover-prober';
import { FailoverRouting } from '../lib/routing/failover-routing';
import { GlobalDatabase } from '../lib/data/global-database';
import { ApiHostedZone } from '../lib/routing/hosted-zone';
import { API_STAGE_NAME, OrderApi } from '../lib/order-path/order-api';
import { OrderJournal } from '../lib/data/order-journal';
import { OrderProcessing } from '../lib/order-path/order-processing';
import { PeerParameter } from '../lib/core/peer-parameter';
import { SchemaMigration } from '../lib/data/schema-migration';
import { SessionStore } from '../lib/data/session-store';
import { Storage } from '../lib/data/storage';
import { SwitchKeeper } from '../lib/routing/switch-keeper';
import { PeerBucketReplication } from '../lib/data/storage-replication';
import { Naming, ParameterKey, Purpose, regionCode } from '../lib/core/naming';
import { Network, routeTableCount } from '../lib/network/network';
import { RegionalParameters } from '../lib/core/regional-parameters';
import { VpcPeering } from '../lib/network/vpc-peering';
import { RegionalStack } from './regional-stack';

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

  constructor(scope: Construct, id: string, props: DrStageProps) {
    const settings = regionSettings(props.config, props.role);
    super(scope, id, { ...props, env: { account: props.config.account, region: settings.region } });

    const naming = new Naming({
      appName: props.config.appName,
      environmentSuffix: props.config.environmentSuffix,
      account: props.config.account,
      region: settings.region,
    });
    this.naming = naming;
    applyGuardrails(this, { environment: props.config.environmentSuffix, region: settings.region, application: props.config.appName });

    const stack = new RegionalStack(this, 'Regional', {
      stackName: naming.name('stack', Purpose.regional),
      description: `${props.config.appName} ${props.role} region (${settings.region}), environment ${props.config.environmentSuffix}`,
      availabilityZones: settings.availabilityZones,
      env: { account: props.config.account, region: settings.region },
    });
    this.regionalStack = stack;

    // CDK's own provider functions (default security group, bucket auto-delete) log here, not to a
    // group Lambda would create and the stack would leave behind.
    const providerLogs = new logs.LogGroup(stack, 'ProviderLogs', {
      logGroupName: `/aws/lambda/${naming.name('logGroup', Purpose.cdkProviders)}`,
      retention: props.config.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Aspects.of(stack).add(new ProviderLogging(providerLogs));

    const parameters = new RegionalParameters(stack, 'Parameters', { naming, role: props.role, peerRegion: settings.peerRegion });

    const network = new Network(stack, 'Network', {
      naming,
      cidr: settings.vpcCidr,
      appSubnetCidrMask: props.config.appSubnetCidrMask,
      dataSubnetCidrMask: props.config.dataSubnetCidrMask,
      flowLogRetention: props.config.flowLogRetentionDays as logs.RetentionDays,
    });
    parameters.publish(ParameterKey.vpcId, network.vpc.vpcId, "This region's VPC id (read by the peer region to request peering)");
    parameters.publish(ParameterKey.vpcCidr, network.vpc.vpcCidrBlock, "This region's VPC CIDR block");
    parameters.publish(
      ParameterKey.routeTableIds,
      network.routeTableIds.join(','),
      "This region's subnet route tables, comma-separated (the peer region adds its return routes to them)",
    );

    if (props.role === RegionRole.SECONDARY) {
      const peering = new VpcPeering(stack, 'Peering', {
        naming,
        vpc: network.vpc,
        vpcCidr: settings.vpcCidr,
        routeTableIds: network.routeTableIds,
        peerRegion: settings.peerRegion,
        peerVpcCidr: settings.peerVpcCidr,
        peerRouteTableCount: routeTableCount(settings.peerAvailabilityZones.length),
      });
      parameters.publish(ParameterKey.peeringConnectionId, peering.peeringConnectionId, 'The VPC peering connection to the peer region');
    }

    const crossRegionAccess = new CrossRegionAccess(stack, 'CrossRegionAccess', { naming, peerRegion: settings.peerRegion });

    const tableProps = { naming, role: props.role, peerRegion: settings.peerRegion };
    this.orderJournal = new OrderJournal(stack, 'OrderJournal', { ...tableProps, witnessRegion: props.config.witnessRegion });
    this.controlTable = new ControlTable(stack, 'ControlTable', { ...tableProps, witnessRegion: props.config.witnessRegion });
    this.sessionStore = new SessionStore(stack, 'SessionStore', tableProps);

    // After a failover, config names the region that holds the writer now, so a deploy does not
    // try to put it back: the schema migration and the secret rotation follow the writer.
    const holdsWriter = (props.config.writerRegion ?? props.config.primaryRegion) === settings.region;
    this.database = new GlobalDatabase(stack, 'Database', {
      naming,
      role: props.role,
      peerRegion: settings.peerRegion,
      vpc: network.vpc,
      vpcCidr: settings.vpcCidr,
      peerVpcCidr: settings.peerVpcCidr,
      engineVersion: props.config.auroraEngineVersion,
      instanceClass: props.config.dbInstanceClass,
      readerCount: props.config.dbReaderCount,
      port: props.config.dbPort,
      backupRetentionDays: props.config.dbBackupRetentionDays,
      secretRotationDays: props.config.dbSecretRotationDays,
      logRetention: props.config.logRetentionDays as logs.RetentionDays,
      holdsWriter,
    });
    parameters.publish(
      ParameterKey.databaseEndpoint,
      this.database.clusterEndpoint,
      "This region's Aurora cluster endpoint (the writer when this region is primary)",
    );
    if (holdsWriter) {
      new SchemaMigration(stack, 'SchemaMigration', {
        naming,
        database: this.database,
        vpc: network.vpc,
        logRetention: props.config.logRetentionDays as logs.RetentionDays,
      });
    }

    const hostedZone = new ApiHostedZone(stack, 'HostedZone', {
      naming,
      role: props.role,
      peerRegion: settings.peerRegion,
      zoneName: props.config.domainName,
      hostedZoneId: props.config.hostedZoneId,
    });
    this.hostedZone = hostedZone.zone;
    if (hostedZone.created) {
      parameters.publish(ParameterKey.hostedZoneId, hostedZone.zone.hostedZoneId, 'The public hosted zone of the API names (created by the primary stage)');
    }

    this.orderProcessing = new OrderProcessing(stack, 'OrderProcessing', {
      naming,
      primaryRegion: props.config.primaryRegion,
      journal: this.orderJournal.table,
      controlTable: this.controlTable.table,
      database: this.database,
      vpc: network.vpc,
      maxReceiveCount: props.config.orderQueueMaxReceiveCount,
      batchSize: props.config.processorBatchSize,
      maxConcurrency: props.config.processorMaxConcurrency,
      timeout: Duration.seconds(props.config.processorTimeoutSeconds),
      poolSize: props.config.dbPoolSize,
      logRetention: props.config.logRetentionDays as logs.RetentionDays,
    });
    this.orderApi = new OrderApi(stack, 'OrderApi', {
      naming,
      primaryRegion: props.config.primaryRegion,
      domainName: `${props.config.apiSubdomain}.${props.config.domainName}`,
      hostedZone: hostedZone.zone,
      journal: this.orderJournal.table,
      controlTable: this.controlTable.table,
      queue: this.orderProcessing.queue,
      database: this.database,
      vpc: network.vpc,
      pendingShards: props.config.journalPendingShards,
      maxOrderBodyBytes: props.config.maxOrderBodyBytes,
      throttleRateLimit: props.config.apiThrottleRateLimit,
      throttleBurstLimit: props.config.apiThrottleBurstLimit,
      wafRateLimit: props.config.apiWafRateLimit,
      healthCheckTimeoutMs: props.config.healthCheckTimeoutMs,
      poolSize: props.config.dbPoolSize,
      logRetention: props.config.logRetentionDays as logs.RetentionDays,
    });
    parameters.publish(
      ParameterKey.apiRegionalDomainName,
      this.orderApi.domain.domainNameAliasDomainName,
      "This region's API Gateway domain target (for the failover records)",
    );
    parameters.publish(
      ParameterKey.apiRegionalHostedZoneId,
      this.orderApi.domain.domainNameAliasHostedZoneId,
      "The hosted zone of this region's API Gateway domain target",
    );
    parameters.publish(ParameterKey.apiUrl, this.orderApi.api.url, "This region's API stage URL (execute-api), for drills and operators");

    this.routing = new FailoverRouting(stack, 'FailoverRouting', {
      naming,
      role: props.role,
      peerRegion: settings.peerRegion,
      zone: hostedZone.zone,
      recordName: props.config.apiSubdomain,
      api: this.orderApi.api,
      domain: this.orderApi.domain,
      healthCheckInterval: Duration.seconds(props.config.healthCheckIntervalSeconds),
      failureThreshold: props.config.healthCheckFailureThreshold,
      checkerRegions: props.config.healthCheckRegions,
      ttl: Duration.seconds(props.config.dnsTtlSeconds),
    });
    this.switchKeeper = new SwitchKeeper(stack, 'SwitchKeeper', {
      naming,
      peerRegion: settings.peerRegion,
      logRetention: props.config.logRetentionDays as logs.RetentionDays,
    });

    this.alerts = new AlertTopic(stack, 'Alerts', { naming, email: props.config.alertEmail });
    this.events = new DrEventBus(stack, 'Events', { naming });
    const logRetention = props.config.logRetentionDays as logs.RetentionDays;
    this.orchestrator = new FailoverOrchestrator(stack, 'FailoverOrchestrator', {
      naming,
      peerRegion: settings.peerRegion,
      primaryRegion: props.config.primaryRegion,
      controlTable: this.controlTable.table,
      journal: this.orderJournal.table,
      database: this.database,
      vpc: network.vpc,
      role: crossRegionAccess.orchestratorRole,
      alertTopic: this.alerts.topic,
      eventBus: this.events.bus,
      eventSource: this.events.source,
      apiUrl: this.orderApi.api.url,
      canaryRouteArns: [
        this.orderApi.api.arnForExecuteApi('POST', '/orders', API_STAGE_NAME),
        this.orderApi.api.arnForExecuteApi('GET', '/orders/*', API_STAGE_NAME),
      ],
      apiHostName: `${props.config.apiSubdomain}.${props.config.domainName}`,
      apiTarget: this.orderApi.domain.domainNameAliasDomainName,
      lockDuration: Duration.seconds(props.config.failoverLockSeconds),
      promotionPollInterval: Duration.seconds(props.config.promotionPollSeconds),
      promotionTimeout: Duration.seconds(props.config.promotionTimeoutSeconds),
      validationTimeout: Duration.seconds(props.config.validationTimeoutSeconds),
      requireDataLossApproval: props.config.requireDataLossApproval,
      approvalTimeout: Duration.seconds(props.config.dataLossApprovalTimeoutSeconds),
      pendingShards: props.config.journalPendingShards,
      poolSize: props.config.dbPoolSize,
      journalDurableAfter: Duration.seconds(props.config.journalDurableAfterSeconds),
      journalReplicationMargin: Duration.seconds(props.config.journalReplicationMarginSeconds),
      orderBound: Duration.seconds(props.config.orderBoundSeconds),
      logRetention,
    });
    this.reconciliation = new ContinuousReconciliation(stack, 'ContinuousReconciliation', {
      naming,
      reconcileFunction: this.orchestrator.reconcileFunction.function,
      alertTopic: this.alerts.topic,
      interval: Duration.minutes(props.config.reconcileIntervalMinutes),
    });
    if (props.role === RegionRole.SECONDARY) {
      this.prober = new FailoverProber(stack, 'FailoverProber', {
        naming,
        peerRegion: settings.peerRegion,
        primaryRegion: props.config.primaryRegion,
        controlTable: this.controlTable.table,
        stateMachine: this.orchestrator.stateMachine,
        alertTopic: this.alerts.topic,
        probeInterval: Duration.seconds(props.config.probeIntervalSeconds),
        failureThreshold: props.config.probeFailureThreshold,
        minimumOutage: Duration.seconds(props.config.probeMinimumOutageSeconds),
        restartAfter: Duration.seconds(props.config.probeRestartAfterSeconds),
        apiHostName: `${props.config.apiSubdomain}.${props.config.domainName}`,
        apiTarget: this.orderApi.domain.domainNameAliasDomainName,
        autoFailback: props.config.autoFailback,
        failbackAfterHealthy: Duration.seconds(props.config.failbackAfterHealthySeconds),
        logRetention,
      });
    }

    parameters.publish(
      ParameterKey.healthCheckIds,
      [this.routing.endpointHealthCheck.healthCheckId, this.routing.healthCheck.healthCheckId].join(','),
      "This region's Route 53 checks: the /health check and the routing (calculated) check, comma-separated",
    );
    const tablePurposes = [Purpose.orderJournal, Purpose.control, Purpose.sessions];
    this.readiness = new ReadinessCheck(stack, 'Readiness', {
      naming,
      peerRegion: settings.peerRegion,
      primaryRegion: props.config.primaryRegion,
      controlTable: this.controlTable.table,
      apiUrl: this.orderApi.api.url,
      apiHostName: `${props.config.apiSubdomain}.${props.config.domainName}`,
      hostedZone: hostedZone.zone,
      setIdentifier: this.routing.setIdentifier,
      healthChecks: [this.routing.endpointHealthCheck, this.routing.healthCheck],
      stateMachine: this.orchestrator.stateMachine,
      tablePurposes,
      eventBus: this.events.bus,
      eventSource: this.events.source,
      maxReplicationLagMs: props.config.maxReplicationLagMs,
      interval: Duration.hours(props.config.readinessIntervalHours),
      logRetention,
    });
    const functionPurposes: string[] = [
      Purpose.orderIntake,
      Purpose.orderProcessor,
      Purpose.orderLookup,
      Purpose.health,
      Purpose.failoverSteps,
      Purpose.reconcile,
      Purpose.readiness,
    ];
    if (this.prober) functionPurposes.push(Purpose.prober);
    if (holdsWriter) functionPurposes.push(Purpose.migration);
    this.regionalAlarms = new RegionalAlarms(stack, 'Alarms', {
      naming,
      peerRegion: settings.peerRegion,
      topic: this.alerts.topic,
      functionPurposes,
      tablePurposes,
      healthChecks: { 'route53-endpoint': this.routing.endpointHealthCheck, 'route53-routing': this.routing.healthCheck },
      readinessInterval: Duration.hours(props.config.readinessIntervalHours),
      thresholds: {
        maxReplicationLagMs: props.config.maxReplicationLagMs,
        maxRpoLagMs: props.config.maxRpoLagMs,
        maxTableReplicationLatencyMs: props.config.maxTableReplicationLatencyMs,
        maxStorageReplicationLatencySeconds: props.config.maxStorageReplicationLatencySeconds,
        maxFunctionErrorRatePercent: props.config.maxFunctionErrorRatePercent,
        maxQueueAgeSeconds: props.config.maxQueueAgeSeconds,
        maxApi5xxRatePercent: props.config.maxApi5xxRatePercent,
        maxApi4xxRatePercent: props.config.maxApi4xxRatePercent,
        maxApiP99LatencyMs: props.config.maxApiP99LatencyMs,
        maxFailoverDurationSeconds: props.config.maxFailoverDurationSeconds,
        evaluationPeriods: props.config.alarmEvaluationPeriods,
      },
    });
    this.eventForwarding = new EventForwarding(stack, 'EventForwarding', {
      naming,
      peerRegion: settings.peerRegion,
      bus: this.events.bus,
      source: this.events.source,
      processingAlarms: ['queue-age', 'dead-letters'].map((purpose) => this.regionalAlarms.alarms.get(purpose)!),
    });
    if (props.role === RegionRole.SECONDARY) {
      const [primaryEndpointCheck, primaryRoutingCheck] = Fn.split(
        ',',
        new PeerParameter(stack, 'PeerHealthChecks', { naming, peerRegion: settings.peerRegion, key: ParameterKey.healthCheckIds }).value,
        2,
      );
      this.dashboard = new DrDashboard(stack, 'Dashboard', {
        naming,
        regions: [props.config.primaryRegion, props.config.secondaryRegion],
        healthChecks: {
          [`${settings.peerRegion} /health`]: primaryEndpointCheck,
          [`${settings.peerRegion} routing`]: primaryRoutingCheck,
          [`${settings.region} /health`]: this.routing.endpointHealthCheck.healthCheckId,
          [`${settings.region} routing`]: this.routing.healthCheck.healthCheckId,
        },
        tablePurposes,
        alarms: [...this.regionalAlarms.alarms.values()],
      });
    }

    const storageSettings = {
      naming,
      noncurrentVersionExpirationDays: props.config.noncurrentVersionExpirationDays,
      auditLogTransitionDays: props.config.auditLogTransitionDays,
      auditLogExpirationDays: props.config.auditLogExpirationDays,
      accessLogExpirationDays: props.config.accessLogExpirationDays,
    };
    if (props.role === RegionRole.PRIMARY) {
      this.storage = new Storage(stack, 'Storage', storageSettings);
      parameters.publish(
        ParameterKey.storageKeyArn,
        this.storage.key.keyArn,
        "This region's storage key (replicas from the peer region are encrypted with it)",
      );
    } else {
      // The primary deployed first: replicate both ways now that both sides exist.
      const peerStorageKeyArn = new PeerParameter(stack, 'PeerStorageKey', { naming, peerRegion: settings.peerRegion, key: ParameterKey.storageKeyArn }).value;
      this.storage = new Storage(stack, 'Storage', { ...storageSettings, replicateTo: { region: settings.peerRegion, keyArn: peerStorageKeyArn } });
      new PeerBucketReplication(stack, 'PeerBucketReplication', {
        naming,
        peerRegion: settings.peerRegion,
        keyArn: this.storage.key.keyArn,
        peerKeyArn: peerStorageKeyArn,
      });
    }
    parameters.publish(ParameterKey.databaseReaderEndpoint, this.database.readerEndpoint, "This region's Aurora reader endpoint");
  }
}
