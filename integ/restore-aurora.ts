import { paginateListRecoveryPointsByBackupVault, type BackupClient } from '@aws-sdk/client-backup';
import {
  CreateDBInstanceCommand,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  EnableHttpEndpointCommand,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBClusterToPointInTimeCommand,
  type DBCluster,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { withRetry } from '../lambda/shared/retry';
import { waitUntil, type WaitDependencies } from './restore-wait';

/**
 * The Aurora half of the restore drill: which backup to restore, the scratch cluster's life
 * (restore, one instance, the Data API, deletion) and nothing else. The checks on what was restored
 * are in restore-checks.ts, the drill that runs them in restore-drill.ts.
 *
 * The restore itself is RDS's RestoreDBClusterFromSnapshot on the recovery point's snapshot, not
 * AWS Backup's StartRestoreJob: AWS Backup's own guide ("Restoring an Amazon Aurora cluster")
 * defines the Aurora restore options as RestoreDBClusterFromSnapshot's and says the restore creates
 * no instance, so the drill makes the same call with its own credentials and needs no restore role.
 * An Aurora recovery point's ARN is the RDS cluster snapshot's ARN; RestoreDBClusterFromSnapshot takes
 * a snapshot in the same region by its identifier (RDS API reference, "RestoreDBClusterFromSnapshot":
 * SnapshotIdentifier).
 */

/** The engine of the global database (lib/data/global-database.ts builds it with auroraPostgres). */
export const AURORA_ENGINE = 'aurora-postgresql';

/** AWS Backup's resource type for Aurora clusters (ListRecoveryPointsByBackupVault, ByResourceType). */
const AURORA_RESOURCE_TYPE = 'Aurora';

/** Attempts of each RDS control-plane call (throttling, a cluster briefly busy). */
const RDS_ATTEMPTS = 5;

/** A recovery point as the drill needs it (from ListRecoveryPointsByBackupVault). */
export interface RecoveryPointSummary {
  readonly recoveryPointArn: string;
  readonly creationDate: Date;
  /** Set when the recovery point was copied into this vault from another. */
  readonly sourceBackupVaultArn?: string;
  readonly status?: string;
}

/** The one AWS Backup call the drill makes, so tests can answer it (moto 5.2.1 does not implement it). */
export interface RecoveryPointSource {
  /** Every Aurora recovery point in the vault. */
  listAurora(vaultName: string): Promise<RecoveryPointSummary[]>;
}

/** RecoveryPointSource over a real AWS Backup client: every page. */
export function backupRecoveryPoints(client: BackupClient): RecoveryPointSource {
  return {
    listAurora: async (vaultName) => {
      const points: RecoveryPointSummary[] = [];
      for await (const page of paginateListRecoveryPointsByBackupVault({ client }, { BackupVaultName: vaultName, ByResourceType: AURORA_RESOURCE_TYPE })) {
        for (const point of page.RecoveryPoints ?? []) {
          if (!point.RecoveryPointArn || !point.CreationDate) continue;
          points.push({
            recoveryPointArn: point.RecoveryPointArn,
            creationDate: point.CreationDate,
            sourceBackupVaultArn: point.SourceBackupVaultArn,
            status: point.Status,
          });
        }
      }
      return points;
    },
  };
}

/** The RDS cluster snapshot identifier in a recovery point ARN of `region`, or undefined for anything else. */
export function snapshotIdentifier(recoveryPointArn: string, region: string): string | undefined {
  const match = /^arn:aws[a-z-]*:rds:([a-z0-9-]+):\d{12}:cluster-snapshot:(.+)$/.exec(recoveryPointArn);
  return match && match[1] === region ? match[2] : undefined;
}

/**
 * The newest completed recovery point in the vault that is a copy from another vault (a copy has
 * SourceBackupVaultArn: AWS Backup API reference, "RecoveryPointByBackupVault") and a snapshot in
 * this region; a problem naming what was found otherwise.
 */
export async function newestCopiedRecoveryPoint(
  source: RecoveryPointSource,
  vaultName: string,
  region: string,
  sleep?: (ms: number) => Promise<void>,
): Promise<RecoveryPointSummary | { problem: string }> {
  let points: RecoveryPointSummary[];
  try {
    points = await withRetry(`list the Aurora recovery points of ${vaultName} in ${region}`, () => source.listAurora(vaultName), {
      attempts: RDS_ATTEMPTS,
      sleep,
    });
  } catch (error) {
    return { problem: (error as Error).message };
  }
  const copies = points.filter(
    (point) => point.sourceBackupVaultArn && point.status === 'COMPLETED' && snapshotIdentifier(point.recoveryPointArn, region) !== undefined,
  );
  if (copies.length === 0) {
    return {
      problem: `vault ${vaultName} in ${region} holds no completed Aurora recovery point copied from another region (${points.length} Aurora recovery point(s) in all)`,
    };
  }
  return copies.reduce((newest, point) => (point.creationDate > newest.creationDate ? point : newest));
}

/** The names of the scratch cluster and what it is made from. */
export interface ScratchClusterNames {
  /** This region's cluster of the global database (its security groups; the point-in-time source). */
  readonly sourceCluster: string;
  readonly scratchCluster: string;
  readonly scratchInstance: string;
  readonly subnetGroup: string;
}

/** How the scratch cluster is restored: from a copied recovery point, or to a point in time of the region's own cluster. */
export type RestoreSource =
  | { readonly kind: 'recovery-point'; readonly recoveryPointArn: string; readonly snapshotIdentifier: string }
  | { readonly kind: 'point-in-time'; readonly time: Date };

export interface ScratchClusterDependencies extends WaitDependencies {
  readonly rds: Pick<RDSClient, 'send'>;
}

function isNotFound(error: unknown): boolean {
  const name = (error as Error).name;
  return name === 'DBClusterNotFoundFault' || name === 'DBInstanceNotFoundFault';
}

/** One cluster by identifier; undefined once it is gone. */
async function describeCluster(identifier: string, deps: ScratchClusterDependencies): Promise<DBCluster | undefined> {
  try {
    const response = await withRetry(
      `describe cluster ${identifier}`,
      () => deps.rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: identifier })),
      {
        attempts: RDS_ATTEMPTS,
        sleep: deps.sleep,
        isRetryable: (error) => !isNotFound(error),
      },
    );
    return response.DBClusters?.[0];
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The security groups of the region's own cluster, which the scratch cluster gets (a restore otherwise gets the VPC's default group). */
export async function sourceSecurityGroups(names: ScratchClusterNames, deps: ScratchClusterDependencies): Promise<string[]> {
  const cluster = await describeCluster(names.sourceCluster, deps);
  if (!cluster) throw new Error(`cluster ${names.sourceCluster} not found: is the environment deployed in this region?`);
  const groups = (cluster.VpcSecurityGroups ?? []).map((group) => group.VpcSecurityGroupId).filter((id): id is string => Boolean(id));
  if (groups.length === 0) throw new Error(`cluster ${names.sourceCluster} has no VPC security group to give the scratch cluster`);
  return groups;
}

