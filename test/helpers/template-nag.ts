import * as fs from 'fs';
import { App, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import * as cfninc from 'aws-cdk-lib/cloudformation-include';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type * as cxapi from 'aws-cdk-lib/cx-api';
import { assemblyStacks } from '../../lib/core/compliance';
import { matchTemplateResource, TEMPLATE_ACKNOWLEDGMENTS, UNENCRYPTED_BY_DESIGN } from '../../lib/core/template-acknowledgments';

/**
 * cdk-nag's AwsSolutions pack over synthesized templates rather than the construct tree. Each
 * template is loaded into a fresh stack with CfnInclude, which rebuilds every resource as its typed
 * L1 class: so the resources CDK's own providers add as plain CfnResources (which the in-app pack
 * skips, its rules testing `instanceof CfnRole` and the like) are checked too.
 */

/** One unacknowledged finding: the rule (with its finding detail) and the resource's logical id. */
export interface TemplateFinding {
  readonly template: string;
  readonly logicalId: string;
  readonly rule: string;
}

interface NagMetadata {
  readonly rules_to_suppress?: Array<{ readonly id: string; readonly reason: string }>;
}

/** The included resource of each logical id, with the template's own resource description. */
function includedResources(include: cfninc.CfnInclude, template: Record<string, any>): Array<[string, CfnResource, Record<string, any>]> {
  return Object.entries<Record<string, any>>(template.Resources ?? {}).map(([logicalId, resource]) => [logicalId, include.getResource(logicalId), resource]);
}

/**
 * Re-acknowledges what the template records: cdk-nag 3 reads acknowledgments only from construct
 * metadata (`Validations.of(...).acknowledge`), never from a resource's `Metadata.cdk_nag`, which
 * the in-app pack writes for the audit trail. So the included resources get them back from there,
 * then the template-level acknowledgments (lib/core/compliance.ts) by type and logical id.
 */
function acknowledge(include: cfninc.CfnInclude, template: Record<string, any>): void {
  for (const [logicalId, construct, resource] of includedResources(include, template)) {
    const recorded = (resource.Metadata?.cdk_nag as NagMetadata | undefined)?.rules_to_suppress ?? [];
    for (const { id, reason } of recorded) Validations.of(construct).acknowledge({ id, reason });
    for (const { id, reason } of matchTemplateResource(TEMPLATE_ACKNOWLEDGMENTS, resource.Type, logicalId)) {
      Validations.of(construct).acknowledge({ id, reason });
    }
  }
}

/** The logical id of a resource from its construct path inside the include. */
function logicalIdOf(constructPath: string, include: IConstruct): string {
  return constructPath.slice(include.node.path.length + 1).split('/')[0];
}

/**
 * Runs the AwsSolutions pack over each template file (by name) and returns every finding not
 * acknowledged, in-app or at template level.
 */
export function nagTemplates(templateFiles: ReadonlyMap<string, string>): TemplateFinding[] {
  const findings: TemplateFinding[] = [];
  for (const [name, templateFile] of templateFiles) {
    const template = JSON.parse(fs.readFileSync(templateFile, 'utf8')) as Record<string, any>;
    const stack = new Stack(new App(), 'Included');
    const include = new cfninc.CfnInclude(stack, 'Template', { templateFile });
    acknowledge(include, template);
    const report = new AwsSolutionsChecks().validateScope(include);
    for (const violation of report.violations) {
      for (const resource of violation.violatingResources) {
        findings.push({ template: name, logicalId: logicalIdOf(resource.constructPath ?? '', include), rule: violation.ruleName });
      }
    }
  }
  return findings;
}

/** Whether a template resource is encrypted with a KMS key: a log group's `KmsKeyId`, a bucket's KMS default encryption. */
function kmsEncrypted(resource: Record<string, any>): boolean {
  if (resource.Type === 'AWS::Logs::LogGroup') return resource.Properties?.KmsKeyId !== undefined;
  const rules = (resource.Properties?.BucketEncryption?.ServerSideEncryptionConfiguration ?? []) as Array<Record<string, any>>;
  return rules.some((rule) => String(rule.ServerSideEncryptionByDefault?.SSEAlgorithm).startsWith('aws:kms'));
}

/**
 * The log groups and buckets of a template that are not encrypted with a KMS key and not listed in
 * UNENCRYPTED_BY_DESIGN, by logical id.
 */
export function unencryptedResources(template: Record<string, any>): string[] {
  return Object.entries<Record<string, any>>(template.Resources ?? {})
    .filter(([, resource]) => ['AWS::Logs::LogGroup', 'AWS::S3::Bucket'].includes(resource.Type))
    .filter(([logicalId, resource]) => !kmsEncrypted(resource) && matchTemplateResource(UNENCRYPTED_BY_DESIGN, resource.Type, logicalId).length === 0)
    .map(([logicalId]) => logicalId);
}

/** Every stack template of an assembly and its nested (stage) assemblies, by stack artifact id. */
export function templateFilesOf(assembly: cxapi.CloudAssembly): Map<string, string> {
  return new Map(assemblyStacks(assembly).map((stack) => [stack.id, stack.templateFullPath]));
}
