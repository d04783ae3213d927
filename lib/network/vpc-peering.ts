import { Arn, Fn, Stack, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { AwsCallSupport } from '../core/aws-call-support';
import { Naming, ParameterKey, Purpose } from '../core/naming';
import { PeerParameter } from '../core/peer-parameter';

/** EC2 error codes that mean a route is already gone; deleting it again must not fail teardown. */
const ROUTE_ALREADY_GONE = 'InvalidRoute\\.NotFound|InvalidRouteTableID\\.NotFound|InvalidVpcPeeringConnectionID\\.NotFound';

export interface VpcPeeringProps {
  /** Names for this (the requesting) region's resources. */
  readonly naming: Naming;
  /** This region's VPC, the requester. */
  readonly vpc: ec2.IVpc;
  /** This VPC's CIDR block as configured (a literal, so the peer's routes are checkable at synth). */
  readonly vpcCidr: string;
  /** Route tables of this region's subnets; each gets a route to the peer. */
  readonly routeTableIds: string[];
  /** The accepter's region, where its stage deployed first and published its VPC to SSM. */
  readonly peerRegion: string;
  /** The accepter VPC's CIDR block (from config, so it is known at synth). */
  readonly peerVpcCidr: string;
  /** How many route tables the accepter published (one per subnet; known from its config). */
  readonly peerRouteTableCount: number;
}

/**
 * Cross-region VPC peering, created by the stage that deploys second (the stages cannot reference
 * each other). It reads the peer's VPC id and route tables from the peer region's SSM parameters,
 * requests the peering (same account, so CloudFormation accepts it without a peering role), adds
 * routes to the peer in this VPC, and adds the return routes in the peer's route tables through
 * EC2 calls in the peer region. Teardown removes those routes again.
 */
export class VpcPeering extends Construct {
  /** The peering connection id. */
  public readonly peeringConnectionId: string;

  constructor(scope: Construct, id: string, props: VpcPeeringProps) {
    super(scope, id);
    const account = Stack.of(this).account;

    const peerVpcId = new PeerParameter(this, 'PeerVpcId', { naming: props.naming, peerRegion: props.peerRegion, key: ParameterKey.vpcId }).value;
    const peerRouteTableIds = new PeerParameter(this, 'PeerRouteTableIds', {
      naming: props.naming,
      peerRegion: props.peerRegion,
      key: ParameterKey.routeTableIds,
    }).value;

    const peering = new ec2.CfnVPCPeeringConnection(this, 'Connection', {
      vpcId: props.vpc.vpcId,
      peerVpcId,
      peerRegion: props.peerRegion,
      peerOwnerId: account,
    });
    Tags.of(peering).add('Name', props.naming.name('vpc', Purpose.peering));
    this.peeringConnectionId = peering.ref;

    props.routeTableIds.forEach((routeTableId, index) => {
      new ec2.CfnRoute(this, `RouteToPeer${index}`, {
        routeTableId,
        destinationCidrBlock: props.peerVpcCidr,
        vpcPeeringConnectionId: peering.ref,
      });
    });

    // The return path lives in the peer region's route tables, which this stack cannot own.
    const ownCidr = props.vpcCidr;
    const callProps = AwsCallSupport.of(this).customResourceProps();
    for (let index = 0; index < props.peerRouteTableCount; index++) {
      const peerRouteTableId = Fn.select(index, Fn.split(',', peerRouteTableIds));
      const routeArn = Arn.format(
        { service: 'ec2', region: props.peerRegion, account, resource: 'route-table', resourceName: peerRouteTableId },
        Stack.of(this),
      );
      const route = {
        RouteTableId: peerRouteTableId,
        DestinationCidrBlock: ownCidr,
        VpcPeeringConnectionId: peering.ref,
      };
      new cr.AwsCustomResource(this, `RouteFromPeer${index}`, {
        resourceType: 'Custom::PeerRoute',
        ...callProps,
        onCreate: {
          service: 'EC2',
          action: 'createRoute',
          region: props.peerRegion,
          parameters: route,
          physicalResourceId: cr.PhysicalResourceId.of(`${props.peerRegion}:${peerRouteTableId}:${props.peerVpcCidr}`),
        },
        onUpdate: {
          service: 'EC2',
          action: 'replaceRoute',
          region: props.peerRegion,
          parameters: route,
          physicalResourceId: cr.PhysicalResourceId.of(`${props.peerRegion}:${peerRouteTableId}:${props.peerVpcCidr}`),
        },
        onDelete: {
          service: 'EC2',
          action: 'deleteRoute',
          region: props.peerRegion,
          parameters: { RouteTableId: peerRouteTableId, DestinationCidrBlock: ownCidr },
          ignoreErrorCodesMatching: ROUTE_ALREADY_GONE,
        },
        policy: cr.AwsCustomResourcePolicy.fromStatements([
          new iam.PolicyStatement({
            actions: ['ec2:CreateRoute', 'ec2:ReplaceRoute', 'ec2:DeleteRoute'],
            resources: [routeArn],
          }),
        ]),
      });
    }
  }
}
