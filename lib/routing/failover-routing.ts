import { Duration, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import type { AppConfig } from '../core/config';
import { RegionRole } from '../core/region-settings';
import { EvacuationSwitch } from './evacuation-switch';
import { Naming } from '../core/naming';
import { API_STAGE_NAME, HEALTH_PATH } from '../order-path/order-api';

/** Route 53 publishes health-check metrics in us-east-1 only, whichever region the check is for. */
export const ROUTE53_METRICS_REGION = 'us-east-1';

/** HTTPS: the API answers on 443 only. */
const HTTPS_PORT = 443;

/** The config keys failover routing reads (lib/core/config.ts documents and defaults each). */
export type FailoverRoutingConfig = Pick<AppConfig, 'healthCheckIntervalSeconds' | 'healthCheckFailureThreshold' | 'healthCheckRegions' | 'dnsTtlSeconds'>;

export interface FailoverRoutingProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** PRIMARY record for the primary region, SECONDARY for the other. */
  readonly role: RegionRole;
  /** The other region of the deployment (where this region's evacuation switch lives). */
  readonly peerRegion: string;
  /** The zone the API's name lives in. */
  readonly zone: route53.IHostedZone;
  /** The API's host label in the zone (`api` for `api.<zone>`). */
  readonly recordName: string;
  /** This region's API: its execute-api endpoint is what the health checkers probe. */
  readonly api: apigateway.RestApi;
  /** This region's custom domain: the record points at its regional target. */
  readonly domain: apigateway.IDomainName;
  /** The health checks' interval, threshold and checker regions, and the record's TTL. */
  readonly config: FailoverRoutingConfig;
}

/**
 * How clients find the region that serves: a failover record for `api.<zone>` (PRIMARY in the
 * primary region, SECONDARY in the other), each owned by its region's stage and guarded by a
 * calculated health check that is healthy only while
 * - Route 53's checkers get 200 from this region's deep `/health` over HTTPS, and
 * - this region's evacuation switch (an alarm in the other region) is not thrown.
 * Everything that moves traffic is Route 53's data plane: health checkers and alarm state. No
 * step of failover or failback changes a record.
 */
export class FailoverRouting extends Construct {
  /** A Route 53 check's status (1 healthy, 0 not), from us-east-1 where Route 53 publishes it, by the check's id alone. */
  public static metricHealthCheckStatus(healthCheckId: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/Route53',
      metricName: 'HealthCheckStatus',
      dimensionsMap: { HealthCheckId: healthCheckId },
      statistic: 'Minimum',
      period: Duration.minutes(1),
      region: ROUTE53_METRICS_REGION,
    });
  }

  /** The check on this region's `/health`. */
  public readonly endpointHealthCheck: route53.IHealthCheck;
  /** The switch that evacuates this region from the other one. */
  public readonly evacuationSwitch: EvacuationSwitch;
  /** What the record's routing depends on: the endpoint AND the switch. */
  public readonly healthCheck: route53.IHealthCheck;
  /** The failover record. */
  public readonly record: route53.CnameRecord;
  /** The host name the health checkers probe: this region's execute-api endpoint. */
  public readonly probedHost: string;
  /** The path they probe, including the stage. */
  public readonly probedPath: string;
  /** The record's set identifier (`<role>-<region>`). */
  public readonly setIdentifier: string;

  constructor(scope: Construct, id: string, props: FailoverRoutingProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // The execute-api host, not `api.<zone>`: that name resolves through these very records.
    this.probedHost = `${props.api.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
    this.probedPath = `/${API_STAGE_NAME}/${HEALTH_PATH}`;

    this.endpointHealthCheck = new route53.HealthCheck(this, 'EndpointHealthCheck', {
      type: route53.HealthCheckType.HTTPS,
      fqdn: this.probedHost,
      port: HTTPS_PORT,
      resourcePath: this.probedPath,
      enableSNI: true,
      requestInterval: Duration.seconds(props.config.healthCheckIntervalSeconds),
      failureThreshold: props.config.healthCheckFailureThreshold,
      regions: props.config.healthCheckRegions,
      // Latency graphs per checker region for the dashboard; it cannot be turned on later.
      measureLatency: true,
    });

    this.evacuationSwitch = new EvacuationSwitch(this, 'EvacuationSwitch', { naming: props.naming, peerRegion: props.peerRegion });

    const children = [this.endpointHealthCheck, this.evacuationSwitch.healthCheck];
    this.healthCheck = new route53.HealthCheck(this, 'RoutingHealthCheck', {
      type: route53.HealthCheckType.CALCULATED,
      childHealthChecks: children,
      healthThreshold: children.length,
    });

    this.setIdentifier = `${props.role}-${stack.region}`;
    this.record = new route53.CnameRecord(this, 'Record', {
      zone: props.zone,
      recordName: props.recordName,
      domainName: props.domain.domainNameAliasDomainName,
      ttl: Duration.seconds(props.config.dnsTtlSeconds),
      failover: props.role === RegionRole.PRIMARY ? route53.Failover.PRIMARY : route53.Failover.SECONDARY,
      setIdentifier: this.setIdentifier,
      healthCheck: this.healthCheck,
      comment: `${props.role} region of ${props.naming.parameterPrefix()}: healthy while ${this.probedPath} answers 200 and the region is not evacuated`,
    });
  }
}
