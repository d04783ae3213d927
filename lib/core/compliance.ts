import * as fs from 'fs';
import * as path from 'path';
import {
  Annotations,
  App,
  AspectPriority,
  Aspects,
  CfnDeletionPolicy,
  CfnResource,
  IAspect,
  IPolicyValidationContext,
  PolicyValidationPluginReport,
  Stack,
  Stage,
  TagManager,
  Tags,
  Token,
  Validations,
} from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as cxapi from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks, WriteNagSuppressionsToCloudFormationAspect } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/**
 * Compliance, in one place: the guardrails every stack gets (tags, the destroyability guard,
 * provider logging), the cdk-nag AwsSolutions pack on every stage with the helpers that
 * acknowledge deliberate findings, and the gate that fails a synth on any error annotation or
 * failed validation.
 */

// ---- Guardrails (applied by each DrStage) ----

/** The four tags every taggable resource carries. */
export const TagKey = {
  environment: 'Environment',
  region: 'Region',
  application: 'Application',
  managedBy: 'ManagedBy',
} as const;

/** Value of the `ManagedBy` tag. */
export const MANAGED_BY = 'aws-cdk';

/**
 * Properties that switch on deletion protection, by CloudFormation resource type. Each one, when
 * true, makes `cdk destroy` fail; this project must be destroyable, so the guard refuses them.
 */
const DELETION_PROTECTION_PROPERTIES: Readonly<Record<string, readonly string[]>> = {
  'AWS::RDS::DBCluster': ['deletionProtection'],
  'AWS::RDS::DBInstance': ['deletionProtection'],
  'AWS::RDS::GlobalCluster': ['deletionProtection'],
  'AWS::DynamoDB::Table': ['deletionProtectionEnabled'],
  'AWS::Logs::LogGroup': ['deletionProtectionEnabled'],
  'AWS::Cognito::UserPool': ['deletionProtection'],
  'AWS::Neptune::DBCluster': ['deletionProtection'],
  'AWS::DocDB::DBCluster': ['deletionProtection'],
};

/**
 * Types whose DeletionPolicy defaults to Snapshot when the template leaves it out: they must state
 * Delete explicitly, or teardown leaves snapshots behind.
 */
const SNAPSHOT_BY_DEFAULT = new Set([
  'AWS::RDS::DBCluster',
  'AWS::RDS::DBInstance',
  'AWS::EC2::Volume',
  'AWS::Neptune::DBCluster',
  'AWS::DocDB::DBCluster',
  'AWS::Redshift::Cluster',
  'AWS::ElastiCache::CacheCluster',
  'AWS::ElastiCache::ReplicationGroup',
]);

const FORBIDDEN_POLICIES = new Set<CfnDeletionPolicy>([CfnDeletionPolicy.RETAIN, CfnDeletionPolicy.SNAPSHOT, CfnDeletionPolicy.RETAIN_EXCEPT_ON_CREATE]);

/**
 * An L1 resource's declared properties, with tokens resolved (a TableV2's replicas, for one, are
 * rendered lazily). CfnResource keeps them behind a protected getter.
 */
function declaredProperties(resource: CfnResource): Record<string, unknown> {
  const properties = (resource as unknown as { cfnProperties: Record<string, unknown> }).cfnProperties ?? {};
  return Stack.of(resource).resolve(properties) as Record<string, unknown>;
}

/**
 * Fails synthesis on anything that would survive `cdk destroy`: a Retain or Snapshot deletion
 * or update-replace policy, or deletion protection (including on a global table's replicas).
 * Errors are annotations, so `cdk synth` stops and names the construct path.
 */
export class DestroyableGuard implements IAspect {
  /** Resources config asked to keep on teardown, with the reason (`permitRetain`). */
  private static readonly permitted = new WeakMap<IConstruct, string>();

  /**
   * Lets one resource keep a Retain policy because config asked for it by name (for example
   * `keepBackupsOnTeardown`): the reason says which key. Nothing else may be retained.
   */
  public static permitRetain(resource: CfnResource, reason: string): void {
    DestroyableGuard.permitted.set(resource, reason);
  }

