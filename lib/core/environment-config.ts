import type { AppConfig } from './config';
import { deploymentAccounts } from './config-accounts';
import { testEnvironmentDns } from './config-dns';

/**
 * One environment's config, derived from the app's: its suffix, the account it deploys into and
 * where its API names live. The stages and the naming helper read `account`, `domainName`,
 * `hostedZoneId` and `apiSubdomain`, so once an environment's config has its own, everything it
 * builds lands in its account and zone.
 */

/** The pipeline's test environment. */
export function testEnvironmentConfig(config: AppConfig): AppConfig {
  return {
    ...config,
    environmentSuffix: config.testEnvironmentSuffix,
    account: deploymentAccounts(config).test,
    ...testEnvironmentDns(config),
    // Only production's recovery points are copied to the backup account.
    backupAccount: undefined,
  };
}

/** Production. */
export function productionEnvironmentConfig(config: AppConfig): AppConfig {
  return { ...config, environmentSuffix: config.productionEnvironmentSuffix, account: deploymentAccounts(config).production };
}

/**
 * A direct deployment of `environmentSuffix`: the test environment's or production's account and
 * names when the suffix is theirs, else `account` with the names as configured.
 */
export function directEnvironmentConfig(config: AppConfig): AppConfig {
  if (config.environmentSuffix === config.testEnvironmentSuffix) return testEnvironmentConfig(config);
  if (config.environmentSuffix === config.productionEnvironmentSuffix) return productionEnvironmentConfig(config);
  return { ...config, backupAccount: undefined };
}

/** The pipeline's own config: its names and stacks in the delivery account. */
export function deliveryConfig(config: AppConfig): AppConfig {
  return { ...config, account: deploymentAccounts(config).delivery };
}
