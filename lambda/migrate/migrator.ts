import { createHash } from 'crypto';
import type { ClientBase } from 'pg';
import type { Migration } from './migrations';

/**
 * Key of the advisory lock that serializes migration runs: two deploys (or a deploy and an
 * operator) never apply the same migration at once. Any constant unique to this schema works.
 */
export const MIGRATION_LOCK_KEY = 7_246_301;

/** The table recording what has been applied. */
export const MIGRATIONS_TABLE = 'schema_migrations';

/** Thrown when an applied migration's text differs from the repository's: history was edited. */
export class MigrationChecksumError extends Error {
  constructor(
    public readonly version: string,
    public readonly appliedChecksum: string,
    public readonly currentChecksum: string,
  ) {
    super(
      `migration ${version} was applied with checksum ${appliedChecksum} but the repository now has ${currentChecksum}; add a new migration instead of editing a released one`,
    );
    this.name = 'MigrationChecksumError';
  }
}

export function checksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

export interface MigrationResult {
  /** Versions applied by this run. */
  readonly applied: string[];
  /** Versions that were already applied. */
  readonly skipped: string[];
}

/**
 * Applies the migrations not yet recorded, each in its own transaction with its record, under an
 * advisory lock. Running it again applies nothing; an edited released migration is refused.
 */
export async function applyMigrations(client: ClientBase, migrations: readonly Migration[]): Promise<MigrationResult> {
  const versions = migrations.map((migration) => migration.version);
  if ([...versions].sort().join() !== versions.join() || new Set(versions).size !== versions.length) {
    throw new Error(`migrations must have unique versions in ascending order, got ${versions.join(', ')}`);
  }
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  try {
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ version: string; checksum: string }>(`SELECT version, checksum FROM ${MIGRATIONS_TABLE}`);
    const recorded = new Map(rows.map((row) => [row.version, row.checksum]));
    const result: MigrationResult = { applied: [], skipped: [] };
    for (const migration of migrations) {
      const current = checksum(migration.sql);
      const applied = recorded.get(migration.version);
      if (applied !== undefined) {
        if (applied !== current) throw new MigrationChecksumError(migration.version, applied, current);
        result.skipped.push(migration.version);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, checksum) VALUES ($1, $2)`, [migration.version, current]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${migration.version} failed and was rolled back: ${(error as Error).message}`, { cause: error });
      }
      result.applied.push(migration.version);
    }
    return result;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
  }
}
