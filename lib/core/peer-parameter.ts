import { Arn, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { AwsCallSupport } from './aws-call-support';
import { Naming, ParameterKeyName } from './naming';

export interface PeerParameterProps {
  /** Names for this region's resources (the parameter path is the same in both regions). */
  readonly naming: Naming;
  /** The region whose stage published the parameter. */
  readonly peerRegion: string;
  /** Which parameter to read. */
  readonly key: ParameterKeyName;
}

/**
 * A value the peer region's stage published to SSM, read at deploy time in the peer region. This
 * is how the stage that deploys second gets non-deterministic values (a VPC id, a key ARN) of the
 * first without a cross-stage reference. The value is read on create and on any update of this
 * resource; if the peer replaces the resource behind it, redeploy this stage.
 */
export class PeerParameter extends Construct {
  /** The parameter's value, as a deploy-time token. */
  public readonly value: string;

  constructor(scope: Construct, id: string, props: PeerParameterProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const parameterName = props.naming.parameterName(props.key);
    const parameterArn = peerParameterArn(stack, props.naming, props.peerRegion, props.key);
    const call: cr.AwsSdkCall = {
      service: 'SSM',
      action: 'getParameter',
      region: props.peerRegion,
      parameters: { Name: parameterName },
      physicalResourceId: cr.PhysicalResourceId.of(`${props.peerRegion}:${parameterName}`),
    };
    const reader = new cr.AwsCustomResource(this, 'Reader', {
      resourceType: 'Custom::PeerParameter',
      ...AwsCallSupport.of(this).customResourceProps(),
      onCreate: call,
      onUpdate: call,
      policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: [parameterArn] })]),
    });
    this.value = reader.getResponseField('Parameter.Value');
  }
}

/** The ARN of a parameter the peer region publishes, for a policy that reads it (at deploy or run time). */
export function peerParameterArn(stack: Stack, naming: Naming, peerRegion: string, key: ParameterKeyName): string {
  return Arn.format({ service: 'ssm', region: peerRegion, resource: 'parameter', resourceName: naming.parameterName(key).slice(1) }, stack);
}

/** A statement that lets a function read one of the peer's parameters at run time (the peer may be down: read when needed). */
export function readPeerParameterStatement(stack: Stack, naming: Naming, peerRegion: string, key: ParameterKeyName): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid: 'ReadPeerParameter', actions: ['ssm:GetParameter'], resources: [peerParameterArn(stack, naming, peerRegion, key)] });
}
