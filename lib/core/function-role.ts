import { Arn, ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeScopedWildcards } from './compliance';
import { Naming } from './naming';

export interface FunctionRoleProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The function's purpose: names the role and the function's log group. */
  readonly purpose: string;
  /** What the function does, for the role's description. */
  readonly description: string;
  /** Whether the function runs in a VPC (it then manages its network interfaces). @default false */
  readonly inVpc?: boolean;
  /** Whether the function sends X-Ray traces. @default false */
  readonly tracing?: boolean;
  /** The log group the function writes to. @default `/aws/lambda/{function name}` */
  readonly logGroupName?: string;
}

/**
 * A function's execution role with no AWS managed policy: it may write only to its own log group
 * (`/aws/lambda/{function name}` unless told otherwise) and, in a VPC, manage its network interfaces. Data access is
 * added by grants on the resources the function uses.
 */
export class FunctionRole extends Construct {
  /** The role. */
  public readonly role: iam.IRole;
  /** The function name the role's log permissions are scoped to. */
  public readonly functionName: string;

  constructor(scope: Construct, id: string, props: FunctionRoleProps) {
    super(scope, id);
    this.functionName = props.naming.name('function', props.purpose);
    const role = new iam.Role(this, 'Role', {
      roleName: props.naming.name('role', props.purpose),
      description: props.description,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    // Built from the name (not a log group's Arn attribute) so the scope is checkable at synth.
    const logGroupName = props.logGroupName ?? `/aws/lambda/${this.functionName}`;
    const logStreams = Arn.format(
      { service: 'logs', resource: 'log-group', resourceName: `${logGroupName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
      Stack.of(this),
    );
    role.addToPolicy(new iam.PolicyStatement({ sid: 'WriteOwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logStreams] }));
    acknowledgeScopedWildcards(role, [logStreams], "Log streams of this function's own log group; stream names are chosen by Lambda");
    const unscopedReasons: string[] = [];
    if (props.inVpc) {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ManageVpcNetworkInterfaces',
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          // These EC2 actions support no resource-level scoping for Lambda's use (the same
          // statement as AWSLambdaVPCAccessExecutionRole, without the managed policy).
          resources: ['*'],
        }),
      );
      unscopedReasons.push(
        'Lambda creates and deletes its VPC network interfaces with EC2 actions that take no resource-level scope (as AWSLambdaVPCAccessExecutionRole)',
      );
    }
    if (props.tracing) {
      role.addToPolicy(new iam.PolicyStatement({ sid: 'WriteTraces', actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] }));
      unscopedReasons.push('X-Ray trace writes support no resource-level permissions');
    }
    if (unscopedReasons.length > 0) {
      Validations.of(role).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: unscopedReasons.join('; ') });
    }
    this.role = role;
  }
}
