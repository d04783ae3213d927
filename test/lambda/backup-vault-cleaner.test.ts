import { emptyVault, parseCleanerEvent, RecoveryPointSummary, VaultApi } from '../../lambda/backup-vault-cleaner/cleaner';

/**
 * Scripted answers, not moto: moto_server 5.2.1 has no recovery points (AWS Backup's jobs do not
 * run in it), so the vault here is a small model of AWS Backup's documented behaviour: a deleted
 * recovery point stays listed as DELETING for a while, then disappears.
 */
function scriptedVault(initial: string[], listingsWhileDeleting: number): VaultApi & { deletes: string[] } {
  const points = new Map<string, { status: string; listingsLeft: number }>(initial.map((arn) => [arn, { status: 'COMPLETED', listingsLeft: 0 }]));
  const deletes: string[] = [];
  return {
    deletes,
    list: async () => {
      const listed: RecoveryPointSummary[] = [];
      for (const [arn, point] of points) {
        if (point.status === 'DELETING' && point.listingsLeft-- <= 0) points.delete(arn);
        else listed.push({ arn, status: point.status });
      }
      return listed;
    },
    delete: async (_vault, arn) => {
      deletes.push(arn);
      points.set(arn, { status: 'DELETING', listingsLeft: listingsWhileDeleting });
    },
  };
}

const noWait = async () => undefined;

describe('the backup vault cleaner', () => {
  it('keeps the vault on create and update, and empties it on delete', () => {
    const properties = { ResourceProperties: { VaultName: 'vault-backup-dev' } };
    expect(parseCleanerEvent({ RequestType: 'Create', ...properties })).toEqual({ kind: 'keep', vaultName: 'vault-backup-dev' });
    expect(parseCleanerEvent({ RequestType: 'Update', PhysicalResourceId: 'vault-backup-dev', ...properties }).kind).toBe('keep');
    expect(parseCleanerEvent({ RequestType: 'Delete', PhysicalResourceId: 'vault-backup-dev', ...properties }).kind).toBe('empty');
  });

  it('refuses an event without a valid vault name, naming the field', () => {
    expect(() => parseCleanerEvent({ RequestType: 'Delete', ResourceProperties: { VaultName: 'a b' } })).toThrow(
      /ResourceProperties.VaultName: must be a backup vault name/,
    );
    expect(() => parseCleanerEvent({ RequestType: 'Remove', ResourceProperties: {} })).toThrow(/invalid backup vault cleaner event: RequestType/);
  });

  it('deletes every recovery point once and waits until the vault lists none', async () => {
    const vault = scriptedVault(['arn:rp:1', 'arn:rp:2', 'arn:rp:3'], 2);
    const result = await emptyVault('vault-backup-dev', { vault, remainingMs: () => 600_000, sleep: noWait, pollMs: 10, reserveMs: 10 });
    expect(result).toEqual({ deleted: 3 });
    expect(vault.deletes).toEqual(['arn:rp:1', 'arn:rp:2', 'arn:rp:3']);
    expect(await vault.list('vault-backup-dev')).toEqual([]);
  });

  it('also deletes copies that arrive while it waits', async () => {
    const vault = scriptedVault(['arn:rp:1'], 1);
    let listings = 0;
    const arriving: VaultApi = {
      list: async (name) => {
        const listed = await vault.list(name);
        // The other region's plan copies a recovery point in after the first pass.
        if (++listings === 1) return [...listed, { arn: 'arn:rp:copy', status: 'COMPLETED' }];
        return listed;
      },
      delete: async (name, arn) => {
        if (arn !== 'arn:rp:copy') await vault.delete(name, arn);
        else vault.deletes.push(arn);
      },
    };
    await emptyVault('vault-backup-dev', { vault: arriving, remainingMs: () => 600_000, sleep: noWait, pollMs: 10, reserveMs: 10 });
    expect(vault.deletes).toEqual(['arn:rp:1', 'arn:rp:copy']);
  });

  it('fails naming what is left when the points outlast the time it has', async () => {
    const vault = scriptedVault(['arn:rp:slow'], 1000);
    let remaining = 100_000;
    await expect(
      emptyVault('vault-backup-dev', {
        vault,
        remainingMs: () => (remaining -= 30_000),
        sleep: noWait,
        pollMs: 10_000,
        reserveMs: 30_000,
      }),
    ).rejects.toThrow(/backup vault vault-backup-dev still lists 1 recovery point\(s\) \(arn:rp:slow DELETING\)/);
  });
});
