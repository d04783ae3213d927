import { BackupClient, DeleteRecoveryPointCommand, paginateListRecoveryPointsByBackupVault } from '@aws-sdk/client-backup';
import type { Context } from 'aws-lambda';
import { createLogger } from '../shared/logger';
import { withRetry } from '../shared/retry';
import { BACKUP_VAULT_CLEANER } from '../contracts/backup-vault-cleaner';
import { emptyVault, parseCleanerEvent, RecoveryPointSummary, VaultApi } from './cleaner';

BACKUP_VAULT_CLEANER.environment.read();
const logger = createLogger(BACKUP_VAULT_CLEANER.service);
// The SDK's standard retry mode backs off exponentially with jitter on throttling.
const backup = new BackupClient({ maxAttempts: 5 });

/** Pause between listings while AWS Backup finishes deleting. */
const POLL_MS = 10_000;
/** Time kept back to answer CloudFormation before the function times out. */
const RESERVE_MS = 30_000;

const vault: VaultApi = {
  list: (vaultName) =>
    withRetry(`list the recovery points of backup vault ${vaultName}`, async () => {
      const points: RecoveryPointSummary[] = [];
      for await (const page of paginateListRecoveryPointsByBackupVault({ client: backup }, { BackupVaultName: vaultName })) {
        for (const point of page.RecoveryPoints ?? []) {
          if (point.RecoveryPointArn) points.push({ arn: point.RecoveryPointArn, status: point.Status ?? 'UNKNOWN' });
        }
      }
      return points;
    }),
  delete: async (vaultName, recoveryPointArn) => {
    await withRetry(`delete recovery point ${recoveryPointArn} from backup vault ${vaultName}`, () =>
      backup.send(new DeleteRecoveryPointCommand({ BackupVaultName: vaultName, RecoveryPointArn: recoveryPointArn })),
    );
    logger.info('recovery point deleted', { vaultName, recoveryPointArn });
  },
};

/** CDK provider framework onEvent handler: empties the vault when the stack deletes it. */
export async function handler(event: unknown, context: Context): Promise<{ PhysicalResourceId: string }> {
  const request = parseCleanerEvent(event);
  if (request.kind === 'keep') return { PhysicalResourceId: request.vaultName };
  const result = await emptyVault(request.vaultName, {
    vault,
    remainingMs: () => context.getRemainingTimeInMillis(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    pollMs: POLL_MS,
    reserveMs: RESERVE_MS,
  });
  logger.info('backup vault emptied', { vaultName: request.vaultName, deleted: result.deleted });
  return { PhysicalResourceId: request.vaultName };
}
