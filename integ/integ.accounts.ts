#!/usr/bin/env node
/*
 * Integration test of the three-account layout (integ-runner, @aws-cdk/integ-tests-alpha): the
 * delivery pipeline and its support stack, deployed into the delivery account, with everything it
 * deploys from there: the test environment's two stages in the test account (its drill role
 * among them), the backup account's vaults, production's two stages in its account, each
 * environment's zone delegated from the parent zone.
 *
 * Offline (the README's test command), test/integ/integ-snapshot.test.ts synthesizes this app and
 * compares it with the checked-in snapshot (integ/integ.accounts.ts.snapshot/, written by `npm run
 * integ:snapshot`) in the placeholder layout of THREE_ACCOUNT_LAYOUT. In accounts it is the
 * README's "Three accounts" guide: `cdk deploy` of the two test-case stacks into the delivery
 * account with DR_INTEG_CONFIG naming the accounts, after which the pipeline deploys, drills and
 * waits for approval. Nothing is asserted from here: the pipeline's drill steps are the assertions,
 * and they run in the test account, which an assertion stack in the delivery account cannot reach.
 */
import { App, Stack } from 'aws-cdk-lib';
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { addPipeline, configOrExit } from '../bin/compose';
import { accountsIntegConfig, appContext } from './integ-config';

const app = new App({ postCliContext: appContext() });
const config = configOrExit(() => accountsIntegConfig(process.env));
const pipeline = addPipeline(app, config);
const support = pipeline.dependencies.find((stack): stack is Stack => stack instanceof Stack)!;

new IntegTest(app, 'Accounts', {
  testCases: [support, pipeline],
  // Nothing is asserted from the delivery account: the support stack stands in for the assertion
  // stack integ-tests-alpha would otherwise add empty (CloudFormation refuses a stack without resources).
  assertionStack: support,
  // The stages deploy from the pipeline, not from the runner: no update workflow, no bundles in the snapshot.
  stackUpdateWorkflow: false,
  regions: [config.primaryRegion],
  cdkCommandOptions: { destroy: { args: { force: true } } },
});
app.synth();
