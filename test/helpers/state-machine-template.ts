/**
 * State machine definitions read from synthesized CloudFormation templates, every intrinsic
 * resolved (or recorded where it cannot be), for test/helpers/state-machine.ts to run.
 */

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
