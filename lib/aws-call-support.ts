import { Arn, ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeScopedWildcards } from './nag';
import { Naming, Purpose } from './naming';

const SINGLETON_ID = 'AwsCallSupport';

export interface AwsCallSupportProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** How long the provider's logs are kept. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * What every deploy-time AWS call (`AwsCustomResource`) in a stack shares: CDK runs them all in
 * one singleton function per stack, so its role and log group are set once here. The role has
 * no managed policy (each call adds its own scoped statements) and the log group is destroyed
 * with the stack, where CDK's defaults would retain it.
 */
export class AwsCallSupport extends Construct {
  /** The support of the stack that holds `scope`, created on first use. */
  public static of(scope: Construct, props: AwsCallSupportProps): AwsCallSupport {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(SINGLETON_ID);
    return existing instanceof AwsCallSupport ? existing : new AwsCallSupport(stack, SINGLETON_ID, props);
  }

  /** The provider function's role. */
  public readonly role: iam.IRole;
  /** The provider function's log group. */
  public readonly logGroup: logs.ILogGroup;

  private constructor(scope: Construct, id: string, props: AwsCallSupportProps) {
    super(scope, id);
    const logGroupName = `/aws/lambda/${props.naming.name('logGroup', Purpose.awsCalls)}`;
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'Role', {
      roleName: props.naming.name('role', Purpose.awsCalls),
      description: 'Deploy-time AWS calls of this stack (cross-region parameter reads, peer routes)',
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    // Built from the name (not the log group's Arn attribute) so the scope is checkable at synth.
    const logStreamsArn = Arn.format(
      { service: 'logs', resource: 'log-group', resourceName: `${logGroupName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
      Stack.of(this),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logStreamsArn],
      }),
    );
    acknowledgeScopedWildcards(role, [logStreamsArn], 'Log streams of this function\'s own log group; stream names are chosen by Lambda');
    this.role = role;
  }
}
