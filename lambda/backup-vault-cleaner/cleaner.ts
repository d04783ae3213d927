import * as z from 'zod/mini';

/**
 * Empties an AWS Backup vault before CloudFormation deletes it. AWS Backup refuses to delete a
 * vault that still holds recovery points ("DeleteBackupVault: the backup vault must be empty",
 * https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DeleteBackupVault.html), and a
 * recovery point being deleted stays listed with status DELETING until it is gone
 * (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_RecoveryPointByBackupVault.html).
 */

const CleanerEventSchema = z.object({
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  PhysicalResourceId: z.optional(z.string()),
  ResourceProperties: z.object({
    VaultName: z.string().check(z.regex(/^[a-zA-Z0-9\-_]{2,50}$/, 'must be a backup vault name (2-50 letters, digits, hyphens, underscores)')),
  }),
});

export type CleanerRequest = { readonly kind: 'keep' | 'empty'; readonly vaultName: string };

/** Thrown for an event this function cannot act on; the message names each bad field. */
export class InvalidCleanerEventError extends Error {
  constructor(problems: string[]) {
    super(`invalid backup vault cleaner event: ${problems.join('; ')}`);
    this.name = 'InvalidCleanerEventError';
  }
}

/** Validates a custom resource event from the CDK provider framework. */
export function parseCleanerEvent(event: unknown): CleanerRequest {
  const parsed = CleanerEventSchema.safeParse(event);
  if (!parsed.success) throw new InvalidCleanerEventError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`));
  return { kind: parsed.data.RequestType === 'Delete' ? 'empty' : 'keep', vaultName: parsed.data.ResourceProperties.VaultName };
}

export interface RecoveryPointSummary {
  readonly arn: string;
  /** COMPLETED, PARTIAL, DELETING, EXPIRED, ... as AWS Backup reports it. */
  readonly status: string;
}

export interface VaultApi {
  /** Every recovery point the vault lists now (all pages). */
  list(vaultName: string): Promise<RecoveryPointSummary[]>;
  delete(vaultName: string, recoveryPointArn: string): Promise<void>;
}

export interface EmptyOptions {
  readonly vault: VaultApi;
  /** Milliseconds left before the function must answer. */
  readonly remainingMs: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Pause between listings while deletions finish. */
  readonly pollMs: number;
  /** Time kept back to answer CloudFormation before the timeout. */
  readonly reserveMs: number;
}

/** Deletes every recovery point and waits until the vault lists none; throws naming what is left when time runs out. */
export async function emptyVault(vaultName: string, options: EmptyOptions): Promise<{ deleted: number }> {
  const requested = new Set<string>();
  for (;;) {
    const points = await options.vault.list(vaultName);
    if (points.length === 0) return { deleted: requested.size };
    for (const point of points) {
      if (point.status === 'DELETING' || requested.has(point.arn)) continue;
      await options.vault.delete(vaultName, point.arn);
      requested.add(point.arn);
    }
    if (options.remainingMs() < options.pollMs + options.reserveMs) {
      throw new Error(
        `backup vault ${vaultName} still lists ${points.length} recovery point(s) (${points
          .slice(0, 5)
          .map((point) => `${point.arn} ${point.status}`)
          .join(', ')}); delete them and the vault by hand (README, "Teardown")`,
      );
    }
    await options.sleep(options.pollMs);
  }
}
