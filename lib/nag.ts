import { Aspects, CfnResource, IAspect, Stack, Token, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import * as iam from 'aws-cdk-lib/aws-iam';

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
        if (typeof action === 'string' && action.includes('*')) Validations.of(node).acknowledge({ id: `AwsSolutions-IAM5[Action::${action}]`, reason: this.reason });
      }
      for (const resource of [statement.Resource].flat()) {
        const rendered = renderAsNag(resource);
        if (rendered?.includes('*')) Validations.of(node).acknowledge({ id: `AwsSolutions-IAM5[Resource::${rendered}]`, reason: this.reason });
      }
    }
  }
}
