#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { ConfigError, loadConfig } from '../lib/core/config';
import { addComplianceChecks, findSynthesisErrors } from '../lib/core/compliance';
import { addDrStages, addPipeline } from './compose';

const app = new App();
try {
  const config = loadConfig(app.node);
  if (config.deployment === 'pipeline') addPipeline(app, config);
  else addDrStages(app, config);
} catch (error) {
  if (error instanceof ConfigError) {
    // One `key: rule` line per problem, without a stack trace: this is the user's input, not a bug.
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
addComplianceChecks(app);

const errors = findSynthesisErrors(app.synth());
if (errors.length > 0) {
  console.error(`Synthesis found ${errors.length} problem(s):\n${errors.map((line) => `  ${line}`).join('\n')}`);
  process.exit(1);
}
