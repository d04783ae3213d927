import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { AppConfig } from '../core/config';
import { Naming, Purpose } from '../core/naming';

/** Subnet group names; other constructs select subnets by these. */
export const SubnetGroup = {
  /** Lambda ENIs and interface endpoints. */
  app: 'app',
  /** Aurora instances. */
  data: 'data',
} as const;

/**
 * The AWS APIs the functions in this VPC call, each reached through an interface endpoint so no
 * NAT gateway (and no internet path) is needed:
 * Secrets Manager (database credentials), SSM (parameters), SQS (order queue), SNS (alerts),
 * CloudWatch (metrics) and Logs, Step Functions (the prober starts the failover), KMS (decrypting
 * secrets and queue messages), EventBridge (cross-region events), STS (the SDK's credential
 * chain), RDS (global cluster status for health and readiness). DynamoDB and S3 use free gateway
 * endpoints.
 */
export const DEFAULT_INTERFACE_ENDPOINTS: Readonly<Record<string, ec2.InterfaceVpcEndpointAwsService>> = {
  SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  Ssm: ec2.InterfaceVpcEndpointAwsService.SSM,
  Sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
  Sns: ec2.InterfaceVpcEndpointAwsService.SNS,
  CloudWatch: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
  Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  StepFunctions: ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
  Kms: ec2.InterfaceVpcEndpointAwsService.KMS,
  EventBridge: ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE,
  Sts: ec2.InterfaceVpcEndpointAwsService.STS,
  Rds: ec2.InterfaceVpcEndpointAwsService.RDS,
};

/** How many route tables a Network has for a number of zones: one per subnet, two subnets per zone. */
export function routeTableCount(availabilityZoneCount: number): number {
  return availabilityZoneCount * Object.keys(SubnetGroup).length;
}

/** The config keys the network reads (lib/core/config.ts documents and defaults each). */
export type NetworkConfig = Pick<AppConfig, 'appSubnetCidrMask' | 'dataSubnetCidrMask' | 'flowLogRetentionDays'>;

export interface NetworkProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The VPC's CIDR block; it must not overlap the peer region's. */
  readonly cidr: string;
  /** The subnets' prefix lengths and the flow logs' retention. */
  readonly config: NetworkConfig;
  /** Interface endpoints to create, by construct id. @default DEFAULT_INTERFACE_ENDPOINTS */
  readonly interfaceEndpoints?: Readonly<Record<string, ec2.InterfaceVpcEndpointAwsService>>;
}

/**
 * One region's network: a VPC with private isolated subnets only (no internet gateway, no NAT),
 * one app and one data subnet per availability zone of the stack, VPC endpoints for every AWS
 * API the functions call, and flow logs of all traffic to CloudWatch Logs.
 */
export class Network extends Construct {
  /** The VPC. */
  public readonly vpc: ec2.IVpc;
  /** Route tables of every subnet, in a stable order; the peer region adds its routes to these. */
  public readonly routeTableIds: string[];
  /** The flow log group. */
  public readonly flowLogGroup: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);

    const vpc = new ec2.Vpc(this, 'Vpc', {
      vpcName: props.naming.name('vpc', Purpose.network),
      ipAddresses: ec2.IpAddresses.cidr(props.cidr),
      // All zones of the stack (the stack's availabilityZones come from config).
      maxAzs: 99,
      natGateways: 0,
      createInternetGateway: false,
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [
        { name: SubnetGroup.app, subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: props.config.appSubnetCidrMask },
        { name: SubnetGroup.data, subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: props.config.dataSubnetCidrMask },
      ],
      gatewayEndpoints: {
        DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
    });

    // One security group for all endpoints: HTTPS from this VPC only. The CIDR is the literal from
    // config (not the VPC's CidrBlock attribute) so the rule can be checked at synth.
    const endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc,
      securityGroupName: props.naming.name('securityGroup', Purpose.endpoints),
      description: 'HTTPS from this VPC to the AWS API interface endpoints',
      allowAllOutbound: false,
    });
    endpointSecurityGroup.addIngressRule(ec2.Peer.ipv4(props.cidr), ec2.Port.HTTPS, 'AWS API calls from functions in this VPC');
    for (const [endpointId, service] of Object.entries(props.interfaceEndpoints ?? DEFAULT_INTERFACE_ENDPOINTS)) {
      vpc.addInterfaceEndpoint(endpointId, {
        service,
        subnets: { subnetGroupName: SubnetGroup.app },
        privateDnsEnabled: true,
        securityGroups: [endpointSecurityGroup],
        open: false,
      });
    }

    const flowLogGroup = new logs.LogGroup(this, 'FlowLogGroup', {
      logGroupName: `/vpc/${props.naming.name('logGroup', Purpose.flowLogs)}`,
      retention: props.config.flowLogRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    this.vpc = vpc;
    this.flowLogGroup = flowLogGroup;
    this.routeTableIds = vpc.isolatedSubnets.map((subnet) => subnet.routeTable.routeTableId);
  }
}
