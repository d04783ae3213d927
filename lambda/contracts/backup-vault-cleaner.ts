import { defineEnvironment, FunctionContract } from './environment';

/**
 * The backup vault cleaner (a custom resource; the vault comes as a resource property):
 * lib/data/backup.ts deploys lambda/backup-vault-cleaner. On the stack's deletion it deletes the
 * vault's recovery points, so CloudFormation can then delete the vault.
 */
export const BACKUP_VAULT_CLEANER = {
  codeFolder: 'backup-vault-cleaner',
  service: 'backup-vault-cleaner',
  environment: defineEnvironment({}),
} satisfies FunctionContract;

/** The function's timeout, in seconds: Lambda's longest. */
export const VAULT_CLEANER_TIMEOUT_SECONDS = 900;
