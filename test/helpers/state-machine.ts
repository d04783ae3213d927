import { randomUUID } from 'crypto';
import { EMULATED, EMULATED_SERVICES, EmulatedService, OPTIMIZED, awsSdkErrorName, javaV1BaseException, taskError } from './state-machine-services';
import { ExecutionError, ExecutionTimeoutError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';

export { awsSdkErrorName, taskError } from './state-machine-services';

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
