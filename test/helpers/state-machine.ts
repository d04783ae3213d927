import { randomUUID } from 'crypto';
import * as cloudwatchSdk from '@aws-sdk/client-cloudwatch';
import * as dynamodbSdk from '@aws-sdk/client-dynamodb';
import * as eventbridgeSdk from '@aws-sdk/client-eventbridge';
import * as secretsManagerSdk from '@aws-sdk/client-secrets-manager';
import * as sfnSdk from '@aws-sdk/client-sfn';
import * as snsSdk from '@aws-sdk/client-sns';
import * as sqsSdk from '@aws-sdk/client-sqs';
import { ExecutionError, ExecutionTimeoutError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';

/**
 * Runs Amazon States Language definitions locally with aws-local-stepfunctions, with every Task
 * state either answered by a test's handler or performed for real, through the AWS SDK v3,
 * against the emulator at AWS_ENDPOINT_URL (moto_server, see global-setup.ts). Errors are renamed
 * the way Step Functions names them, so a definition's Retry and Catch match locally exactly when
 * they would match in AWS.
 */

// ---------------------------------------------------------------------------------------------
// Node 20 support
// ---------------------------------------------------------------------------------------------

type WithResolvers = <T>() => { promise: Promise<T>; resolve: (value: T | PromiseLike<T>) => void; reject: (reason?: unknown) => void };

// aws-local-stepfunctions 3 races every Task against its TimeoutSeconds with Promise.withResolvers
// (ES2024, Node 22+); this machine and CI run Node 20, where every Task would die with a TypeError.
// Installed only when missing, so on Node 22+ the built-in is used.
if (typeof (Promise as unknown as { withResolvers?: WithResolvers }).withResolvers !== 'function') {
  const withResolvers: WithResolvers = <T>() => {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
  Object.defineProperty(Promise, 'withResolvers', { value: withResolvers, writable: true, configurable: true });
}

// ---------------------------------------------------------------------------------------------
// Definitions from CloudFormation templates
// ---------------------------------------------------------------------------------------------

/** CloudFormation pseudo parameters for {@link definitionFromTemplate}. */
export interface PseudoParameters {
  readonly region: string;
  readonly account: string;
  /** Default `aws`. */
  readonly partition?: string;
  /** Default `amazonaws.com` (`amazonaws.com.cn` in the aws-cn partition). */
  readonly urlSuffix?: string;
  /** For `AWS::StackName`; unresolved when absent. */
  readonly stackName?: string;
}

/** One state machine of a template, its definition parsed and every reference resolved. */
export interface TemplateStateMachine {
  readonly logicalId: string;
  /** `StateMachineName` when the template sets one, else the logical id. */
  readonly name: string;
  /** The Amazon States Language definition. */
  readonly definition: Record<string, unknown>;
}

/** How {@link stateMachineFromTemplate} picks one state machine out of several. */
export type StateMachineSelector = string | { readonly logicalIdPrefix?: string; readonly stateMachineName?: string };

const STATE_MACHINE_TYPE = 'AWS::StepFunctions::StateMachine';

function defaultPseudo(): PseudoParameters {
  return { region: process.env.AWS_REGION ?? 'us-east-1', account: '123456789012' };
}

/**
 * Every `AWS::StepFunctions::StateMachine` of a synthesized template (`Template.fromStack(stack)
 * .toJSON()` or a cdk.out `*.template.json`), with `DefinitionString` (or `Definition`) and
 * `DefinitionSubstitutions` resolved and the result parsed.
 *
 * Resolved: the pseudo parameters; `Ref` and `Fn::GetAtt` found in `substitutions` (keys
 * `LogicalId` for Ref and `LogicalId.Attribute` for GetAtt); a `Ref` to a template parameter with
 * a Default; `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::Sub`. `Fn::GetAtt [Fn, Arn]` of an
 * `AWS::Lambda::Function` not in `substitutions` becomes `arn:<partition>:lambda:<region>:
 * <account>:function:<LogicalId>`, which is what a test's handler is keyed on anyway.
 *
 * @throws Error naming every reference it could not resolve, with the substitution key to pass.
 */
export function definitionFromTemplate(
  template: Record<string, any>,
  substitutions: Record<string, string> = {},
  pseudo: PseudoParameters = defaultPseudo(),
): TemplateStateMachine[] {
  const machines = stateMachineResources(template);
  const failures: string[] = [];
  const resolved: TemplateStateMachine[] = [];
  for (const [logicalId, resource] of machines) {
    try {
      resolved.push(resolveStateMachine(template, logicalId, resource, substitutions, pseudo));
    } catch (error) {
      failures.push((error as Error).message);
    }
  }
  if (failures.length > 0) throw new Error(failures.join('\n\n'));
  return resolved;
}

/**
 * The one state machine of a template picked by logical-id prefix (a string selector, or
 * `{ logicalIdPrefix }`) or by its `StateMachineName` (`{ stateMachineName }`). Only the picked
 * machine is resolved, so references the others need do not have to be substituted.
 *
 * @throws Error when no machine or more than one matches, listing the candidates.
 */
export function stateMachineFromTemplate(
  template: Record<string, any>,
  selector: StateMachineSelector,
  substitutions: Record<string, string> = {},
  pseudo: PseudoParameters = defaultPseudo(),
): TemplateStateMachine {
  const { logicalIdPrefix, stateMachineName } = typeof selector === 'string' ? { logicalIdPrefix: selector, stateMachineName: undefined } : selector;
  const machines = stateMachineResources(template);
  const nameOf = (logicalId: string, resource: Record<string, any>): string => machineName(template, logicalId, resource, pseudo);
  const matches = machines.filter(
    ([logicalId, resource]) =>
      (logicalIdPrefix === undefined || logicalId.startsWith(logicalIdPrefix)) &&
      (stateMachineName === undefined || nameOf(logicalId, resource) === stateMachineName),
  );
  if (matches.length !== 1) {
    const candidates = machines.map(([logicalId, resource]) => `${logicalId} (name ${nameOf(logicalId, resource)})`).join(', ') || 'none';
    throw new Error(`${matches.length === 0 ? 'No' : 'More than one'} state machine matches ${JSON.stringify(selector)}; the template has: ${candidates}`);
  }
  const [[logicalId, resource]] = matches;
  return resolveStateMachine(template, logicalId, resource, substitutions, pseudo);
}

function stateMachineResources(template: Record<string, any>): [string, Record<string, any>][] {
  return Object.entries((template.Resources ?? {}) as Record<string, Record<string, any>>).filter(([, resource]) => resource.Type === STATE_MACHINE_TYPE);
}

function machineName(template: Record<string, any>, logicalId: string, resource: Record<string, any>, pseudo: PseudoParameters): string {
  const property = resource.Properties?.StateMachineName;
  if (property === undefined) return logicalId;
  const resolver = new IntrinsicResolver(template, {}, pseudo);
  const name = resolver.resolve(property);
  // An unresolvable name (say, a Ref to another stack's export) must not stop the pick by id.
  return resolver.missing.size === 0 && typeof name === 'string' ? name : logicalId;
}

function resolveStateMachine(
  template: Record<string, any>,
  logicalId: string,
  resource: Record<string, any>,
  substitutions: Record<string, string>,
  pseudo: PseudoParameters,
): TemplateStateMachine {
  const properties = (resource.Properties ?? {}) as Record<string, any>;
  const resolver = new IntrinsicResolver(template, substitutions, pseudo);
  let text: string;
  if (properties.DefinitionString !== undefined) {
    const resolved = resolver.resolve(properties.DefinitionString);
    text = typeof resolved === 'string' ? resolved : JSON.stringify(resolved);
  } else if (properties.Definition !== undefined) {
    text = JSON.stringify(resolver.resolve(properties.Definition));
  } else {
    throw new Error(`State machine ${logicalId} has neither DefinitionString nor Definition (DefinitionS3Location is not supported)`);
  }
  // CloudFormation replaces ${Key} for every key of DefinitionSubstitutions, after resolving the values.
  for (const [key, value] of Object.entries((properties.DefinitionSubstitutions ?? {}) as Record<string, unknown>)) {
    text = text.split(`\${${key}}`).join(String(resolver.resolve(value)));
  }
  const name = machineName(template, logicalId, resource, pseudo);
  if (resolver.missing.size > 0) {
    const lines = [...resolver.missing.values()].map((line) => `  ${line}`);
    throw new Error(
      `State machine ${logicalId} (${name}) has references definitionFromTemplate cannot resolve; pass them in \`substitutions\`:\n${lines.join('\n')}`,
    );
  }
  let definition: Record<string, unknown>;
  try {
    definition = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`State machine ${logicalId}: the resolved definition is not JSON (${(error as Error).message}): ${text.slice(0, 500)}`, { cause: error });
  }
  return { logicalId, name, definition };
}

/** Resolves CloudFormation intrinsics, recording (rather than stopping at) the ones it cannot. */
class IntrinsicResolver {
  /** Substitution key → a line telling the test author what it stands for. */
  readonly missing = new Map<string, string>();

  constructor(
    private readonly template: Record<string, any>,
    private readonly substitutions: Record<string, string>,
    private readonly pseudo: PseudoParameters,
  ) {}

  resolve(node: unknown): unknown {
    if (Array.isArray(node)) return node.map((item) => this.resolve(item));
    if (node === null || typeof node !== 'object') return node;
    const entries = Object.entries(node as Record<string, unknown>);
    if (entries.length === 1 && (entries[0][0] === 'Ref' || entries[0][0].startsWith('Fn::'))) {
      return this.intrinsic(entries[0][0], entries[0][1]);
    }
    return Object.fromEntries(entries.map(([key, value]) => [key, this.resolve(value)]));
  }

  private intrinsic(name: string, argument: unknown): unknown {
    switch (name) {
      case 'Ref':
        return this.ref(String(argument));
      case 'Fn::GetAtt': {
        const [logicalId, ...attribute] = Array.isArray(argument) ? argument.map(String) : String(argument).split('.');
        return this.getAtt(logicalId, attribute.join('.'));
      }
      case 'Fn::Join': {
        const [delimiter, list] = argument as [string, unknown];
        return (this.resolve(list) as unknown[]).map(String).join(delimiter);
      }
      case 'Fn::Select': {
        const [index, list] = argument as [unknown, unknown];
        return (this.resolve(list) as unknown[])[Number(this.resolve(index))];
      }
      case 'Fn::Split': {
        const [delimiter, source] = argument as [string, unknown];
        return String(this.resolve(source)).split(delimiter);
      }
      case 'Fn::Sub':
        return this.sub(argument);
      default:
        return this.unresolved(`${name} ${JSON.stringify(argument)}`, `${name} is not supported by definitionFromTemplate: ${JSON.stringify(argument)}`);
    }
  }

  private ref(logicalId: string): unknown {
    const pseudo = this.pseudoParameter(logicalId);
    if (pseudo !== undefined) return pseudo;
    if (logicalId in this.substitutions) return this.substitutions[logicalId];
    const parameter = this.template.Parameters?.[logicalId];
    if (parameter?.Default !== undefined) return parameter.Default;
    return this.unresolved(logicalId, `"${logicalId}": { Ref: ${logicalId} }${this.typeOf(logicalId)}`);
  }

  private getAtt(logicalId: string, attribute: string): unknown {
    const key = `${logicalId}.${attribute}`;
    if (key in this.substitutions) return this.substitutions[key];
    const { region, account, partition = 'aws' } = this.pseudo;
    if (attribute === 'Arn' && this.template.Resources?.[logicalId]?.Type === 'AWS::Lambda::Function') {
      return `arn:${partition}:lambda:${region}:${account}:function:${logicalId}`;
    }
    return this.unresolved(key, `"${key}": { Fn::GetAtt: [${logicalId}, ${attribute}] }${this.typeOf(logicalId)}`);
  }

  private sub(argument: unknown): string {
    const [text, variables] = Array.isArray(argument) ? (argument as [string, Record<string, unknown>]) : [String(argument), {}];
    const values = Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, this.resolve(value)]));
    return text.replace(/\$\{([^}]*)\}/g, (_whole, reference: string) => {
      if (reference.startsWith('!')) return `\${${reference.slice(1)}}`;
      if (reference in values) return String(values[reference]);
      const dot = reference.indexOf('.');
      if (dot > 0 && this.pseudoParameter(reference) === undefined) return String(this.getAtt(reference.slice(0, dot), reference.slice(dot + 1)));
      return String(this.ref(reference));
    });
  }

  private pseudoParameter(name: string): string | undefined {
    const { region, account, partition = 'aws', stackName } = this.pseudo;
    switch (name) {
      case 'AWS::Region':
        return region;
      case 'AWS::AccountId':
        return account;
      case 'AWS::Partition':
        return partition;
      case 'AWS::URLSuffix':
        return this.pseudo.urlSuffix ?? (partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com');
      case 'AWS::StackName':
        return stackName;
      default:
        return undefined;
    }
  }

  private typeOf(logicalId: string): string {
    const type = this.template.Resources?.[logicalId]?.Type;
    return type ? ` (${type})` : '';
  }

  private unresolved(key: string, description: string): string {
    this.missing.set(key, description);
    // A placeholder rather than a throw, so one run lists every missing reference.
    return `<unresolved ${key}>`;
  }
}

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

