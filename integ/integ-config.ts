import { readFileSync } from 'fs';
import * as path from 'path';
import { AppConfig, CONFIG_KEYS, ConfigError, parseConfig } from '../lib/core/config';

/** The environment variable holding the integration deployment's config keys, as a JSON object. */
export const INTEG_CONFIG_VARIABLE = 'DR_INTEG_CONFIG';

/**
 * Set (to a placeholder account) whenever the app is synthesized to write or compare the snapshot,
 * never when it is deployed or destroyed: it tells the two apart, so the checked-in snapshot never
 * depends on who runs it or with which account. It is the variable integ-runner sets for the same
 * purpose, so the app behaves the same under integ-runner.
 */
export const SNAPSHOT_SYNTH_VARIABLE = 'CDK_INTEG_ACCOUNT';

/**
 * What the integration deployment changes from the defaults, so its assertions fit in one run:
 * its own suffix (it never touches `dev`), and an automatic failback that waits long enough for
 * the assertions on the failed-over state (DNS moves within 1 to 2 minutes) to finish first.
 */
export const INTEG_DEFAULTS: Readonly<Record<string, unknown>> = {
  environmentSuffix: 'integ',
  autoFailback: true,
  failbackAfterHealthySeconds: 600,
};

/**
 * Keys a deployment must set: ACM validates the API's certificate by DNS in the hosted zone, so
 * the zone must be a delegated public zone the account already has (a zone the stage created
 * would never be delegated, and the deployment would wait on the certificate until it timed out).
 */
export const INTEG_REQUIRED_KEYS = ['domainName', 'hostedZoneId'] as const;

/** The feature flags and context of the real app (cdk.json), so the test deploys what `cdk deploy` would. */
export function appContext(cdkJsonPath = path.join(__dirname, '..', 'cdk.json')): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(cdkJsonPath, 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

/**
 * The config of the integration test app.
 * - Snapshot synthesis (`CDK_INTEG_ACCOUNT` set): the defaults plus INTEG_DEFAULTS, nothing from
 *   the environment.
 * - Deployment: the same, then the keys of `DR_INTEG_CONFIG` (a JSON object of config keys, which
 *   must include INTEG_REQUIRED_KEYS), with the account from `DR_INTEG_CONFIG`, else the one the
 *   CDK CLI resolved from the credentials (`CDK_DEFAULT_ACCOUNT`).
 * Every value goes through the app's own validation; problems are thrown as one ConfigError.
 */
export function integConfig(env: NodeJS.ProcessEnv): AppConfig {
  if (env[SNAPSHOT_SYNTH_VARIABLE] !== undefined) return parseConfig({ ...INTEG_DEFAULTS });
  const given = integOverrides(env, INTEG_REQUIRED_KEYS, 'a delegated public hosted zone the account owns');
  const account = given.account ?? env.CDK_DEFAULT_ACCOUNT;
  return parseConfig({ ...INTEG_DEFAULTS, ...given, ...(account === undefined ? {} : { account }) });
}

/**
 * The three-account layout the accounts integration test (integ/integ.accounts.ts) snapshots: the
 * pipeline in a delivery account, test and production in their own, a backup account, and each
 * environment's zone delegated from a parent zone in a networking account. Placeholders, never
 * deployed; the tests hold the app to the same layout (test/pipeline/accounts.test.ts).
 */
export const THREE_ACCOUNT_LAYOUT = {
  deliveryAccount: '222222222222',
  testAccount: '333333333333',
  productionAccount: '444444444444',
  backupAccount: '555555555555',
  testDomainName: 'trading-test.example.com',
  parentHostedZoneId: 'Z0PARENTZONE000000001',
  parentZoneName: 'example.com',
  dnsDelegationRoleArn: 'arn:aws:iam::666666666666:role/dns-delegation',
} as const;

/** Example values of the required keys, for the message that asks for them. */
const INTEG_EXAMPLES: Record<string, string> = {
  domainName: 'dr-integ.example.net',
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  deliveryAccount: '222222222222',
  testAccount: '333333333333',
  productionAccount: '444444444444',
};

/** Keys a three-account deployment must set. */
export const ACCOUNTS_REQUIRED_KEYS = ['deliveryAccount', 'testAccount', 'productionAccount'] as const;

/**
 * The config of the accounts integration test app: the pipeline with THREE_ACCOUNT_LAYOUT for the
 * snapshot; for a deployment, the keys of `DR_INTEG_CONFIG`, which must name the three accounts.
 */
export function accountsIntegConfig(env: NodeJS.ProcessEnv): AppConfig {
  if (env[SNAPSHOT_SYNTH_VARIABLE] !== undefined) return parseConfig({ deployment: 'pipeline', ...THREE_ACCOUNT_LAYOUT });
  return parseConfig({ ...integOverrides(env, ACCOUNTS_REQUIRED_KEYS, 'the accounts of the three-account layout'), deployment: 'pipeline' });
}

/** The keys of `DR_INTEG_CONFIG`, checked to be config keys and to include `required`. */
function integOverrides(env: NodeJS.ProcessEnv, required: readonly string[], why: string): Record<string, unknown> {
  const text = env[INTEG_CONFIG_VARIABLE];
  if (text === undefined || text.trim() === '') {
    const example = JSON.stringify(Object.fromEntries(required.map((key) => [key, INTEG_EXAMPLES[key] ?? '...'])));
    throw new ConfigError([`${INTEG_CONFIG_VARIABLE}: not set; a deployment needs a JSON object with at least ${required.join(' and ')}, e.g. '${example}'`]);
  }
  let overrides: unknown;
  try {
    overrides = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([`${INTEG_CONFIG_VARIABLE}: not valid JSON (${(error as Error).message})`]);
  }
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw new ConfigError([`${INTEG_CONFIG_VARIABLE}: must be a JSON object of config keys`]);
  }
  const given = overrides as Record<string, unknown>;
  const unknown = Object.keys(given).filter((key) => !(CONFIG_KEYS as string[]).includes(key));
  if (unknown.length > 0) {
    throw new ConfigError(unknown.map((key) => `${INTEG_CONFIG_VARIABLE}: '${key}' is not a config key (see the README's configuration table)`));
  }
  const missing = required.filter((key) => given[key] === undefined || given[key] === '');
  if (missing.length > 0) {
    throw new ConfigError(missing.map((key) => `${INTEG_CONFIG_VARIABLE}: ${key} is required for a deployment (${why})`));
  }
  return given;
}
