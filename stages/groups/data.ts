import { RegionRole } from '../../lib/core/region-settings';
import { ParameterKey, Purpose } from '../../lib/core/naming';
import { RegionalBackup } from '../../lib/data/backup';
import { shareKeyWithBackupAccount } from '../../lib/data/backup-account-vault';
import { PeerParameter } from '../../lib/core/peer-parameter';
import { ControlTable } from '../../lib/data/control-table';
import { GlobalDatabase } from '../../lib/data/global-database';
import { OrderJournal } from '../../lib/data/order-journal';
import { SchemaMigration } from '../../lib/data/schema-migration';
import { SessionStore } from '../../lib/data/session-store';
import { Storage } from '../../lib/data/storage';
import { PeerBucketReplication } from '../../lib/data/storage-replication';
import type { Network } from '../../lib/network/network';
import type { StageContext } from './context';

export interface RegionalData {
  readonly orderJournal: OrderJournal;
  readonly controlTable: ControlTable;
  readonly sessionStore: SessionStore;
  readonly database: GlobalDatabase;
  /** This region's vault and backup plan, copying to the other region's vault. */
  readonly backup: RegionalBackup;
  /** This region holds the writer now (config's writerRegion, else the primary): the schema migration runs here. */
  readonly holdsWriter: boolean;
}

/** The global tables and this region's member of the Aurora global database, with its schema migration where the writer is. */
export function buildData({ stack, config, role, settings, naming, parameters }: StageContext, network: Network): RegionalData {
  const tableProps = { naming, role, peerRegion: settings.peerRegion };
  const orderJournal = new OrderJournal(stack, 'OrderJournal', { ...tableProps, witnessRegion: config.witnessRegion });
  const controlTable = new ControlTable(stack, 'ControlTable', { ...tableProps, witnessRegion: config.witnessRegion });
  const sessionStore = new SessionStore(stack, 'SessionStore', tableProps);

  // After a failover, config names the region that holds the writer now, so a deploy does not
  // try to put it back: the schema migration and the secret rotation follow the writer.
  const holdsWriter = (config.writerRegion ?? config.primaryRegion) === settings.region;
  const database = new GlobalDatabase(stack, 'Database', {
    naming,
    role,
    peerRegion: settings.peerRegion,
    vpc: network.vpc,
    vpcCidr: settings.vpcCidr,
    peerVpcCidr: settings.peerVpcCidr,
    config,
    holdsWriter,
  });
  parameters.publish(ParameterKey.databaseEndpoint, database.clusterEndpoint, "This region's Aurora cluster endpoint (the writer when this region is primary)");
  new SchemaMigration(stack, 'SchemaMigration', {
    naming,
    database,
    logRetention: config.logRetentionDays,
    sourceMaps: config.lambdaSourceMaps,
    applies: holdsWriter,
  });
  const backup = new RegionalBackup(stack, 'Backup', {
    naming,
    peerRegion: settings.peerRegion,
    clusterIdentifier: database.clusterIdentifier,
    tableNames: [Purpose.orderJournal, Purpose.control, Purpose.sessions].map((purpose) => naming.name('table', purpose)),
    config,
    backupAccount: config.backupAccount,
  });
  if (config.backupAccount !== undefined) {
    shareKeyWithBackupAccount(database.key, config.backupAccount);
  }
  return { orderJournal, controlTable, sessionStore, database, backup, holdsWriter };
}

/** The config, audit and access-log buckets; the secondary, deployed second, sets up replication both ways. */
export function buildStorage({ stack, config, role, settings, naming, parameters }: StageContext, database: GlobalDatabase): Storage {
  const storageSettings = { naming, config };
  let storage: Storage;
  if (role === RegionRole.PRIMARY) {
    storage = new Storage(stack, 'Storage', storageSettings);
    parameters.publish(ParameterKey.storageKeyArn, storage.key.keyArn, "This region's storage key (replicas from the peer region are encrypted with it)");
  } else {
    // The primary deployed first: replicate both ways now that both sides exist.
    const peerStorageKeyArn = new PeerParameter(stack, 'PeerStorageKey', { naming, peerRegion: settings.peerRegion, key: ParameterKey.storageKeyArn }).value;
    storage = new Storage(stack, 'Storage', { ...storageSettings, replicateTo: { region: settings.peerRegion, keyArn: peerStorageKeyArn } });
    new PeerBucketReplication(stack, 'PeerBucketReplication', {
      naming,
      peerRegion: settings.peerRegion,
      keyArn: storage.key.keyArn,
      peerKeyArn: peerStorageKeyArn,
    });
  }
  parameters.publish(ParameterKey.databaseReaderEndpoint, database.readerEndpoint, "This region's Aurora reader endpoint");
  return storage;
}