interface EmulatedService {
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
const EMULATED: Record<string, EmulatedService> = {
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
const OPTIMIZED: Record<string, { readonly service: string; readonly actions: readonly string[]; readonly prefix: string; readonly javaV1Service: string }> = {
  dynamodb: { service: 'dynamodb', actions: ['getItem', 'putItem', 'updateItem', 'deleteItem'], prefix: 'DynamoDB', javaV1Service: 'AmazonDynamoDBv2' },
  sns: { service: 'sns', actions: ['publish'], prefix: 'SNS', javaV1Service: 'AmazonSNS' },
  events: { service: 'eventbridge', actions: ['putEvents'], prefix: 'EventBridge', javaV1Service: 'AmazonEventBridge' },
};

/** The v1 base exception class for undeclared errors, e.g. `AmazonDynamoDBException`. */
function javaV1BaseException(prefix: string): string {
  return `Amazon${prefix}Exception`;
}

// ---------------------------------------------------------------------------------------------
// Running a definition
// ---------------------------------------------------------------------------------------------

/** A Task state's local implementation: receives the state's effective input (after InputPath and Parameters). */
export type TaskHandler = (input: any) => Promise<unknown> | unknown;

/** The Context Object a run starts with (`$$`); see {@link RunStateMachineOptions.context}. */
export interface ExecutionContext {
  Execution: { Id: string; Name: string; StartTime: string; Input: unknown; RoleArn: string; RedriveCount: number; [other: string]: unknown };
  StateMachine: { Id: string; Name: string; [other: string]: unknown };
  [other: string]: unknown;
}

/** Options of {@link runStateMachine}. */
export interface RunStateMachineOptions {
  /** Task overrides by state name (also inside Parallel and Map); a name that is no Task state is an error. */
  readonly handlers?: Record<string, TaskHandler>;
  /**
   * Faults around a Task by state name: the wrapper gets the Task's own implementation (the
   * handler, or the real call against moto) and decides what the state sees, e.g. performing the
   * call and then throwing `taskError('States.Timeout')` (a response lost after the write).
   */
  readonly wrappers?: Record<string, (perform: TaskHandler, input: any) => Promise<unknown>>;
  /** Milliseconds to wait in a Wait state instead of its Seconds/Timestamp (Wait states otherwise really wait). */
  readonly waitTimeOverrides?: Record<string, number>;
  /** Milliseconds (or one per retrier, -1 to keep) to pause before a retry, by state name. */
  readonly retryIntervalOverrides?: Record<string, number | number[]>;
  /**
   * Merged over the default Context Object: Execution.{Id, Name, StartTime, Input, RoleArn,
   * RedriveCount} and StateMachine.{Id, Name}, with ARNs in AWS_REGION and account 123456789012.
   * aws-local-stepfunctions always replaces Execution.Input and Execution.StartTime with its own.
   */
  readonly context?: { Execution?: Record<string, unknown>; StateMachine?: Record<string, unknown>; [other: string]: unknown };
  /** The state machine name in the default Context Object; default `StateMachine`. */
  readonly stateMachineName?: string;
  /** Perform AWS SDK and optimized integrations against moto when a Task has no handler; default true. */
  readonly awsSdk?: boolean;
}

type RunOptionsContext = NonNullable<NonNullable<Parameters<StateMachine['run']>[1]>['context']>;
type LocalEventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer Event> ? Event : never;

/** How an execution ended. */
export interface ExecutionResult {
  /** TIMED_OUT when the definition's top-level TimeoutSeconds elapsed (error States.Timeout). */
  readonly status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';
  readonly output?: unknown;
  readonly error?: { readonly name: string; readonly cause: string };
  /** Top-level states in the order entered; a retry does not re-enter a state (as in AWS). */
  readonly path: string[];
  /** aws-local-stepfunctions' event log, for what `path` leaves out (states inside Parallel and Map). */
  readonly events: LocalEventLog[];
}

/**
 * Something wrong with the test rather than the definition: a Task with nothing to run it, a call
 * moto cannot answer. Not catchable or retryable by the definition (aws-local-stepfunctions checks
 * these getters), so a `States.ALL` catcher cannot hide it; runStateMachine rethrows it.
 */
class HarnessError extends Error {
  get isCatchable(): boolean {
    return false;
  }

  get isRetryable(): boolean {
    return false;
  }
}

/**
 * Executes an Amazon States Language definition locally. Task states run, in this order: the
 * test's handler for that state name; else, when `awsSdk` is not false, the real call through
 * the AWS SDK v3 against moto for `arn:aws:states:::aws-sdk:<service>:<action>` (services:
 * {@link EMULATED_SERVICES}) and the optimized `dynamodb:getItem|putItem|updateItem|deleteItem`,
 * `sns:publish` and `events:putEvents`; anything else (Lambda, other services, `.sync`,
 * `.waitForTaskToken`) throws, naming the state, when the execution reaches it.
 *
 * SDK results are the response without `$metadata`, dates as ISO strings and binary as base64;
 * in aws-sdk:dynamodb results the attribute value types `BOOL` and `NULL` are `Bool` and `Nul`,
 * as Step Functions returns them. Optimized DynamoDB and SNS results carry
 * `SdkHttpMetadata.HttpStatusCode` and `SdkResponseMetadata.RequestId`. Failures are renamed as
 * Step Functions names them (see {@link awsSdkErrorName} and the sources on OPTIMIZED).
 *
 * A failed execution (a Fail state, an uncaught error) resolves with status FAILED and the error;
 * the promise rejects only for problems with the test itself.
 */
export async function runStateMachine(definition: Record<string, unknown>, input: unknown, options: RunStateMachineOptions = {}): Promise<ExecutionResult> {
  rejectUnsupportedFeatures(definition);
  const states = allStates(definition);
  checkOverrideNames(states, options);
  const context = executionContext(options, input);
  const handlers: Record<string, TaskHandler> = {};
  for (const [name, state] of states) {
    if (state.Type !== 'Task') continue;
    const perform = taskHandler(name, state, options, context);
    const wrapper = options.wrappers?.[name];
    handlers[name] = wrapper ? async (taskInput: unknown) => asJson(await wrapper(perform, taskInput)) : perform;
  }

  // checkArn off: every Task is overridden here, so a Resource is only the key that picks an
  // integration and is never called by the package; its validator's ARN pattern accepts only the
  // aws, aws-cn and aws-us-gov partitions and would reject a definition resolved for another.
  const machine = new StateMachine(definition as unknown as StateMachineDefinition, { validationOptions: { checkArn: false } });
  const execution = machine.run(input as Parameters<StateMachine['run']>[0], {
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      waitTimeOverrides: options.waitTimeOverrides,
      retryIntervalOverrides: options.retryIntervalOverrides,
    },
    context: context as RunOptionsContext,
  });
  const events: LocalEventLog[] = [];
  const collected = (async () => {
    for await (const event of execution.eventLogs) events.push(event);
  })();

  let outcome: Pick<ExecutionResult, 'status' | 'output' | 'error'>;
  try {
    outcome = { status: 'SUCCEEDED', output: await execution.result };
  } catch (error) {
    await collected;
    outcome = failure(error, definition, events);
  }
  await collected;
  return { ...outcome, path: topLevelPath(definition, events), events };
}

function failure(error: unknown, definition: Record<string, unknown>, events: LocalEventLog[]): Pick<ExecutionResult, 'status' | 'error'> {
  if (error instanceof ExecutionTimeoutError) return { status: 'TIMED_OUT', error: { name: 'States.Timeout', cause: '' } };
  if (!(error instanceof ExecutionError)) throw error;
  const cause = error.cause as Error;
  if (cause instanceof HarnessError) throw cause;
  let name = cause.name;
  let message = cause.message;
  // A Fail state without Error or Cause: the package reports placeholders where AWS reports none.
  const path = topLevelPath(definition, events);
  const last = (definition.States as Record<string, Record<string, unknown>>)[path[path.length - 1]];
  if (last?.Type === 'Fail' && cause.constructor.name === 'FailStateError') {
    if (last.Error === undefined && last.ErrorPath === undefined) name = '';
    if (last.Cause === undefined && last.CausePath === undefined) message = '';
  }
  return { status: 'FAILED', error: { name, cause: message } };
}

function topLevelPath(definition: Record<string, unknown>, events: LocalEventLog[]): string[] {
  // States inside Parallel and Map reach the root log too (Map's with an index, Parallel's
  // without), and asynchronously; state names are unique across a whole state machine, so the
  // top-level names pick the top-level entries.
  const topLevel = new Set(Object.keys(definition.States as Record<string, unknown>));
  return events
    .filter((event) => event.type === 'StateEntered' && event.index === undefined && topLevel.has(event.state.name))
    .map((event) => (event as { state: { name: string } }).state.name);
}

function executionContext(options: RunStateMachineOptions, input: unknown): ExecutionContext {
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const account = '123456789012';
  const { Execution, StateMachine: machine, ...rest } = options.context ?? {};
  // Names given in the context also go into the default ARNs, which embed them.
  const stateMachineName = String(machine?.Name ?? options.stateMachineName ?? 'StateMachine');
  const executionName = String(Execution?.Name ?? randomUUID());
  return {
    ...rest,
    Execution: {
      Id: `arn:aws:states:${region}:${account}:execution:${stateMachineName}:${executionName}`,
      Name: executionName,
      StartTime: new Date().toISOString(),
      Input: input,
      RoleArn: `arn:aws:iam::${account}:role/${stateMachineName}Role`,
      RedriveCount: 0,
      ...Execution,
    },
    StateMachine: { Id: `arn:aws:states:${region}:${account}:stateMachine:${stateMachineName}`, Name: stateMachineName, ...machine },
  };
}

type StateDefinition = Record<string, any>;

/** Every state by name, including those inside Parallel branches and Map processors. */
function allStates(definition: Record<string, unknown>): Map<string, StateDefinition> {
  const found = new Map<string, StateDefinition>();
  const visit = (machine: Record<string, any>): void => {
    for (const [name, state] of Object.entries((machine.States ?? {}) as Record<string, StateDefinition>)) {
      if (found.has(name) && JSON.stringify(found.get(name)) !== JSON.stringify(state)) {
        throw new Error(`State name ${name} is used twice; Step Functions requires unique state names and the handlers are keyed by name`);
      }
      found.set(name, state);
      for (const branch of state.Branches ?? []) visit(branch);
      if (state.Iterator) visit(state.Iterator);
      if (state.ItemProcessor) visit(state.ItemProcessor);
    }
  };
  visit(definition);
  return found;
}

/** Features aws-local-stepfunctions 3 would silently ignore, which would make a run lie. */
function rejectUnsupportedFeatures(definition: Record<string, unknown>): void {
  const problems: string[] = [];
  if (definition.QueryLanguage === 'JSONata') problems.push('QueryLanguage JSONata (the package evaluates JSONPath only)');
  const unsupported: Record<string, string> = {
    QueryLanguage: 'JSONata',
    Assign: 'workflow variables',
    Arguments: 'JSONata',
    Output: 'JSONata',
    Items: 'JSONata',
    ItemReader: 'distributed Map',
    ItemBatcher: 'distributed Map',
    ResultWriter: 'distributed Map',
  };
  for (const [name, state] of allStates(definition)) {
    for (const [field, feature] of Object.entries(unsupported)) {
      if (field in state && !(field === 'QueryLanguage' && state[field] === 'JSONPath')) problems.push(`state ${name}: ${field} (${feature})`);
    }
  }
  // aws-local-stepfunctions 3.0.0 evaluates a type test such as `"IsPresent": false` as
  // `false && ...`, so it never matches (AWS matches when the field is absent): a definition that
  // relies on one would take a different path here than in AWS. `Not` with `true` works in both.
  const falseTypeTests = new Set<string>();
  const visitRules = (rules: unknown): void => {
    for (const rule of [rules].flat() as Array<Record<string, unknown>>) {
      if (typeof rule !== 'object' || rule === null) continue;
      for (const [field, value] of Object.entries(rule)) {
        if (/^Is[A-Z]/.test(field) && value === false) falseTypeTests.add(`${field}: false`);
      }
      visitRules(rule.And ?? []);
      visitRules(rule.Or ?? []);
      if (rule.Not) visitRules(rule.Not);
    }
  };
  for (const [name, state] of allStates(definition)) {
    if (state.Type !== 'Choice') continue;
    const before = falseTypeTests.size;
    visitRules(state.Choices);
    if (falseTypeTests.size > before)
      problems.push(`state ${name}: ${[...falseTypeTests].join(', ')} (never matches in aws-local-stepfunctions 3.0.0; write Not with true)`);
  }
  if (problems.length > 0) throw new Error(`aws-local-stepfunctions would ignore or misread: ${problems.join('; ')}`);
}

function checkOverrideNames(states: Map<string, StateDefinition>, options: RunStateMachineOptions): void {
  const wrong: string[] = [];
  for (const name of Object.keys(options.handlers ?? {})) if (states.get(name)?.Type !== 'Task') wrong.push(`handlers.${name} (no Task state of that name)`);
  for (const name of Object.keys(options.wrappers ?? {})) if (states.get(name)?.Type !== 'Task') wrong.push(`wrappers.${name} (no Task state of that name)`);
  for (const name of Object.keys(options.waitTimeOverrides ?? {}))
    if (states.get(name)?.Type !== 'Wait') wrong.push(`waitTimeOverrides.${name} (no Wait state of that name)`);
  for (const name of Object.keys(options.retryIntervalOverrides ?? {}))
    if (!states.get(name)?.Retry) wrong.push(`retryIntervalOverrides.${name} (no state of that name with Retry)`);
  if (wrong.length > 0) throw new Error(`Overrides name no state of the definition: ${wrong.join(', ')}`);
}

/** JSON as Step Functions would carry it: Dates as ISO strings, binary as base64, no undefined. */
function asJson(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value, (_key, item: unknown) => (item instanceof Uint8Array ? Buffer.from(item).toString('base64') : item)));
}

