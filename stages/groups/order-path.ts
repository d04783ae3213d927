import type * as route53 from 'aws-cdk-lib/aws-route53';
import { ParameterKey } from '../../lib/core/naming';
import { RegionRole } from '../../lib/core/region-settings';
import { OrderApi } from '../../lib/order-path/order-api';
import { OrderProcessing } from '../../lib/order-path/order-processing';
import type { StageContext } from './context';
import type { RegionalData } from './data';

export interface RegionalOrderPath {
  /** This region's order queue and processor. */
  readonly orderProcessing: OrderProcessing;
  /** This region's order API. */
  readonly orderApi: OrderApi;
}

/** The order queue and processor, and the order API in front of them, published for the failover records and operators. */
export function buildOrderPath(ctx: StageContext, data: RegionalData, zone: route53.IHostedZone): RegionalOrderPath {
  const { stack, config, naming, parameters } = ctx;
  const orderProcessing = new OrderProcessing(stack, 'OrderProcessing', {
    naming,
    primaryRegion: config.primaryRegion,
    journal: data.orderJournal,
    controlTable: data.controlTable,
    database: data.database,
    config,
  });
  const orderApi = new OrderApi(stack, 'OrderApi', {
    naming,
    primaryRegion: config.primaryRegion,
    domainName: ctx.apiHostName,
    hostedZone: zone,
    journal: data.orderJournal,
    controlTable: data.controlTable,
    queue: orderProcessing.queue,
    database: data.database,
    config,
    warmIntakeInstances: ctx.role === RegionRole.SECONDARY ? config.standbyIntakeProvisionedConcurrency : 0,
  });
  parameters.publish(
    ParameterKey.apiRegionalDomainName,
    orderApi.domain.domainNameAliasDomainName,
    "This region's API Gateway domain target (for the failover records)",
  );
  parameters.publish(
    ParameterKey.apiRegionalHostedZoneId,
    orderApi.domain.domainNameAliasHostedZoneId,
    "The hosted zone of this region's API Gateway domain target",
  );
  parameters.publish(ParameterKey.apiUrl, orderApi.api.url, "This region's API stage URL (execute-api), for drills and operators");
  return { orderProcessing, orderApi };
}