/** Starts the restore of the scratch cluster (RDS; the cluster is then `creating`). */
export async function startRestore(
  source: RestoreSource,
  names: ScratchClusterNames,
  securityGroups: string[],
  deps: ScratchClusterDependencies,
): Promise<void> {
  const common = {
    DBClusterIdentifier: names.scratchCluster,
    DBSubnetGroupName: names.subnetGroup,
    // RestoreDBClusterToPointInTime and RestoreDBClusterFromSnapshot give the new cluster the
    // default security group unless told (RDS API reference of both).
    VpcSecurityGroupIds: securityGroups,
    DeletionProtection: false,
    Tags: [{ Key: 'drill', Value: 'restore' }],
  };
  const command =
    source.kind === 'recovery-point'
      ? new RestoreDBClusterFromSnapshotCommand({ ...common, SnapshotIdentifier: source.snapshotIdentifier, Engine: AURORA_ENGINE })
      : new RestoreDBClusterToPointInTimeCommand({ ...common, SourceDBClusterIdentifier: names.sourceCluster, RestoreToTime: source.time });
  await withRetry(`restore cluster ${names.scratchCluster}`, () => deps.rds.send(command as never), { attempts: RDS_ATTEMPTS, sleep: deps.sleep });
}

/**
 * Waits for the restored cluster, enables the Data API on it (EnableHttpEndpoint: Aurora PostgreSQL
 * provisioned clusters, RDS API reference) and adds one instance, which is the writer the Data API
 * needs; returns the cluster's ARN once the instance is available.
 */
export async function makeScratchClusterServe(
  names: ScratchClusterNames,
  instanceClass: string,
  deadline: number,
  pollMs: number,
  deps: ScratchClusterDependencies,
): Promise<string> {
  await waitUntil(
    `scratch cluster ${names.scratchCluster}`,
    async () => {
      const status = (await describeCluster(names.scratchCluster, deps))?.Status ?? 'not found';
      return { done: status === 'available', status };
    },
    deadline,
    pollMs,
    deps,
  );
  const cluster = await describeCluster(names.scratchCluster, deps);
  const clusterArn = cluster?.DBClusterArn;
  if (!clusterArn) throw new Error(`cluster ${names.scratchCluster} has no ARN`);
  await withRetry(`enable the Data API on ${names.scratchCluster}`, () => deps.rds.send(new EnableHttpEndpointCommand({ ResourceArn: clusterArn })), {
    attempts: RDS_ATTEMPTS,
    sleep: deps.sleep,
  });
  await withRetry(
    `create instance ${names.scratchInstance}`,
    () =>
      deps.rds.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: names.scratchInstance,
          DBClusterIdentifier: names.scratchCluster,
          Engine: AURORA_ENGINE,
          DBInstanceClass: instanceClass,
          PubliclyAccessible: false,
        }),
      ),
    { attempts: RDS_ATTEMPTS, sleep: deps.sleep },
  );
  await waitUntil(`scratch instance ${names.scratchInstance}`, () => instanceStatus(names.scratchInstance, 'available', deps), deadline, pollMs, deps);
  return clusterArn;
}

