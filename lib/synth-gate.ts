import * as fs from 'fs';
import * as path from 'path';
import type * as cxapi from 'aws-cdk-lib/cx-api';

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
  const assemblies = [assembly, ...nestedAssemblies(assembly)];
  for (const stack of assemblies.flatMap((each) => each.stacks)) {
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

function nestedAssemblies(assembly: cxapi.CloudAssembly): cxapi.CloudAssembly[] {
  return assembly.nestedAssemblies.flatMap((nested) => [nested.nestedAssembly, ...nestedAssemblies(nested.nestedAssembly)]);
}
