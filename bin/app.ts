#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { loadConfig } from '../lib/core/config';
import { addComplianceChecks, findSynthesisErrors } from '../lib/core/compliance';
import { addDrStages, addPipeline, configOrExit } from './compose';

const app = new App();
const config = configOrExit(() => loadConfig(app.node));
if (config.deployment === 'pipeline') addPipeline(app, config);
else addDrStages(app, config);
addComplianceChecks(app);

const errors = findSynthesisErrors(app.synth());
if (errors.length > 0) {
  console.error(`Synthesis found ${errors.length} problem(s):\n${errors.map((line) => `  ${line}`).join('\n')}`);
  process.exit(1);
}
