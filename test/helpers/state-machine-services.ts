import * as cloudwatchSdk from '@aws-sdk/client-cloudwatch';
import * as dynamodbSdk from '@aws-sdk/client-dynamodb';
import * as eventbridgeSdk from '@aws-sdk/client-eventbridge';
import * as secretsManagerSdk from '@aws-sdk/client-secrets-manager';
import * as sfnSdk from '@aws-sdk/client-sfn';
import * as snsSdk from '@aws-sdk/client-sns';
import * as sqsSdk from '@aws-sdk/client-sqs';

/**
 * What the local state machine runner performs for real against moto_server, and how Step
 * Functions names the errors of each integration, so a definition's Retry and Catch match
 * locally exactly when they would in AWS.
 */

// ---------------------------------------------------------------------------------------------
// Error names
// ---------------------------------------------------------------------------------------------

/**
 * An error with the name Step Functions gives it: what a handler throws to make a Task fail
 * with, say, `Rds.GlobalClusterNotFoundException`. aws-local-stepfunctions matches `ErrorEquals`
 * against the error's `name` and puts its `message` in a catcher's `Cause`.
 */
export function taskError(name: string, cause = ''): Error {
  const error = new Error(cause);
  error.name = name;
  return error;
}

// The AWS SDK for Java 2.x's word splitting (CodegenNamingUtils.splitOnWordBoundaries), which
// Step Functions' SDK integrations inherit in their service and error names.
function splitOnWordBoundaries(value: string): string[] {
  let result = value.replace(/[^A-Za-z0-9]+/g, ' ');
  result = result.replace(/([^a-z]{2,})v([0-9]+)/g, '$1 v$2 ').replace(/([^A-Z]{2,})V([0-9]+)/g, '$1 V$2 ');
  result = result.split(/(?<=[a-z])(?=[A-Z](?:[a-zA-Z]|[0-9]))/).join(' ');
  result = result.replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2');
  result = result.replace(/([0-9])([a-zA-Z])/g, '$1 $2');
  return result.replace(/ +/g, ' ').trim().split(' ');
}

function javaPascalCase(value: string): string {
  return splitOnWordBoundaries(value)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1).toLowerCase())
    .join('');
}

/** The SDK for Java 2.x client name of a service id: `DynamoDB` → `DynamoDb`, `SFN` → `Sfn`. */
function javaServiceName(serviceId: string): string {
  return javaPascalCase(serviceId)
    .replace(/^Amazon/, '')
    .replace(/^Aws/, '')
    .replace(/Service$/, '');
}

/** The SDK for Java 2.x exception class of an error shape (DefaultNamingStrategy.getExceptionName). */
function javaExceptionName(errorShape: string): string {
  if (errorShape.endsWith('Fault')) return `${javaPascalCase(errorShape.slice(0, -'Fault'.length))}Exception`;
  if (errorShape.endsWith('Exception')) return javaPascalCase(errorShape);
  return `${javaPascalCase(errorShape)}Exception`;
}

/**
 * The `Error` Step Functions reports when an AWS SDK integration (`arn:aws:states:::aws-sdk:…`)
 * fails with a modeled error: `<Service>.<Exception>`, both PascalCase and named as the AWS SDK
 * for Java 2.x names them. `awsSdkErrorName('DynamoDB', 'ConditionalCheckFailedException')` is
 * `DynamoDb.ConditionalCheckFailedException`; `awsSdkErrorName('RDS', 'GlobalClusterNotFoundFault')`
 * is `Rds.GlobalClusterNotFoundException` ("Fault" becomes "Exception", "DB" becomes "Db").
 *
 * Sources:
 * - AWS Step Functions Developer Guide, "Learning to use AWS service SDK integrations in Step
 *   Functions" (https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html):
 *   the Error is `ServiceName.ErrorName`, both Pascal case, with the `Exception` suffix even where
 *   the service's API reference lacks it (`AcmPca.ResourceNotFoundException`,
 *   `S3.BucketAlreadyExistsException`).
 * - Executions recorded against AWS in LocalStack's tests
 *   (tests/aws/services/stepfunctions/v2/error_handling/test_aws_sdk.snapshot.json):
 *   `S3.NoSuchBucketException`, and an error the service model does not declare (a
 *   ValidationException) reported as the service's base exception, `DynamoDb.DynamoDbException`,
 *   `SecretsManager.SecretsManagerException`; causes end
 *   `(Service: DynamoDb, Status Code: 400, Request ID: …)`. Those are SDK for Java 2.x class names,
 *   whose naming (aws-sdk-java-v2 codegen DefaultNamingStrategy) this function follows.
 *
 * @param serviceId the service model's `serviceId` (`DynamoDB`, `RDS`, `Secrets Manager`).
 * @param errorShape the error shape as the SDK for JavaScript v3 names it (its error's `name`);
 *   omit for an error the model does not declare.
 */
export function awsSdkErrorName(serviceId: string, errorShape?: string): string {
  const service = javaServiceName(serviceId);
  return `${service}.${errorShape === undefined ? `${service}Exception` : javaExceptionName(errorShape)}`;
}

// ---------------------------------------------------------------------------------------------
// Services emulated by moto
// ---------------------------------------------------------------------------------------------

interface SdkClient {
  send(command: unknown): Promise<Record<string, unknown>>;
}

