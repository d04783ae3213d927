import type { Client, PoolClient, QueryResultRow } from 'pg';
import { Database, type TimeBudget } from '../../lambda/shared/database';
import { MIGRATIONS_TABLE } from '../../lambda/migrate/migrator';
import { createTestDatabase, TestDatabase } from './database';
import { GLOBAL_DB_STATUS_TABLE, installGlobalDbStatus, setGlobalDbStatus } from './global-db-status';
import { migratedDatabase } from './orders';

/**
 * The data side of an Aurora global database, for the two-region simulation: one real PostgreSQL
 * database per region, the writer's commits shipped to the secondary with a lag. The control
 * plane (who is the writer, promotions) is test/helpers/aurora-global.ts; this follows it. Rules,
 * from the Aurora User Guide:
 * - [GDB] "Using Amazon Aurora Global Database": the secondary is read-only and receives the
 *   primary's changes asynchronously, "with typical latency of under a second" (here `lagMs`, drawn
 *   per seed and larger than typical, which is stricter). Its database here refuses writes as a
 *   reader does (SQLSTATE 25006, default_transaction_read_only).
 * - [DR] "Using switchover or failover in Amazon Aurora Global Database": a switchover "waits for
 *   the target secondary Region clusters to be fully synchronized", so the target takes everything
 *   before it becomes the writer; a failover allowing data loss promotes the secondary as it is,
 *   and what was still in flight is lost. "As soon as that old primary Region is healthy and
 *   available again, Aurora automatically adds it back to the global cluster as a secondary
 *   Region": its storage is rebuilt from the new primary, so anything the old writer committed
 *   after the new one took over is discarded. Fencing the old writer is best effort: one that
 *   could not be reached at the failover (its Region down or cut off) keeps taking writes from its
 *   own Region's functions until it rejoins; one that could be reached stops at once.
 * - [RPO] "Managing RPOs for Aurora PostgreSQL-based global databases": with `rds.global_db_rpo`
 *   set in the writer's parameter group, Aurora "Blocks the transaction if all secondary DB clusters
 *   have RPO lag times that are larger than the RPO ... no transactions can commit until the RPO is
 *   met". Here a write is blocked while the only secondary is out of reach for longer than the RPO;
 *   the blocked statement waits until the invocation ends, so the model fails it with
 *   CommitBlockedError and the caller treats the invocation as timed out.
 *
 * - [STATUS] "aurora_global_db_status": the writer reports each secondary's `rpo_lag_in_msec` as of
 *   `last_lag_calculation_time`. Here the secondary's row says it has everything the writer
 *   committed before the snapshot last applied to it, as of the last step both were in reach (a
 *   secondary out of reach keeps its last row); after a promotion, the new secondary has
 *   everything before the promotion (the target had a prefix of the old writer's data, which the
 *   old writer holds). Every region's database answers the same rows (simulated time).
 *
 * Replication is modelled as snapshots of the writer's tables, taken at each step of the clock and
 * applied to the secondary `lagMs` later, so its content is always a state the writer had.
 */

/** The writer refused to commit (rds.global_db_rpo): the invocation waits until it times out. */
export class CommitBlockedError extends Error {
  constructor(region: string) {
    super(`commit in ${region} paused by rds.global_db_rpo: no secondary within the RPO`);
    this.name = 'CommitBlockedError';
  }
}

/** Tables of the model itself, never replicated. */
const COMMIT_LOG = 'sim_commit_log';
const WRITE = /^\s*(INSERT|UPDATE|DELETE)\b/i;

/** A region's Database whose writes block while the model says commits are paused. */
class RegionDatabase extends Database {
  constructor(
    private readonly inner: Database,
    private readonly blocked: () => boolean,
    private readonly region: string,
    private readonly onBlocked: () => void,
  ) {
    super({ host: '', port: 0, database: '', secretArn: '', poolSize: 0, tls: false }, undefined as never, undefined as never);
  }

  public override withClient<T>(operation: string, work: (client: PoolClient) => Promise<T>, budget?: TimeBudget): Promise<T> {
    return this.inner.withClient(operation, work, budget);
  }

  public override async query<R extends QueryResultRow>(operation: string, sql: string, params: unknown[] = []): Promise<R[]> {
    if (WRITE.test(sql) && this.blocked()) this.refuse();
    return this.inner.query<R>(operation, sql, params);
  }