interface ParsedResource {
  readonly kind: 'aws-sdk' | 'optimized' | 'lambda' | 'other';
  readonly service?: string;
  readonly action?: string;
  /** `.sync`, `.sync:2` or `.waitForTaskToken`. */
  readonly pattern?: string;
}

function parseResource(resource: string): ParsedResource {
  const sdk = /^arn:[^:]+:states:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)(\.[A-Za-z0-9:]+)?$/.exec(resource);
  if (sdk) return { kind: 'aws-sdk', service: sdk[1], action: sdk[2], pattern: sdk[3] };
  if (/^arn:[^:]+:lambda:/.test(resource) || /^arn:[^:]+:states:::lambda:invoke/.test(resource)) return { kind: 'lambda' };
  const optimized = /^arn:[^:]+:states:::([a-z0-9-]+):([A-Za-z0-9]+)(\.[A-Za-z0-9:]+)?$/.exec(resource);
  if (optimized && optimized[1] in OPTIMIZED) return { kind: 'optimized', service: optimized[1], action: optimized[2], pattern: optimized[3] };
  return { kind: 'other' };
}

function taskHandler(name: string, state: StateDefinition, options: RunStateMachineOptions, context: ExecutionContext): TaskHandler {
  const handler = options.handlers?.[name];
  if (handler) return async (input: unknown) => asJson(await handler(input));
  const resource = String(state.Resource);
  const parsed = parseResource(resource);
  const refuse =
    (why: string): TaskHandler =>
    () => {
      throw new HarnessError(`Task state ${name} (${resource}) ${why}`);
    };
  if (parsed.kind === 'lambda') return refuse('invokes a Lambda function: give it a handler in options.handlers');
  if (parsed.kind === 'other') return refuse('is an integration the harness does not perform: give it a handler in options.handlers');
  if (options.awsSdk === false) return refuse('has no handler and options.awsSdk is false');
  if (parsed.pattern) return refuse(`uses the ${parsed.pattern} integration pattern, which the harness cannot emulate: give it a handler`);
  if (parsed.kind === 'aws-sdk') {
    const service = EMULATED[parsed.service!];
    if (!service) return refuse(`calls ${parsed.service}, which moto is not used for here (emulated: ${EMULATED_SERVICES.join(', ')}): give it a handler`);
    return (input: unknown) => callAwsSdk(name, resource, service, parsed.action!, input);
  }
  const optimized = OPTIMIZED[parsed.service!];
  if (!optimized.actions.includes(parsed.action!))
    return refuse(`is not an optimized ${parsed.service} action Step Functions offers (${optimized.actions.join(', ')})`);
  return (input: unknown) => callOptimized(name, resource, parsed.service!, parsed.action!, input, context);
}

