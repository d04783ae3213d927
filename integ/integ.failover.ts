#!/usr/bin/env node
/*
 * Integration test (integ-runner, @aws-cdk/integ-tests-alpha): deploys both regional stages of an
 * `integ` environment, then asserts a failover end to end and the automatic failback after it.
 *
 * Offline (the README's test command), test/integ/integ-snapshot.test.ts synthesizes this app and
 * compares it with the checked-in snapshot (integ/integ.failover.ts.snapshot/, `npm run
 * integ:snapshot` rewrites it). In an account it is deployed with the CDK CLI, which runs the
 * assertions during the deployment; see the README, "Integration tests in an account".
 *
 * The assertions run in an assertion stack in the secondary region's stage, deployed after that
 * stage's regional stack: integ-tests-alpha calls AWS APIs in the assertion stack's own region, so
 * everything is read from there (the control table is a global table; Route 53 is global; the
 * primary's values are read from its SSM parameters by the stage's own PeerParameter).
 *
 * 1. Both regions answer 200 on /v1/health (waits for the first deployment to settle).
 * 2. A planned failover to the secondary: its state machine is started and must SUCCEED.
 * 3. The control table names the secondary as the active region.
 * 4. Route 53 answers the API name with the secondary's API target (the failover record moved).
 * 5. The secondary still answers 200 on /v1/health.
 * 6. The prober starts the failback by itself once the primary has been healthy for
 *    `failbackAfterHealthySeconds` (600 here): the control table names the primary again,
 * 7. and Route 53 answers with the primary's target.
 */
import { App, Duration, Fn, Stack } from 'aws-cdk-lib';
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { apiHostName } from '../lib/core/config';
import { addDrStages, configOrExit } from '../bin/compose';
import { Naming, ParameterKey, Purpose } from '../lib/core/naming';
import { AwsCallSupport } from '../lib/core/aws-call-support';
import { PeerParameter } from '../lib/core/peer-parameter';
import { LOG_ENCRYPTION_ID, LogEncryptionKey } from '../lib/core/log-encryption';
import { ControlTableSchema } from '../lambda/contracts/tables';
import { appContext, integConfig } from './integ-config';

const app = new App({ postCliContext: appContext() });
const config = configOrExit(() => integConfig(process.env));
const { primary, secondary } = addDrStages(app, config);
const secondaryRegion = secondary.regionalStack.region;
const naming = Naming.forDeployment(config, secondaryRegion);

const assertionStack = new Stack(secondary, 'IntegAssertions', {
  env: { account: config.account, region: secondaryRegion },
  stackName: naming.name('stack', Purpose.integAssertions),
  description: 'integ-tests-alpha assertions of the failover and failback (integration test only)',
});
assertionStack.addDependency(secondary.regionalStack);
// The stage encrypts every log group with its stack's own key: the assertion stack's (its AWS call support) with this one.
new LogEncryptionKey(assertionStack, LOG_ENCRYPTION_ID, { naming });

const integ = new IntegTest(app, 'Failover', {
  testCases: [primary.regionalStack, secondary.regionalStack],
  assertionStack,
  // The stages are bound to their regions and depend on each other, so the runner's update
  // workflow (deploy the old snapshot, then the new one) does not apply; it also keeps the
  // Lambda bundles out of the checked-in snapshot.
  stackUpdateWorkflow: false,
  regions: [config.primaryRegion],
  cdkCommandOptions: { destroy: { args: { force: true } } },
});

const settle = { totalTimeout: Duration.minutes(20), interval: Duration.seconds(30) };
AwsCallSupport.create(assertionStack, { naming, logRetention: config.logRetentionDays });
const primaryApiUrl = new PeerParameter(assertionStack, 'PrimaryApiUrl', { naming, peerRegion: config.primaryRegion, key: ParameterKey.apiUrl }).value;
const healthOf = (apiUrl: string) => Fn.join('', [apiUrl, 'health']);

const primaryHealthy = integ.assertions.httpApiCall(healthOf(primaryApiUrl)).expect(ExpectedResult.objectLike({ status: 200 }));
primaryHealthy.waitForAssertions(settle);
const secondaryHealthy = integ.assertions.httpApiCall(healthOf(secondary.orderApi.api.url)).expect(ExpectedResult.objectLike({ status: 200 }));
secondaryHealthy.waitForAssertions(settle);

const failover = integ.assertions.awsApiCall('SFN', 'startExecution', {
  stateMachineArn: secondary.orchestrator.stateMachine.stateMachineArn,
  input: JSON.stringify({ mode: 'planned', reason: 'integ-tests-alpha: failover to the secondary region' }),
});
const failoverSucceeded = integ.assertions
  .awsApiCall('SFN', 'describeExecution', { executionArn: failover.getAttString('executionArn') })
  .expect(ExpectedResult.objectLike({ status: 'SUCCEEDED' }));
// A custom resource may wait at most an hour; the longest waiter below stays well inside it.
failoverSucceeded.waitForAssertions({ totalTimeout: Duration.seconds(config.maxFailoverDurationSeconds + 300), interval: Duration.seconds(10) });

const activeRegionIs = (region: string) =>
  integ.assertions
    .awsApiCall('DynamoDB', 'getItem', {
      TableName: secondary.controlTable.table.tableName,
      Key: { [ControlTableSchema.pk]: { S: ControlTableSchema.activeRegionItem } },
      ConsistentRead: true,
    })
    .expect(ExpectedResult.objectLike({ Item: { [ControlTableSchema.activeRegion]: { S: region } } }));
const dnsAnswers = (region: string) =>
  integ.assertions
    .awsApiCall('Route53', 'testDNSAnswer', {
      HostedZoneId: secondary.hostedZone.hostedZoneId,
      RecordName: apiHostName(config),
      RecordType: 'CNAME',
    })
    .expect(ExpectedResult.objectLike({ RecordData: Match.arrayWith([Match.stringLikeRegexp(`execute-api\\.${region}\\.`)]) }));

// Outside integ-runner (plain `cdk deploy`, see the README) an assertion fails the deployment only
// through its waiter, so every assertion has one; `brief` is for what must already hold.
const brief = { totalTimeout: Duration.minutes(2), interval: Duration.seconds(15) };
const failedOver = activeRegionIs(secondaryRegion);
failedOver.waitForAssertions(brief);
const dnsOnSecondary = dnsAnswers(secondaryRegion);
dnsOnSecondary.waitForAssertions({ totalTimeout: Duration.minutes(5), interval: Duration.seconds(15) });
const secondaryServes = integ.assertions.httpApiCall(healthOf(secondary.orderApi.api.url)).expect(ExpectedResult.objectLike({ status: 200 }));
secondaryServes.waitForAssertions(brief);

const failedBack = activeRegionIs(config.primaryRegion);
// The primary must report healthy for failbackAfterHealthySeconds, the prober (every minute) then
// starts the failback, which may take up to maxFailoverDurationSeconds.
failedBack.waitForAssertions({
  totalTimeout: Duration.seconds(config.failbackAfterHealthySeconds + config.maxFailoverDurationSeconds + 600),
  interval: Duration.seconds(30),
});
const dnsOnPrimary = dnsAnswers(config.primaryRegion);
dnsOnPrimary.waitForAssertions({ totalTimeout: Duration.minutes(5), interval: Duration.seconds(15) });

primaryHealthy
  .next(secondaryHealthy)
  .next(failover)
  .next(failoverSucceeded)
  .next(failedOver)
  .next(dnsOnSecondary)
  .next(secondaryServes)
  .next(failedBack)
  .next(dnsOnPrimary);

app.synth();
