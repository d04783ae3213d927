import { z } from 'zod';

/**
 * The accounts a deployment spans: the delivery account that runs the pipeline, the test
 * environment's account, production's, and optionally a backup account that receives production's
 * backup copies. Part of the one config schema (`lib/core/config.ts` spreads these fields into it
 * and runs `checkAccounts` with its other cross-field rules). Unset, each is `account`, so one
 * account holding everything (the default) needs no key at all.
 */

/** An AWS account id, or unset (an empty `-c key=` value counts as unset). */
function optionalAccount(key: string): z.ZodType<string | undefined> {
  return z.preprocess(
    (value) => (value === '' ? undefined : typeof value === 'number' ? String(value) : value),
    z
      .string()
      .regex(/^\d{12}$/, `must be a 12-digit AWS account id (${key})`)
      .optional(),
  ) as z.ZodType<string | undefined>;
}

export const ACCOUNT_FIELDS = {
  /**
   * The delivery account: the pipeline, its artifact buckets and keys, its CodeBuild projects. It
   * holds no workload; the environments' accounts trust it to deploy (`cdk bootstrap --trust`).
   * Unset: `account`.
   */
  deliveryAccount: optionalAccount('deliveryAccount'),
  /** The test environment's account: its two regional stages and the drill role. Unset: `account`. */
  testAccount: optionalAccount('testAccount'),
  /** Production's account: its two regional stages, and no role the drills can assume. Unset: `account`. */
  productionAccount: optionalAccount('productionAccount'),
  /**
   * An account that receives a copy of every production recovery point, in a vault of its own in
   * each region: a compromised production account cannot delete them. AWS Backup copies across
   * accounts only within one AWS Organization with cross-account backup turned on in its
   * management account. Unset: no such copy.
   */
  backupAccount: optionalAccount('backupAccount'),
};

interface AccountKeys {
  readonly account: string;
  readonly deliveryAccount?: string;
  readonly testAccount?: string;
  readonly productionAccount?: string;
  readonly backupAccount?: string;
  readonly testEnvironmentSuffix: string;
  readonly productionEnvironmentSuffix: string;
}

/** The accounts of a deployment, each resolved (unset keys are `account`). */
export interface DeploymentAccounts {
  readonly delivery: string;
  readonly test: string;
  readonly production: string;
  /** Unset: production's backups are copied only within its own account. */
  readonly backup?: string;
}

/** Every account of the deployment, unset ones given `account`. */
export function deploymentAccounts(config: AccountKeys): DeploymentAccounts {
  return {
    delivery: config.deliveryAccount ?? config.account,
    test: config.testAccount ?? config.account,
    production: config.productionAccount ?? config.account,
    backup: config.backupAccount,
  };
}

/** True when test and production live in different accounts (then they cannot share a hosted zone). */
export function separateEnvironmentAccounts(config: AccountKeys): boolean {
  const accounts = deploymentAccounts(config);
  return accounts.test !== accounts.production;
}

/** The cross-field rules of these keys, as `key: rule` issues. */
export function checkAccounts(config: AccountKeys, ctx: z.RefinementCtx): void {
  const accounts = deploymentAccounts(config);
  if (accounts.backup !== undefined && accounts.backup === accounts.production) {
    ctx.addIssue({
      code: 'custom',
      path: ['backupAccount'],
      message: `must differ from productionAccount (both are ${accounts.production}): a copy in the same account is deleted by whoever can delete the original`,
    });
  }
}