async function send(stateName: string, resource: string, service: EmulatedService, action: string, input: unknown): Promise<Record<string, unknown>> {
  const commandName = `${action.charAt(0).toUpperCase()}${action.slice(1)}Command`;
  const Command = service.module[commandName] as (new (input: unknown) => unknown) | undefined;
  if (typeof Command !== 'function') throw new HarnessError(`Task state ${stateName} (${resource}): the AWS SDK for JavaScript has no ${commandName}`);
  return service.client().send(new Command(input));
}

interface SdkError extends Error {
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

/** Service errors pass on to be renamed; anything else is the harness's or moto's problem. */
function serviceError(stateName: string, resource: string, error: unknown): SdkError {
  const sdkError = error as SdkError;
  if (typeof sdkError?.$fault !== 'string') {
    throw new HarnessError(`Task state ${stateName} (${resource}): the call did not reach an answer from moto: ${(error as Error)?.message ?? error}`, {
      cause: error,
    });
  }
  // moto answers 5xx for what it does not implement; in AWS these would be rare server errors.
  if (sdkError.$fault === 'server') {
    throw new HarnessError(
      `Task state ${stateName} (${resource}): moto answered ${sdkError.$metadata?.httpStatusCode} ${sdkError.name}: ${sdkError.message} (probably not emulated)`,
      { cause: error },
    );
  }
  return sdkError;
}

/** DynamoDB attribute value types the SDK for Java 2.x names differently (members BOOL and NUL). */
const JAVA_ATTRIBUTE_TYPES: Record<string, string> = { BOOL: 'Bool', NULL: 'Nul' };
const API_ATTRIBUTE_TYPES: Record<string, string> = { Bool: 'BOOL', Nul: 'NULL' };
const ATTRIBUTE_TYPES = new Set(['S', 'N', 'B', 'SS', 'NS', 'BS', 'M', 'L', 'BOOL', 'NULL', 'Bool', 'Nul']);

/**
 * Renames attribute value types in aws-sdk:dynamodb data. Step Functions returns `{ "Bool": true }`
 * where the API has `{ "BOOL": true }` (reported in aws/aws-sdk-js#4294 and aws/aws-sdk-js-v3#5423),
 * as the SDK for Java 2.x names the member; `NULL` is that SDK's member `NUL`, hence `Nul`.
 */
function renameAttributeTypes(value: unknown, names: Record<string, string>): unknown {
  if (Array.isArray(value)) return value.map((item) => renameAttributeTypes(item, names));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  const isAttributeValue = entries.length === 1 && ATTRIBUTE_TYPES.has(entries[0][0]);
  return Object.fromEntries(entries.map(([key, item]) => [isAttributeValue ? (names[key] ?? key) : key, renameAttributeTypes(item, names)]));
}

async function callAwsSdk(stateName: string, resource: string, service: EmulatedService, action: string, input: unknown): Promise<unknown> {
  const dynamodb = service.serviceId === 'DynamoDB';
  let response: Record<string, unknown>;
  try {
    response = await send(stateName, resource, service, action, dynamodb ? renameAttributeTypes(input, API_ATTRIBUTE_TYPES) : input);
  } catch (error) {
    const sdkError = serviceError(stateName, resource, error);
    const modeled = sdkError.constructor !== service.baseException;
    const name = awsSdkErrorName(service.serviceId, modeled ? sdkError.name : undefined);
    const serviceName = name.slice(0, name.indexOf('.'));
    throw taskError(
      name,
      `${sdkError.message} (Service: ${serviceName}, Status Code: ${sdkError.$metadata?.httpStatusCode}, Request ID: ${sdkError.$metadata?.requestId})`,
    );
  }
  const { $metadata: _metadata, ...output } = response;
  const json = asJson(output);
  return dynamodb ? renameAttributeTypes(json, JAVA_ATTRIBUTE_TYPES) : json;
}

async function callOptimized(
  stateName: string,
  resource: string,
  integration: string,
  action: string,
  input: unknown,
  context: ExecutionContext,
): Promise<unknown> {
  const { service: serviceKey, prefix, javaV1Service } = OPTIMIZED[integration];
  const service = EMULATED[serviceKey];
  const parameters = { ...(input as Record<string, any>) };
  if (integration === 'sns' && parameters.Message !== undefined && typeof parameters.Message !== 'string') {
    parameters.Message = JSON.stringify(parameters.Message);
  }
  if (integration === 'events') {
    parameters.Entries = ((parameters.Entries ?? []) as Record<string, any>[]).map((entry) => ({
      ...entry,
      Detail: entry.Detail !== null && typeof entry.Detail === 'object' ? JSON.stringify(entry.Detail) : entry.Detail,
      Resources: [...(entry.Resources ?? []), context.StateMachine.Id, context.Execution.Id],
    }));
  }
  let response: Record<string, unknown>;
  try {
    response = await send(stateName, resource, service, action, parameters);
  } catch (error) {
    const sdkError = serviceError(stateName, resource, error);
    const modeled = sdkError.constructor !== service.baseException;
    const exception = !modeled ? javaV1BaseException(prefix) : sdkError.name.endsWith('Exception') ? sdkError.name : `${sdkError.name}Exception`;
    const details = [
      `Service: ${javaV1Service}`,
      `Status Code: ${sdkError.$metadata?.httpStatusCode}`,
      `Error Code: ${sdkError.name}`,
      `Request ID: ${sdkError.$metadata?.requestId}`,
      'Proxy: null',
    ];
    throw taskError(`${prefix}.${exception}`, `${sdkError.message} (${details.join('; ')})`);
  }
  const { $metadata: metadata, ...output } = response as Record<string, unknown> & { $metadata?: { httpStatusCode?: number; requestId?: string } };
  if (integration === 'events' && Number(output.FailedEntryCount ?? 0) > 0) throw taskError('EventBridge.FailedEntry', JSON.stringify(asJson(output)));
  if (integration === 'events') return asJson(output);
  // The SDK for Java 1.x result objects these integrations return carry the HTTP metadata.
  return asJson({ ...output, SdkHttpMetadata: { HttpStatusCode: metadata?.httpStatusCode }, SdkResponseMetadata: { RequestId: metadata?.requestId } });
}