  public visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node)) return;
    const { deletionPolicy, updateReplacePolicy } = node.cfnOptions;
    if (DestroyableGuard.permitted.has(node) && deletionPolicy === CfnDeletionPolicy.RETAIN) return;
    if (deletionPolicy && FORBIDDEN_POLICIES.has(deletionPolicy)) {
      Annotations.of(node).addError(
        `DestroyableGuard: ${node.cfnResourceType} has DeletionPolicy ${deletionPolicy}; set removalPolicy: RemovalPolicy.DESTROY so the stack can be torn down`,
      );
    }
    if (updateReplacePolicy && FORBIDDEN_POLICIES.has(updateReplacePolicy)) {
      Annotations.of(node).addError(
        `DestroyableGuard: ${node.cfnResourceType} has UpdateReplacePolicy ${updateReplacePolicy}; set removalPolicy: RemovalPolicy.DESTROY`,
      );
    }
    if (!deletionPolicy && SNAPSHOT_BY_DEFAULT.has(node.cfnResourceType)) {
      Annotations.of(node).addError(`DestroyableGuard: ${node.cfnResourceType} defaults to DeletionPolicy Snapshot; apply RemovalPolicy.DESTROY explicitly`);
    }
    const properties = declaredProperties(node);
    for (const property of DELETION_PROTECTION_PROPERTIES[node.cfnResourceType] ?? []) {
      if (properties[property] === true) {
        Annotations.of(node).addError(`DestroyableGuard: ${node.cfnResourceType} has ${property} on; turn it off so the stack can be torn down`);
      }
    }
    if (node.cfnResourceType === 'AWS::DynamoDB::GlobalTable') {
      const replicas = Array.isArray(properties.replicas) ? (properties.replicas as Array<Record<string, unknown>>) : [];
      if (replicas.some((replica) => replica.deletionProtectionEnabled === true)) {
        Annotations.of(node).addError('DestroyableGuard: a global table replica has deletionProtectionEnabled on; turn it off');
      }
    }
  }
}

/**
 * Resource types that CDK's own providers create as plain CfnResources (the custom-resource
 * provider framework), which `Tags.of()` cannot reach; all take tags as a Key/Value list.
 */
const RAW_TAGGABLE_TYPES = new Set(['AWS::IAM::Role', 'AWS::Lambda::Function']);

/** Tags the plain CfnResources of taggable types that the standard tag aspect skips. */
export class RawResourceTagger implements IAspect {
  constructor(private readonly tags: Readonly<Record<string, string>>) {}

  public visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node) || TagManager.isTaggable(node) || !RAW_TAGGABLE_TYPES.has(node.cfnResourceType)) return;
    node.addPropertyOverride(
      'Tags',
      Object.entries(this.tags).map(([key, value]) => ({ Key: key, Value: value })),
    );
  }
}

/**
 * Points the functions CDK's own providers create (default security group restriction, bucket
 * auto-delete) at a log group the stack owns. Left alone they log to a group Lambda creates on
 * first use, which outlives the stack and keeps logs forever.
 */
export class ProviderLogging implements IAspect {
  constructor(private readonly logGroup: logs.ILogGroup) {}

  public visit(node: IConstruct): void {
    // Only plain CfnResources: the L1 CfnFunction of every L2 function here already has its own group.
    if (!CfnResource.isCfnResource(node) || node.cfnResourceType !== 'AWS::Lambda::Function' || node instanceof lambda.CfnFunction) return;
    if (declaredProperties(node).LoggingConfig !== undefined) return;
    node.addPropertyOverride('LoggingConfig', { LogGroup: this.logGroup.logGroupName, LogFormat: 'JSON' });
    node.addResourceDependency(this.logGroup.node.defaultChild as CfnResource);
  }
}

export interface GuardrailProps {
  /** Value of the `Environment` tag (the environment suffix). */
  readonly environment: string;
  /** Value of the `Region` tag. */
  readonly region: string;
  /** Value of the `Application` tag. */
  readonly application: string;
}

/**
 * Types CDK's L1 classes can tag but CloudFormation's published schema (which cfn-lint checks,
 * and deploys validate) does not accept `Tags` for.
 */
const UNTAGGABLE_IN_TEMPLATES = ['AWS::CloudWatch::Dashboard'];

