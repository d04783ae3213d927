import * as path from 'path';
import { accountsIntegConfig, appContext, INTEG_CONFIG_VARIABLE, integConfig, SNAPSHOT_SYNTH_VARIABLE, THREE_ACCOUNT_LAYOUT } from '../../integ/integ-config';
import { ConfigError } from '../../lib/core/config';

const DEPLOYMENT = { domainName: 'dr-integ.example.net', hostedZoneId: 'Z0123456789ABCDEFGHIJ' };

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    integConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('integConfig accepted the environment');
}

describe('integConfig', () => {
  it('synthesizes the snapshot from the defaults, the integ suffix and a 600 s failback, whatever the environment says', () => {
    const config = integConfig({
      [SNAPSHOT_SYNTH_VARIABLE]: '12345678',
      [INTEG_CONFIG_VARIABLE]: JSON.stringify({ ...DEPLOYMENT, account: '999999999999' }),
      CDK_DEFAULT_ACCOUNT: '888888888888',
    });
    expect(config).toMatchObject({
      environmentSuffix: 'integ',
      autoFailback: true,
      failbackAfterHealthySeconds: 600,
      account: '111111111111',
      domainName: 'trading.example.com',
    });
    expect(config.hostedZoneId).toBeUndefined();
  });

  it('deploys with the given keys and the account the CDK CLI resolved', () => {
    const config = integConfig({ [INTEG_CONFIG_VARIABLE]: JSON.stringify(DEPLOYMENT), CDK_DEFAULT_ACCOUNT: '888888888888' });
    expect(config).toMatchObject({ ...DEPLOYMENT, account: '888888888888', environmentSuffix: 'integ' });
  });

  it('takes the account and any other key from DR_INTEG_CONFIG first', () => {
    const config = integConfig({
      [INTEG_CONFIG_VARIABLE]: JSON.stringify({ ...DEPLOYMENT, account: '999999999999', failbackAfterHealthySeconds: 900, alertEmail: 'sre@example.net' }),
      CDK_DEFAULT_ACCOUNT: '888888888888',
    });
    expect(config).toMatchObject({ account: '999999999999', failbackAfterHealthySeconds: 900, alertEmail: 'sre@example.net' });
  });

  it('refuses to deploy without DR_INTEG_CONFIG, saying what it needs', () => {
    expect(problemsOf({})).toEqual([
      expect.stringMatching(/^DR_INTEG_CONFIG: not set; a deployment needs a JSON object with at least domainName and hostedZoneId/),
    ]);
    expect(problemsOf({ [INTEG_CONFIG_VARIABLE]: '  ' })).toEqual([expect.stringMatching(/^DR_INTEG_CONFIG: not set/)]);
  });

  it('names each required key that is missing', () => {
    expect(problemsOf({ [INTEG_CONFIG_VARIABLE]: '{}' })).toEqual([
      expect.stringMatching(/^DR_INTEG_CONFIG: domainName is required for a deployment/),
      expect.stringMatching(/^DR_INTEG_CONFIG: hostedZoneId is required for a deployment/),
    ]);
  });

  it('rejects text that is not a JSON object, and keys the app does not have', () => {
    expect(problemsOf({ [INTEG_CONFIG_VARIABLE]: '{domainName:' })).toEqual([expect.stringMatching(/^DR_INTEG_CONFIG: not valid JSON \(/)]);
    expect(problemsOf({ [INTEG_CONFIG_VARIABLE]: '["domainName"]' })).toEqual(['DR_INTEG_CONFIG: must be a JSON object of config keys']);
    expect(problemsOf({ [INTEG_CONFIG_VARIABLE]: JSON.stringify({ ...DEPLOYMENT, domain: 'x' }) })).toEqual([
      expect.stringMatching(/^DR_INTEG_CONFIG: 'domain' is not a config key/),
    ]);
  });

  it('validates the values as the app does', () => {
    expect(problemsOf({ [INTEG_CONFIG_VARIABLE]: JSON.stringify({ ...DEPLOYMENT, account: '12345' }) })).toEqual([
      'account: must be a 12-digit AWS account id',
    ]);
    expect(problemsOf({ [INTEG_CONFIG_VARIABLE]: JSON.stringify({ ...DEPLOYMENT, domainName: 'Not A Domain' }) })).toEqual([
      expect.stringMatching(/^domainName: must be a lower-case DNS name/),
    ]);
  });
});

describe('appContext', () => {
  it('is the context of cdk.json, feature flags included', () => {
    const context = appContext(path.join(__dirname, '..', '..', 'cdk.json'));
    expect(context['@aws-cdk/core:defaultCrossStackReferences']).toBe('weak');
    expect(Object.keys(context).length).toBeGreaterThan(50);
  });
});

describe('accountsIntegConfig', () => {
  it('synthesizes the snapshot in the placeholder three-account layout, whatever the environment says', () => {
    const config = accountsIntegConfig({ [SNAPSHOT_SYNTH_VARIABLE]: '12345678', [INTEG_CONFIG_VARIABLE]: JSON.stringify({ testAccount: '999999999999' }) });
    expect(config).toMatchObject({ deployment: 'pipeline', ...THREE_ACCOUNT_LAYOUT });
  });

  it('deploys the pipeline with the accounts DR_INTEG_CONFIG names, and asks for each missing one', () => {
    const accounts = { deliveryAccount: '222222222222', testAccount: '333333333333', productionAccount: '444444444444', testDomainName: 'test.example.net' };
    expect(accountsIntegConfig({ [INTEG_CONFIG_VARIABLE]: JSON.stringify(accounts) })).toMatchObject({ deployment: 'pipeline', ...accounts });
    expect(() => accountsIntegConfig({ [INTEG_CONFIG_VARIABLE]: JSON.stringify({ deliveryAccount: '222222222222' }) })).toThrow(
      /DR_INTEG_CONFIG: testAccount is required for a deployment \(the accounts of the three-account layout\)/,
    );
    expect(() => accountsIntegConfig({})).toThrow(
      `DR_INTEG_CONFIG: not set; a deployment needs a JSON object with at least deliveryAccount and testAccount and productionAccount, e.g. '{"deliveryAccount":"222222222222","testAccount":"333333333333","productionAccount":"444444444444"}'`,
    );
  });
});