  public override async transaction<T>(operation: string, work: (client: PoolClient) => Promise<T>, budget?: TimeBudget): Promise<T> {
    if (this.blocked()) this.refuse();
    return this.inner.transaction(operation, work, budget);
  }

  public override async transactionInOneTrip<R extends QueryResultRow>(...args: Parameters<Database['transactionInOneTrip']>): Promise<R[][]> {
    if (this.blocked()) this.refuse();
    return this.inner.transactionInOneTrip<R>(...args);
  }

  private refuse(): never {
    this.onBlocked();
    throw new CommitBlockedError(this.region);
  }

  public override end(): Promise<void> {
    return this.inner.end();
  }
}

export interface StorageSettings {
  /** How far the secondary trails the writer. */
  readonly lagMs: number;
  /** `rds.global_db_rpo` in each region's parameter group, in seconds (undefined: not set). */
  readonly rpoSeconds: Readonly<Record<string, number | undefined>>;
}

/** A commit as the committing region's database logged it (real time: the clock of the database). */
export interface Commit {
  readonly order_id: string;
  readonly epoch: number;
  readonly region: string;
  readonly at: Date;
}

interface Snapshot {
  readonly at: number;
  readonly tables: Record<string, unknown[]>;
  /** The tables as text, to skip applying a state the secondary already has. */
  readonly text: string;
}

export class AuroraStorageModel {
  private readonly testDatabases = new Map<string, TestDatabase>();
  private readonly databases = new Map<string, Database>();
  private readonly regionDatabases = new Map<string, RegionDatabase>();
  private readonly adminClients = new Map<string, Client>();
  /** The state last written to each region by replication. */
  private readonly applied = new Map<string, string>();
  private tables: string[] = [];
  private initial: Record<string, unknown[]> = {};
  private writerRegion: string;
  private settings: StorageSettings = { lagMs: 0, rpoSeconds: {} };
  /** The writer's states not yet applied to the secondary, oldest first. */
  private inFlight: Snapshot[] = [];
  private readonly down = new Set<string>();
  /** Old writers a failover could not reach: they take writes until they rejoin ([DR]). */
  private readonly unfenced = new Set<string>();
  /** When the secondary was last within reach (for the RPO rule). */
  private secondaryReachableAt = 0;
  /** [STATUS] the writer's commits before this are in the secondary, as of `statusCalculatedAt`. */
  private secondaryThrough = 0;
  private statusCalculatedAt = 0;
  /** The status rows last written, to skip writing the same again. */
  private statusWritten = '';
  private now = 0;
  /** Orders committed by the writer and then lost in a failover, counted for the report. */
  public lostInFailovers = 0;
  /** Orders an unfenced old writer held that were not in the writer when it rejoined (discarded). */
  public discardedAtRejoin = 0;
  /** Writes refused because the writer paused commits ([RPO]). */
  public blockedCommits = 0;

  constructor(
    private readonly regions: readonly string[],
    initialWriter: string,
  ) {
    this.writerRegion = initialWriter;
  }

