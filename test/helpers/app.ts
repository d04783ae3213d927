import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as cxapi from 'aws-cdk-lib/cx-api';
import { AppConfig, parseConfig } from '../../lib/core/config';
import { addDrStages, DrDeployment } from '../../bin/compose';
import { addComplianceChecks } from '../../lib/core/compliance';
import { Naming } from '../../lib/core/naming';

const CDK_JSON = path.join(__dirname, '..', '..', 'cdk.json');

/** The feature flags and defaults of cdk.json, so tests synthesize what `cdk synth` does. */
export function cdkJsonContext(): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(CDK_JSON, 'utf8')).context as Record<string, unknown>;
}

/** A fresh App with cdk.json's context, writing to its own temporary directory. */
export function newApp(context: Record<string, unknown> = {}): App {
  return new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-test-')), context: { ...cdkJsonContext(), ...context } });
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

/** Builds and synthesizes the whole app (both stages, cdk-nag on) as `bin/app.ts` does. */
export function synthDeployment(overrides: Record<string, unknown> = {}): SynthesizedDeployment {
  const app = newApp();
  const config = parseConfig(overrides);
  const deployment = addDrStages(app, config);
  addComplianceChecks(app);
  const assembly = app.synth();
  const templates = new Map<string, Record<string, any>>();
  const collect = (each: cxapi.CloudAssembly): void => {
    for (const stack of each.stacks) templates.set(stack.id, stack.template);
    for (const nested of each.nestedAssemblies) collect(nested.nestedAssembly);
  };
  collect(assembly);
  return { config, deployment, assembly, templates, template: (stack) => Template.fromStack(stack) };
}

/** Naming for the default config in a region, to state expected names in assertions. */
export function namingFor(config: AppConfig, region: string): Naming {
  return new Naming({ appName: config.appName, environmentSuffix: config.environmentSuffix, account: config.account, region });
}