/** Tags every taggable resource below `scope` and refuses anything that cannot be destroyed. */
export function applyGuardrails(scope: IConstruct, props: GuardrailProps): void {
  const tags: Record<string, string> = {
    [TagKey.application]: props.application,
    [TagKey.environment]: props.environment,
    [TagKey.managedBy]: MANAGED_BY,
    [TagKey.region]: props.region,
  };
  for (const [key, value] of Object.entries(tags)) {
    Tags.of(scope).add(key, value, { excludeResourceTypes: UNTAGGABLE_IN_TEMPLATES });
  }
  Aspects.of(scope).add(new RawResourceTagger(tags));
  Aspects.of(scope).add(new DestroyableGuard());
  recordAcknowledgments(scope);
}

// ---- cdk-nag ----

/**
 * The cdk-nag AwsSolutions pack, checking one stage. A plugin registered on the App is never given
 * the stacks inside a Stage (its report stays empty), so each stage registers its own; and since
 * cdk-nag's own entry point walks the whole app from the root, this one walks only its stage, so
 * each stack is checked once.
 */
export class StageAwsSolutionsChecks extends AwsSolutionsChecks {
  constructor(private readonly scope: IConstruct) {
    // The acknowledgments are written to the templates by recordAcknowledgments, not here.
    super(scope);
  }

  public override validate(_context: IPolicyValidationContext): PolicyValidationPluginReport {
    return this.validateScope(this.scope);
  }
}

/**
 * Registers the cdk-nag AwsSolutions pack on every stage of the app, however deep (the pipeline's
 * stages live in the pipeline stack), and on each stack directly under the app (the pipeline and
 * its support stack), each checked once.
 */
export function addComplianceChecks(app: App): void {
  for (const node of app.node.findAll()) {
    if (Stage.isStage(node) && node !== app) Validations.of(node).addPlugins(new StageAwsSolutionsChecks(node));
  }
  for (const child of app.node.children) {
    if (!Stack.isStack(child)) continue;
    Validations.of(app).addPlugins(new StageAwsSolutionsChecks(child));
    recordAcknowledgments(child);
  }
}

/**
 * Writes every acknowledgment below `scope` into its resources' template metadata
 * (`cdk_nag.rules_to_suppress`), where the template-level check reads them back. As the last aspect
 * (read-only priority), so acknowledgments other aspects add are recorded too; and from the stage's
 * constructor (applyGuardrails), since CDK Pipelines synthesizes a stage as soon as it is added to
 * the pipeline, before the app registers its checks.
 */
export function recordAcknowledgments(scope: IConstruct): void {
  Aspects.of(scope).add(new WriteNagSuppressionsToCloudFormationAspect(), { priority: AspectPriority.READONLY });
}

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 finding for each wildcard resource of a deliberately
 * scoped statement (a parameter prefix, a table's indexes, a log group's streams). cdk-nag 3
 * names each finding by the resolved resource, so the ids are computed from the same values the
 * policy uses and a change of scope shows up as a new, unacknowledged finding.
 */
