import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';

export interface HandlerProviderProps {
  /** The function that handles the custom resource's events (a HandlerFunction's). */
  readonly onEventHandler: lambda.IFunction;
  /** The provider framework function's name (from the naming helper). */
  readonly functionName: string;
  /** Retention of the provider framework function's logs (config's `logRetentionDays`). */
  readonly logRetention: logs.RetentionDays;
  /** What the handled function does, for the acknowledgment's reason ("the migration function"). */
  readonly handles: string;
}

/**
 * The CDK provider framework in front of one of this project's handler functions: its own log
 * group (`<id>Logs`, destroyed with the stack), and the two cdk-nag findings the framework always
 * raises acknowledged with their reasons.
 */
export function handlerProvider(scope: Construct, id: string, props: HandlerProviderProps): cr.Provider {
  const provider = new cr.Provider(scope, id, {
    onEventHandler: props.onEventHandler,
    providerFunctionName: props.functionName,
    logGroup: new logs.LogGroup(scope, `${id}Logs`, {
      logGroupName: `/aws/lambda/${props.functionName}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    }),
  });
  const functionLogicalId = Stack.of(scope).getLogicalId(props.onEventHandler.node.defaultChild as lambda.CfnFunction);
  Validations.of(provider).acknowledge(
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'The CDK provider framework function only writes its own logs with this AWS managed policy; it holds no data access',
    },
    {
      id: `AwsSolutions-IAM5[Resource::<${functionLogicalId}.Arn>:*]`,
      reason: `The provider framework may invoke any version of ${props.handles}, and only that function`,
    },
  );
  return provider;
}