  async start(): Promise<void> {
    for (const region of this.regions) {
      const testDatabase = await createTestDatabase(`aurora_${region.replace(/-/g, '_')}`);
      this.testDatabases.set(region, testDatabase);
      const database = await migratedDatabase(testDatabase);
      this.databases.set(region, database);
      this.regionDatabases.set(
        region,
        new RegionDatabase(
          database,
          () => region === this.writerRegion && this.commitsBlocked(),
          region,
          () => this.blockedCommits++,
        ),
      );
      await this.admin(region, async (client) => {
        await client.query(
          `CREATE TABLE ${COMMIT_LOG} (order_id uuid NOT NULL, fencing_epoch bigint NOT NULL, committed_in text NOT NULL, committed_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
        );
        await client.query(`CREATE FUNCTION sim_log_commit() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            INSERT INTO ${COMMIT_LOG} VALUES (NEW.order_id, NEW.fencing_epoch, '${region}');
            RETURN NEW;
          END $$`);
        await client.query('CREATE TRIGGER sim_log_commit AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION sim_log_commit()');
        await installGlobalDbStatus((sql, params) => client.query(sql, params));
      });
    }
    const { rows } = await this.admin(this.regions[0], (client) =>
      client.query<{ name: string }>(
        `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT IN ($1, $2, $3) ORDER BY 1`,
        [MIGRATIONS_TABLE, COMMIT_LOG, GLOBAL_DB_STATUS_TABLE],
      ),
    );
    this.tables = rows.map((row) => row.name);
    // What the migrations left (the fencing epoch's row among others): every sequence starts from it.
    this.initial = await this.read(this.regions[0]);
  }

  async stop(): Promise<void> {
    for (const client of this.adminClients.values()) await client.end();
    this.adminClients.clear();
    for (const database of this.databases.values()) await database.end();
    for (const testDatabase of this.testDatabases.values()) await testDatabase.drop();
  }

  /** Empty tables, `writer` the writer, nothing in flight (before each sequence). */
  async reset(writer: string, settings: StorageSettings, now: number): Promise<void> {
    this.settings = settings;
    this.inFlight = [];
    this.applied.clear();
    this.down.clear();
    this.unfenced.clear();
    this.now = now;
    this.secondaryReachableAt = now;
    this.statusWritten = '';
    this.lostInFailovers = 0;
    this.discardedAtRejoin = 0;
    this.blockedCommits = 0;
    for (const region of this.regions) {
      await this.admin(region, (client) => client.query(`TRUNCATE ${COMMIT_LOG}`));
      await this.write(region, this.initial);
    }
    this.applied.clear();
    await this.setWriter(writer);
  }

  /** The Database a function in `region` uses (its regional cluster endpoint). */
  database(region: string): Database {
    return this.regionDatabases.get(region)!;
  }

  get writer(): string {
    return this.writerRegion;
  }

  /** A region's database is out of reach from the other region (it still serves its own region). */
  setRegionDown(region: string, down: boolean): void {
    if (down) this.down.add(region);
    else this.down.delete(region);
  }

  /**
   * Time passes to `now`: the writer's state is taken, and what is `lagMs` old reaches the
   * secondary, unless either side is out of reach.
   */
  async elapse(now: number): Promise<void> {
    this.now = now;
    const secondary = this.secondary();
    if (this.down.has(this.writerRegion)) return;
    const tables = await this.read(this.writerRegion);
    this.inFlight.push({ at: now, tables, text: JSON.stringify(tables) });
    if (this.down.has(secondary)) return;
    this.secondaryReachableAt = now;
    let due: Snapshot | undefined;
    while (this.inFlight.length > 0 && this.inFlight[0].at <= now - this.settings.lagMs) due = this.inFlight.shift();
    if (due && due.text !== this.applied.get(secondary)) await this.write(secondary, due.tables, due.text);
    if (due) this.secondaryThrough = due.at;
    this.statusCalculatedAt = now;
    await this.writeStatus();
  }

  /** [STATUS] the rows aurora_global_db_status() answers in every region. */
  private async writeStatus(): Promise<void> {
    const secondary = { region: this.secondary(), rpoLagMs: this.statusCalculatedAt - this.secondaryThrough, calculatedAt: new Date(this.statusCalculatedAt) };
    const text = JSON.stringify([this.writerRegion, secondary]);
    if (text === this.statusWritten) return;
    this.statusWritten = text;
    for (const region of this.regions)
      await this.admin(region, (client) => setGlobalDbStatus((sql, params) => client.query(sql, params), this.writerRegion, [secondary]));
  }

  /** [DR] a switchover completed: the target took everything, then became the writer. */
  async switchedOver(target: string): Promise<void> {
    await this.write(target, await this.read(this.writerRegion));
    this.inFlight = [];
    await this.setWriter(target);
  }

  /** [DR] a failover allowing data loss completed: the target is promoted as it is; in flight is lost. */
  async failedOver(target: string): Promise<void> {
    const before = (await this.read(this.writerRegion).catch(() => undefined))?.orders?.length;
    const after = (await this.read(target)).orders?.length ?? 0;
    if (before !== undefined) this.lostInFailovers += Math.max(0, before - after);
    this.inFlight = [];
    if (this.down.has(this.writerRegion)) this.unfenced.add(this.writerRegion);
    await this.setWriter(target);
  }

  /** [DR] the old primary rejoined as a secondary: its storage is rebuilt from the writer's, and it takes no more writes. */
  async rejoined(region: string): Promise<void> {
    if (region === this.writerRegion) return;
    const writer = await this.read(this.writerRegion);
    const kept = new Set((writer.orders ?? []).map((row) => (row as { order_id: string }).order_id));
    this.discardedAtRejoin += ((await this.read(region)).orders ?? []).filter((row) => !kept.has((row as { order_id: string }).order_id)).length;
    await this.write(region, writer);
    if (this.unfenced.delete(region)) await this.setReadOnly(region, true);
  }

  /** Whether `region`'s database takes writes: the writer's, and an old writer not yet fenced. */
  writable(region: string): boolean {
    return region === this.writerRegion || this.unfenced.has(region);
  }

  /** The writer's orders, by client order id. */
  async orders(region = this.writerRegion): Promise<{ order_id: string; account_id: string; client_order_id: string; fencing_epoch: string }[]> {
    return this.admin(region, async (client) => (await client.query('SELECT order_id, account_id, client_order_id, fencing_epoch FROM orders')).rows);
  }

  /** Where each row of `region` was committed, and under which epoch (from the region that committed it). */
  async commits(): Promise<Commit[]> {
    const all: Commit[] = [];
    for (const region of this.regions)
      all.push(
        ...(await this.admin(
          region,
          async (client) =>
            (await client.query<Commit>(`SELECT order_id, fencing_epoch::int AS epoch, committed_in AS region, committed_at AS at FROM ${COMMIT_LOG}`)).rows,
        )),
      );
    return all;
  }

  /** [RPO] the writer's parameter group sets an RPO and its secondary has been out of reach longer. */
  private commitsBlocked(): boolean {
    const rpoSeconds = this.settings.rpoSeconds[this.writerRegion];
    return rpoSeconds !== undefined && this.now - this.secondaryReachableAt > rpoSeconds * 1000;
  }

  private secondary(): string {
    return this.regions.find((region) => region !== this.writerRegion)!;
  }

  /** The writer takes writes; every other region's database refuses them, but an unfenced old writer's. */
  private async setWriter(region: string): Promise<void> {
    this.writerRegion = region;
    this.secondaryReachableAt = this.now;
    this.secondaryThrough = this.now;
    this.statusCalculatedAt = this.now;
    await this.writeStatus();
    for (const each of this.regions) if (!this.unfenced.has(each)) await this.setReadOnly(each, each !== region);
  }

  /** A region's database takes writes or refuses them (SQLSTATE 25006); its sessions restart, as on promotion. */
  private async setReadOnly(region: string, readOnly: boolean): Promise<void> {
    const testDatabase = this.testDatabases.get(region)!;
    await this.admin(region, async (client) => {
      await client.query(`ALTER DATABASE ${testDatabase.name} SET default_transaction_read_only = ${readOnly ? 'on' : 'off'}`);
      await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    });
  }

  private async read(region: string): Promise<Record<string, unknown[]>> {
    return this.admin(region, async (client) => {
      const tables: Record<string, unknown[]> = {};
      for (const table of this.tables) tables[table] = (await client.query(`SELECT to_jsonb(t) AS row FROM ${table} t`)).rows.map((row) => row.row);
      return tables;
    });
  }

  /** Replaces `region`'s tables with `tables`, as replication (no triggers: session_replication_role replica). */
  private async write(region: string, tables: Record<string, unknown[]>, text = JSON.stringify(tables)): Promise<void> {
    this.applied.set(region, text);
    await this.admin(region, async (client) => {
      await client.query('BEGIN READ WRITE');
      await client.query('SET LOCAL session_replication_role = replica');
      for (const table of this.tables) {
        await client.query(`DELETE FROM ${table}`);
        await client.query(`INSERT INTO ${table} SELECT * FROM jsonb_populate_recordset(NULL::${table}, $1::jsonb)`, [JSON.stringify(tables[table] ?? [])]);
      }
      await client.query('COMMIT');
    });
  }

  /** The model's own session in a region's database (read-write whatever the database's default). */
  private async admin<T>(region: string, work: (client: Client) => Promise<T>): Promise<T> {
    let client = this.adminClients.get(region);
    if (!client) {
      client = await this.testDatabases.get(region)!.connect();
      await client.query('SET default_transaction_read_only = off');
      this.adminClients.set(region, client);
    }
    return work(client);
  }
}
