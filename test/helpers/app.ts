import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as cxapi from 'aws-cdk-lib/cx-api';
import { AppConfig, parseConfig } from '../../lib/core/config';
import { addDrStages, addPipeline, DrDeployment } from '../../bin/compose';
import type { PipelineStack } from '../../pipeline/pipeline-stack';
import { addComplianceChecks, assemblyStacks } from '../../lib/core/compliance';
import { Naming } from '../../lib/core/naming';
import { THREE_ACCOUNT_LAYOUT } from '../../integ/integ-config';

const CDK_JSON = path.join(__dirname, '..', '..', 'cdk.json');

/** The feature flags and defaults of cdk.json, so tests synthesize what `cdk synth` does. */
export function cdkJsonContext(): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(CDK_JSON, 'utf8')).context as Record<string, unknown>;
}

/**
 * CDK's context key naming the stacks whose assets are bundled (`cdk synth <stack>` sets it to the
 * stacks selected); an empty list bundles none. The templates are the same apart from the asset
 * hashes: a template test does not need the functions' code, and esbuild costs about 20 s of every
 * whole-app synthesis on two cores. The bundles themselves are tested by test/lambda/bundles.test.ts
 * and by test/cli.test.ts, which runs the README's `cdk synth` and bundles everything.
 */
const BUNDLING_STACKS = 'aws:cdk:bundling-stacks';

/**
 * A fresh App with cdk.json's context, writing to its own temporary directory. Assets are not
 * bundled unless the context given names stacks under `aws:cdk:bundling-stacks`.
 */
export function newApp(context: Record<string, unknown> = {}): App {
  return new App({
    outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-test-')),
    context: { ...cdkJsonContext(), [BUNDLING_STACKS]: [], ...context },
  });
}

export interface SynthesizedDeployment {
  readonly config: AppConfig;
  readonly deployment: DrDeployment;
  readonly assembly: cxapi.CloudAssembly;
  /** Every synthesized template by stack artifact id, across nested stage assemblies. */
  readonly templates: Map<string, Record<string, any>>;
  /** Template of a stack, for fine-grained assertions. */
  template(stack: Stack): Template;
}

/** Every stack's assets bundled, as `cdk synth` does: for a test of the deployment packages themselves. */
export const BUNDLE_ALL = { [BUNDLING_STACKS]: ['**'] };

/**
 * Builds and synthesizes the whole app (both stages, cdk-nag on) as `bin/app.ts` does, without
 * bundling the functions unless `context` is BUNDLE_ALL.
 */
export function synthDeployment(overrides: Record<string, unknown> = {}, context: Record<string, unknown> = {}): SynthesizedDeployment {
  const app = newApp(context);
  const config = parseConfig(overrides);
  const deployment = addDrStages(app, config);
  addComplianceChecks(app);
  const assembly = app.synth();
  return { config, deployment, assembly, templates: templatesOf(assembly), template: (stack) => Template.fromStack(stack) };
}

/** The three-account layout (integ/integ-config.ts): the integration snapshot's and the tests'. */
export const THREE_ACCOUNTS = THREE_ACCOUNT_LAYOUT;

export interface SynthesizedPipeline {
  readonly config: AppConfig;
  readonly pipeline: PipelineStack;
  readonly assembly: cxapi.CloudAssembly;
  /** Every synthesized template by stack artifact id, across nested stage assemblies. */
  readonly templates: Map<string, Record<string, any>>;
}

/** Builds and synthesizes the pipeline (its support stack and four stages, cdk-nag on) as `bin/app.ts` does. */
export function synthPipeline(overrides: Record<string, unknown> = {}): SynthesizedPipeline {
  const app = newApp();
  const config = parseConfig({ deployment: 'pipeline', ...overrides });
  const pipeline = addPipeline(app, config);
  addComplianceChecks(app);
  const assembly = app.synth();
  return { config, pipeline, assembly, templates: templatesOf(assembly) };
}

/** Every template of an assembly by stack artifact id, across nested stage assemblies. */
export function templatesOf(assembly: cxapi.CloudAssembly): Map<string, Record<string, any>> {
  return new Map(assemblyStacks(assembly).map((stack) => [stack.id, stack.template as Record<string, any>]));
}

/** Naming for the default config in a region, to state expected names in assertions. */
export function namingFor(config: AppConfig, region: string): Naming {
  return new Naming({ appName: config.appName, environmentSuffix: config.environmentSuffix, account: config.account, region });
}
