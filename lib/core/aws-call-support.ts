import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { FunctionRole } from './function-role';
import { Naming, Purpose } from './naming';

const SINGLETON_ID = 'AwsCallSupport';

export interface AwsCallSupportProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** How long the provider's logs are kept (config's `logRetentionDays`). */
  readonly logRetention: logs.RetentionDays;
}

/**
 * What every deploy-time AWS call (`AwsCustomResource`) in a stack shares: CDK runs them all in
 * one singleton function per stack, so its role and log group are set once here. The role has
 * no managed policy and writes only its own logs (each call adds its own scoped statements) and the log group is destroyed
 * with the stack, where CDK's defaults would retain it.
 */
export class AwsCallSupport extends Construct {
  /** Sets up the support of `stack`; the stage does this first, with config's log retention. */
  public static create(stack: Stack, props: AwsCallSupportProps): AwsCallSupport {
    return new AwsCallSupport(stack, SINGLETON_ID, props);
  }

  /** The support of the stack that holds `scope`. */
  public static of(scope: Construct): AwsCallSupport {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(SINGLETON_ID);
    if (!(existing instanceof AwsCallSupport)) {
      throw new Error(`${scope.node.path}: stack ${stack.stackName} has no AwsCallSupport; create it first with AwsCallSupport.create(stack, ...)`);
    }
    return existing;
  }

  /** What every `AwsCustomResource` of the stack passes: the shared role and log group, the bundled SDK. */
  public customResourceProps(): Pick<cr.AwsCustomResourceProps, 'role' | 'logGroup' | 'installLatestAwsSdk'> {
    return { role: this.role, logGroup: this.logGroup, installLatestAwsSdk: false };
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
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const { role } = new FunctionRole(this, 'Role', {
      naming: props.naming,
      purpose: Purpose.awsCalls,
      description: 'Deploy-time AWS calls of this stack (cross-region parameter reads, peer routes)',
      logGroupName,
    });
    this.role = role;
  }
}
