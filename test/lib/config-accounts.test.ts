import { App } from 'aws-cdk-lib';
import { loadConfig, parseConfig } from '../../lib/core/config';
import { deploymentAccounts } from '../../lib/core/config-accounts';
import { zoneDelegation } from '../../lib/core/config-dns';
import { deliveryConfig, directEnvironmentConfig, productionEnvironmentConfig, testEnvironmentConfig } from '../../lib/core/environment-config';
import { addDrStages } from '../../bin/compose';
import { newApp, THREE_ACCOUNTS } from '../helpers/app';
import { problemsOf } from '../helpers/config-problems';

const SEPARATE = { testAccount: '333333333333', productionAccount: '444444444444' };

describe('the account keys', () => {
  it('default every account to `account`, so one account needs no key at all', () => {
    const config = parseConfig({ account: '123456789012' });
    expect(deploymentAccounts(config)).toEqual({ delivery: '123456789012', test: '123456789012', production: '123456789012', backup: undefined });
  });

  it('read -c strings, and take an empty value as unset', () => {
    const app = new App({
      context: { deliveryAccount: '222222222222', testAccount: '333333333333', productionAccount: '', testDomainName: 'trading-test.example.com' },
    });
    expect(deploymentAccounts(loadConfig(app.node))).toEqual({ delivery: '222222222222', test: '333333333333', production: '111111111111', backup: undefined });
  });

  it('refuse a malformed account id, naming the key', () => {
    expect(problemsOf({ deliveryAccount: '2222' })).toEqual(['deliveryAccount: must be a 12-digit AWS account id (deliveryAccount)']);
    expect(problemsOf({ backupAccount: 'prod' })).toEqual(['backupAccount: must be a 12-digit AWS account id (backupAccount)']);
  });

  it("refuse a backup account that is production's own", () => {
    expect(problemsOf({ productionAccount: '444444444444', backupAccount: '444444444444', testDomainName: 'trading-test.example.com' })).toEqual([
      'backupAccount: must differ from productionAccount (both are 444444444444): a copy in the same account is deleted by whoever can delete the original',
    ]);
  });

  it('put each environment in its account, the pipeline in the delivery account, and copy only production to the backup account', () => {
    const config = parseConfig({ deployment: 'pipeline', ...THREE_ACCOUNTS });
    expect(testEnvironmentConfig(config)).toMatchObject({ environmentSuffix: 'test', account: THREE_ACCOUNTS.testAccount, backupAccount: undefined });
    expect(productionEnvironmentConfig(config)).toMatchObject({
      environmentSuffix: 'prod',
      account: THREE_ACCOUNTS.productionAccount,
      backupAccount: THREE_ACCOUNTS.backupAccount,
    });
    expect(deliveryConfig(config).account).toBe(THREE_ACCOUNTS.deliveryAccount);
  });

  it("deploy directly into the suffix's account: production's, the test environment's, or `account` for any other", () => {
    const accounts = { account: '123456789012', ...SEPARATE, testDomainName: 'trading-test.example.com' };
    const stagesOf = (environmentSuffix: string) => {
      const { primary, secondary } = addDrStages(newApp(), parseConfig({ deployment: 'direct', environmentSuffix, ...accounts }));
      return [primary.account, secondary.account, primary.regionalStack.account];
    };
    expect(stagesOf('prod')).toEqual(Array(3).fill('444444444444'));
    expect(stagesOf('test')).toEqual(Array(3).fill('333333333333'));
    expect(stagesOf('dev')).toEqual(Array(3).fill('123456789012'));
    // The test environment's direct deployment takes its own zone, as the pipeline gives it.
    expect(directEnvironmentConfig(parseConfig({ environmentSuffix: 'test', ...accounts }))).toMatchObject({
      domainName: 'trading-test.example.com',
      apiSubdomain: 'api-test',
    });
  });
});

describe('the DNS keys', () => {
  it("share production's zone and its id with the test environment in one account", () => {
    const config = parseConfig({ hostedZoneId: 'Z0123456789ABCDEFGHIJ' });
    expect(testEnvironmentConfig(config)).toMatchObject({ domainName: 'trading.example.com', hostedZoneId: 'Z0123456789ABCDEFGHIJ', apiSubdomain: 'api-test' });
  });

  it("give the test environment its own zone, never production's id, when it has its own account", () => {
    const config = parseConfig({ ...SEPARATE, hostedZoneId: 'Z0123456789ABCDEFGHIJ', testDomainName: 'trading-test.example.com' });
    expect(testEnvironmentConfig(config)).toMatchObject({ domainName: 'trading-test.example.com', hostedZoneId: undefined });
    const own = parseConfig({ ...SEPARATE, testDomainName: 'trading-test.example.com', testHostedZoneId: 'Z0TESTZONE0000000000' });
    expect(testEnvironmentConfig(own).hostedZoneId).toBe('Z0TESTZONE0000000000');
  });

  it('refuse one zone name for two accounts', () => {
    expect(problemsOf(SEPARATE)).toEqual([
      'testDomainName: must be set, and differ from domainName (trading.example.com), when test and production have their own accounts: each account needs its own zone',
    ]);
  });

  it('refuse a delegation with a key missing, naming the missing ones', () => {
    expect(problemsOf({ parentHostedZoneId: 'Z0PARENTZONE000000001' })).toEqual([
      "parentZoneName: must be set with parentHostedZoneId: a delegation needs the parent zone's id, its name and the role that writes into it",
      "dnsDelegationRoleArn: must be set with parentHostedZoneId: a delegation needs the parent zone's id, its name and the role that writes into it",
    ]);
  });

  it('refuse a zone outside the parent, a configured zone id beside a delegation, and one zone name for both environments', () => {
    const delegation = {
      parentHostedZoneId: 'Z0PARENTZONE000000001',
      parentZoneName: 'example.org',
      dnsDelegationRoleArn: THREE_ACCOUNTS.dnsDelegationRoleArn,
    };
    expect(problemsOf({ deployment: 'pipeline', ...delegation, hostedZoneId: 'Z0123456789ABCDEFGHIJ' })).toEqual([
      'testDomainName: must be set, and differ from domainName (trading.example.com), with a delegation: each environment delegates its own zone',
      "domainName: must lie below parentZoneName (example.org): the delegation writes trading.example.com's NS record into that zone",
      'hostedZoneId: must be unset with a delegation: the environment creates its own zone and the parent zone delegates to it',
      "testDomainName: must lie below parentZoneName (example.org): the delegation writes trading.example.com's NS record into that zone",
    ]);
  });

  it('read a whole delegation, and a malformed role as a problem', () => {
    const config = parseConfig({ deployment: 'pipeline', ...THREE_ACCOUNTS });
    expect(zoneDelegation(config)).toEqual({
      parentHostedZoneId: THREE_ACCOUNTS.parentHostedZoneId,
      parentZoneName: 'example.com',
      roleArn: THREE_ACCOUNTS.dnsDelegationRoleArn,
    });
    expect(
      problemsOf({ deployment: 'direct', dnsDelegationRoleArn: 'dns-delegation', parentHostedZoneId: 'Z0PARENTZONE000000001', parentZoneName: 'example.com' }),
    ).toEqual(['dnsDelegationRoleArn: must be an IAM role ARN such as arn:aws:iam::444455556666:role/dns-delegation']);
  });
});