async function instanceStatus(identifier: string, wanted: 'available' | 'gone', deps: ScratchClusterDependencies): Promise<{ done: boolean; status: string }> {
  try {
    const response = await withRetry(
      `describe instance ${identifier}`,
      () => deps.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier })),
      { attempts: RDS_ATTEMPTS, sleep: deps.sleep, isRetryable: (error) => !isNotFound(error) },
    );
    const status = response.DBInstances?.[0]?.DBInstanceStatus ?? 'unknown';
    return { done: wanted === 'available' && status === 'available', status };
  } catch (error) {
    if (isNotFound(error)) return { done: wanted === 'gone', status: 'gone' };
    throw error;
  }
}

/** RDS refuses to delete a cluster or an instance while it is busy (creating, modifying, or a cluster that still has an instance). */
function isBusy(error: unknown): boolean {
  return /^InvalidDB(Cluster|Instance)StateFault$/.test((error as Error).name);
}

/**
 * Asks RDS to delete until it accepts (or the resource is gone): a drill that gave up while the
 * scratch cluster or its instance was still being created must still delete them, so a busy answer
 * is waited out, not reported.
 */
async function requestDeletion(what: string, send: () => Promise<unknown>, deadline: number, pollMs: number, deps: ScratchClusterDependencies): Promise<void> {
  await waitUntil(
    what,
    async () => {
      try {
        await withRetry(what, send, { attempts: RDS_ATTEMPTS, sleep: deps.sleep, isRetryable: (error) => !isNotFound(error) && !isBusy(error) });
        return { done: true, status: 'deletion accepted' };
      } catch (error) {
        if (isNotFound(error)) return { done: true, status: 'gone' };
        if (isBusy(error)) return { done: false, status: `busy (${(error as Error).message})` };
        throw error;
      }
    },
    deadline,
    pollMs,
    deps,
  );
}

/**
 * Deletes the scratch instance, then the cluster without a final snapshot (a cluster with an
 * instance cannot be deleted), and waits until both are gone. Returns the problems; never throws.
 */
export async function deleteScratchCluster(names: ScratchClusterNames, deadline: number, pollMs: number, deps: ScratchClusterDependencies): Promise<string[]> {
  const byHand = `delete it by hand: aws rds delete-db-instance --db-instance-identifier ${names.scratchInstance}; aws rds delete-db-cluster --db-cluster-identifier ${names.scratchCluster} --skip-final-snapshot`;
  const attempt = async (what: string, action: () => Promise<unknown>): Promise<string | undefined> => {
    try {
      await action();
      return undefined;
    } catch (error) {
      return `${what} failed: ${(error as Error).message}; ${byHand}`;
    }
  };
  const instanceProblem = await attempt(`deleting instance ${names.scratchInstance}`, async () => {
    const send = (): Promise<unknown> => deps.rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: names.scratchInstance, SkipFinalSnapshot: true }));
    await requestDeletion(`delete instance ${names.scratchInstance}`, send, deadline, pollMs, deps);
    await waitUntil(`deleting instance ${names.scratchInstance}`, () => instanceStatus(names.scratchInstance, 'gone', deps), deadline, pollMs, deps);
  });
  if (instanceProblem) return [instanceProblem];
  const clusterProblem = await attempt(`deleting cluster ${names.scratchCluster}`, async () => {
    const send = (): Promise<unknown> => deps.rds.send(new DeleteDBClusterCommand({ DBClusterIdentifier: names.scratchCluster, SkipFinalSnapshot: true }));
    await requestDeletion(`delete cluster ${names.scratchCluster}`, send, deadline, pollMs, deps);
    await waitUntil(
      `deleting cluster ${names.scratchCluster}`,
      async () => {
        const cluster = await describeCluster(names.scratchCluster, deps);
        return cluster ? { done: false, status: cluster.Status ?? 'unknown' } : { done: true, status: 'gone' };
      },
      deadline,
      pollMs,
      deps,
    );
  });
  return clusterProblem ? [clusterProblem] : [];
}