export function acknowledgeScopedWildcards(scope: IConstruct, resources: string[], reason: string): void {
  const stack = Stack.of(scope);
  for (const resource of resources) {
    const rendered = renderAsNag(stack.resolve(resource));
    if (rendered === undefined) {
      throw new Error(`acknowledgeScopedWildcards: '${resource}' resolves to neither a literal ARN nor one joined from references`);
    }
    if (!rendered.includes('*')) continue;
    Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${rendered}]`, reason });
  }
}

/**
 * A resolved value as cdk-nag prints it in a finding: references become `<LogicalId>` and
 * attributes `<LogicalId.Attribute>`, joined with the literal parts.
 */
function renderAsNag(value: unknown): string | undefined {
  if (typeof value === 'string') return Token.isUnresolved(value) ? undefined : value;
  if (typeof value !== 'object' || value === null) return undefined;
  const intrinsic = value as Record<string, unknown>;
  // cdk-nag prints these pseudo parameters by value.
  if (intrinsic.Ref === 'AWS::Partition') return 'aws';
  if (intrinsic.Ref === 'AWS::URLSuffix') return 'amazonaws.com';
  if (typeof intrinsic.Ref === 'string') return `<${intrinsic.Ref}>`;
  const getAtt = intrinsic['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt.length === 2) return `<${getAtt[0]}.${getAtt[1]}>`;
  const join = intrinsic['Fn::Join'];
  if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
    const parts = (join[1] as unknown[]).map(renderAsNag);
    return parts.some((part) => part === undefined) ? undefined : parts.join(join[0]);
  }
  return undefined;
}

/**
 * Acknowledges every AwsSolutions-IAM5 finding of the IAM policies below `scope`, with one reason.
 * For roles a library generates and scopes itself (CDK Pipelines' build, asset and self-mutation
 * roles), whose wildcards are its own log streams, report groups, artifact objects and bootstrap
 * roles: cdk-nag 3 names each finding by the resolved action or resource, so the ids are
 * computed the way it renders them. Never for this project's own roles.
 */
export function acknowledgeGeneratedWildcards(scope: IConstruct, reason: string): void {
  Aspects.of(scope).add(new GeneratedWildcardAcknowledger(reason));
}

class GeneratedWildcardAcknowledger implements IAspect {
  constructor(private readonly reason: string) {}

  public visit(node: IConstruct): void {
    if (!(node instanceof iam.CfnPolicy) && !(CfnResource.isCfnResource(node) && node.cfnResourceType === 'AWS::IAM::Policy')) return;
    const document = Stack.of(node).resolve((node as iam.CfnPolicy).policyDocument) as { Statement?: Array<Record<string, unknown>> } | undefined;
    for (const statement of document?.Statement ?? []) {
      for (const action of [statement.Action].flat()) {
        if (typeof action === 'string' && action.includes('*'))
          Validations.of(node).acknowledge({ id: `AwsSolutions-IAM5[Action::${action}]`, reason: this.reason });
      }
      for (const resource of [statement.Resource].flat()) {
        const rendered = renderAsNag(resource);
        if (rendered?.includes('*')) Validations.of(node).acknowledge({ id: `AwsSolutions-IAM5[Resource::${rendered}]`, reason: this.reason });
      }
    }
  }
}

// ---- The synth gate ----

/** The file the CDK writes policy-validation results (cdk-nag's findings among them) to. */
const VALIDATION_REPORT_FILE = 'validation-report.json';

interface ValidationReport {
  readonly pluginReports: Array<{
    readonly pluginName: string;
    readonly conclusion: string;
    readonly violations: Array<{
      readonly ruleName: string;
      readonly description: string;
      readonly severity?: string;
      readonly violatingConstructs: Array<{ readonly constructPath: string }>;
    }>;
  }>;
}

/**
 * Every problem that must stop a synth: error annotations on any stack (the destroyability guard
 * and CDK's own errors) and failed validation plugins (cdk-nag). The CDK CLI checks these only for
 * the stacks it selected, and `cdk synth` with no argument selects no stack inside a Stage, so
 * the app checks its whole assembly itself.
 */
export function findSynthesisErrors(assembly: cxapi.CloudAssembly): string[] {
  const errors: string[] = [];
  for (const stack of assemblyStacks(assembly)) {
    for (const message of stack.messages) {
      if (message.level === 'error') {
        errors.push(`${message.id}: ${String(message.entry.data)}`);
      }
    }
  }
  const reportPath = path.join(assembly.directory, VALIDATION_REPORT_FILE);
  if (fs.existsSync(reportPath)) {
    const report = JSON.parse(fs.readFileSync(reportPath, 'utf8')) as ValidationReport;
    for (const plugin of report.pluginReports) {
      if (plugin.conclusion !== 'failure') continue;
      for (const violation of plugin.violations) {
        for (const construct of violation.violatingConstructs) {
          errors.push(`${construct.constructPath}: ${violation.ruleName} (${plugin.pluginName}): ${violation.description}`);
        }
      }
    }
  }
  return [...new Set(errors)];
}

/** Every stack of an assembly and of its nested (stage) assemblies, in that order. */
export function assemblyStacks(assembly: cxapi.CloudAssembly): cxapi.CloudFormationStackArtifact[] {
  return [assembly, ...nestedAssemblies(assembly)].flatMap((each) => each.stacks);
}

function nestedAssemblies(assembly: cxapi.CloudAssembly): cxapi.CloudAssembly[] {
  return assembly.nestedAssemblies.flatMap((nested) => [nested.nestedAssembly, ...nestedAssemblies(nested.nestedAssembly)]);
}
