import { Annotations, Aspects, CfnDeletionPolicy, CfnResource, IAspect, Stack, TagManager, Tags } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';

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
const SNAPSHOT_BY_DEFAULT = new Set(['AWS::RDS::DBCluster', 'AWS::RDS::DBInstance', 'AWS::EC2::Volume', 'AWS::Neptune::DBCluster', 'AWS::DocDB::DBCluster', 'AWS::Redshift::Cluster', 'AWS::ElastiCache::CacheCluster', 'AWS::ElastiCache::ReplicationGroup']);

const FORBIDDEN_POLICIES = new Set<CfnDeletionPolicy>([
  CfnDeletionPolicy.RETAIN,
  CfnDeletionPolicy.SNAPSHOT,
  CfnDeletionPolicy.RETAIN_EXCEPT_ON_CREATE,
]);

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
  public visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node)) return;
    const { deletionPolicy, updateReplacePolicy } = node.cfnOptions;
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
      Annotations.of(node).addError(
        `DestroyableGuard: ${node.cfnResourceType} defaults to DeletionPolicy Snapshot; apply RemovalPolicy.DESTROY explicitly`,
      );
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
}
