import { RegionRole } from '../../lib/core/region-settings';
import { ParameterKey } from '../../lib/core/naming';
import { Network, routeTableCount } from '../../lib/network/network';
import { VpcPeering } from '../../lib/network/vpc-peering';
import type { StageContext } from './context';

/** The VPC, published for the peer region; the secondary, deployed second, completes the peering. */
export function buildNetwork({ stack, config, role, settings, naming, parameters }: StageContext): Network {
  const network = new Network(stack, 'Network', {
    naming,
    cidr: settings.vpcCidr,
    config,
  });
  parameters.publish(ParameterKey.vpcId, network.vpc.vpcId, "This region's VPC id (read by the peer region to request peering)");
  parameters.publish(ParameterKey.vpcCidr, network.vpc.vpcCidrBlock, "This region's VPC CIDR block");
  parameters.publish(
    ParameterKey.routeTableIds,
    network.routeTableIds.join(','),
    "This region's subnet route tables, comma-separated (the peer region adds its return routes to them)",
  );
  if (role === RegionRole.SECONDARY) {
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
  return network;
}