export interface EmulatedService {
  /** The service model's serviceId, from which the Step Functions error prefix derives. */
  readonly serviceId: string;
  readonly module: Record<string, unknown>;
  readonly client: () => SdkClient;
  /** The SDK for JavaScript v3 class of errors its model does not declare. */
  readonly baseException: abstract new (...args: never[]) => Error;
}

// One client per service and test file. maxAttempts 1: the definition's Retry, not the SDK's own
// retries, is what a test exercises, and moto's answers are deterministic anyway.
const clients = new Map<string, SdkClient>();
function cachedClient(key: string, create: () => unknown): () => SdkClient {
  return () => {
    if (!clients.has(key)) clients.set(key, create() as SdkClient);
    return clients.get(key)!;
  };
}

/** aws-sdk integration service names (as in the Resource ARN) that moto emulates. */
export const EMULATED: Record<string, EmulatedService> = {
  dynamodb: {
    serviceId: 'DynamoDB',
    module: dynamodbSdk,
    client: cachedClient('dynamodb', () => new dynamodbSdk.DynamoDBClient({ maxAttempts: 1 })),
    baseException: dynamodbSdk.DynamoDBServiceException,
  },
  sns: {
    serviceId: 'SNS',
    module: snsSdk,
    client: cachedClient('sns', () => new snsSdk.SNSClient({ maxAttempts: 1 })),
    baseException: snsSdk.SNSServiceException,
  },
  eventbridge: {
    serviceId: 'EventBridge',
    module: eventbridgeSdk,
    client: cachedClient('eventbridge', () => new eventbridgeSdk.EventBridgeClient({ maxAttempts: 1 })),
    baseException: eventbridgeSdk.EventBridgeServiceException,
  },
  cloudwatch: {
    serviceId: 'CloudWatch',
    module: cloudwatchSdk,
    client: cachedClient('cloudwatch', () => new cloudwatchSdk.CloudWatchClient({ maxAttempts: 1 })),
    baseException: cloudwatchSdk.CloudWatchServiceException,
  },
  sfn: {
    serviceId: 'SFN',
    module: sfnSdk,
    client: cachedClient('sfn', () => new sfnSdk.SFNClient({ maxAttempts: 1 })),
    baseException: sfnSdk.SFNServiceException,
  },
  sqs: {
    serviceId: 'SQS',
    module: sqsSdk,
    client: cachedClient('sqs', () => new sqsSdk.SQSClient({ maxAttempts: 1 })),
    baseException: sqsSdk.SQSServiceException,
  },
  secretsmanager: {
    serviceId: 'Secrets Manager',
    module: secretsManagerSdk,
    client: cachedClient('secretsmanager', () => new secretsManagerSdk.SecretsManagerClient({ maxAttempts: 1 })),
    baseException: secretsManagerSdk.SecretsManagerServiceException,
  },
};

/** The services `arn:aws:states:::aws-sdk:<service>:<action>` Tasks are performed for, against moto. */
export const EMULATED_SERVICES: readonly string[] = Object.keys(EMULATED);

/**
 * The optimized integrations the harness performs. Their errors keep the older naming of the AWS
 * SDK for Java 1.x, which these integrations still use: an upper-case prefix, the error code with
 * `Exception` appended when missing, the SDK's `Amazon…Exception` for undeclared errors, and
 * causes in the 1.x format.
 *
 * Sources:
 * - DynamoDB: AWS Step Functions Developer Guide, "Call DynamoDB APIs with Step Functions",
 *   section "Exception prefix differences" (https://docs.aws.amazon.com/step-functions/latest/dg/connect-ddb.html):
 *   the AWS SDK integration's prefix is `DynamoDb`, the optimized integration's `DynamoDB`.
 *   LocalStack's recording against AWS (test_task_service_dynamodb.snapshot.json) shows
 *   `DynamoDB.ResourceNotFoundException`, an undeclared ValidationException as
 *   `DynamoDB.AmazonDynamoDBException`, and the cause format used below.
 * - EventBridge: "Add EventBridge events with Step Functions"
 *   (https://docs.aws.amazon.com/step-functions/latest/dg/connect-eventbridge.html): a non-zero
 *   FailedEntryCount fails the Task with `EventBridge.FailedEntry`, and the execution and state
 *   machine ARNs are appended to each entry's Resources.
 * - SNS: the `SNS.` prefix and the stringified Message follow LocalStack's implementation
 *   (state_task_service_sns.py); `SNS.AmazonSNSException` for an undeclared error is by analogy
 *   with DynamoDB, not verified.
 */
export const OPTIMIZED: Record<
  string,
  { readonly service: string; readonly actions: readonly string[]; readonly prefix: string; readonly javaV1Service: string }
> = {
  dynamodb: { service: 'dynamodb', actions: ['getItem', 'putItem', 'updateItem', 'deleteItem'], prefix: 'DynamoDB', javaV1Service: 'AmazonDynamoDBv2' },
  sns: { service: 'sns', actions: ['publish'], prefix: 'SNS', javaV1Service: 'AmazonSNS' },
  events: { service: 'eventbridge', actions: ['putEvents'], prefix: 'EventBridge', javaV1Service: 'AmazonEventBridge' },
};

/** The v1 base exception class for undeclared errors, e.g. `AmazonDynamoDBException`. */
export function javaV1BaseException(prefix: string): string {
  return `Amazon${prefix}Exception`;
}
