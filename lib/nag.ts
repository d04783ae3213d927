import { Stack, Token, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 finding for each wildcard resource of a deliberately
 * scoped statement (a parameter prefix, a table's indexes, a log group's streams). cdk-nag 3
 * names each finding by the resolved resource, so the ids are computed from the same values the
 * policy uses and a change of scope shows up as a new, unacknowledged finding.
 */
export function acknowledgeScopedWildcards(scope: IConstruct, resources: string[], reason: string): void {
  const stack = Stack.of(scope);
  for (const resource of resources) {
    const resolved = stack.resolve(resource);
    if (typeof resolved !== 'string' || Token.isUnresolved(resolved)) {
      throw new Error(`acknowledgeScopedWildcards: '${resource}' does not resolve to a literal ARN at synth`);
    }
    if (!resolved.includes('*')) continue;
    Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resolved}]`, reason });
  }
}
