import type * as route53 from 'aws-cdk-lib/aws-route53';
import { zoneDelegation } from '../../lib/core/config-dns';
import { ParameterKey } from '../../lib/core/naming';
import type { OrderApi } from '../../lib/order-path/order-api';
import { FailoverRouting } from '../../lib/routing/failover-routing';
import { ApiHostedZone } from '../../lib/routing/hosted-zone';
import { SwitchKeeper } from '../../lib/routing/switch-keeper';
import type { StageContext } from './context';

/** The public hosted zone of the API names: the configured one, or one the primary stage creates and publishes. */
export function buildHostedZone({ stack, config, role, settings, naming, parameters }: StageContext): route53.IHostedZone {
  const hostedZone = new ApiHostedZone(stack, 'HostedZone', {
    naming,
    role,
    peerRegion: settings.peerRegion,
    zoneName: config.domainName,
    hostedZoneId: config.hostedZoneId,
    delegation: zoneDelegation(config),
  });
  if (hostedZone.created) {
    parameters.publish(ParameterKey.hostedZoneId, hostedZone.zone.hostedZoneId, 'The public hosted zone of the API names (created by the primary stage)');
  }
  return hostedZone.zone;
}

export interface RegionalRouting {
  /** This region's failover record, health checks and evacuation switch. */
  readonly routing: FailoverRouting;
  /** The position of the evacuation switch this region hosts (the peer's), republished every minute. */
  readonly switchKeeper: SwitchKeeper;
}

/** This region's failover record with its health checks, and the keeper of the switch it hosts. */
export function buildRouting({ stack, config, role, settings, naming }: StageContext, zone: route53.IHostedZone, orderApi: OrderApi): RegionalRouting {
  const routing = new FailoverRouting(stack, 'FailoverRouting', {
    naming,
    role,
    peerRegion: settings.peerRegion,
    zone,
    recordName: config.apiSubdomain,
    api: orderApi.api,
    domain: orderApi.domain,
    config,
  });
  const switchKeeper = new SwitchKeeper(stack, 'SwitchKeeper', {
    naming,
    peerRegion: settings.peerRegion,
    logRetention: config.logRetentionDays,
    sourceMaps: config.lambdaSourceMaps,
  });
  return { routing, switchKeeper };
}
