import orders0001 from './0001_orders.sql';
import fencing0002 from './0002_fencing_and_conflicts.sql';
import accountKey0003 from './0003_account_scoped_key.sql';

/** One versioned schema change. */
export interface Migration {
  /** Sorts in application order; never renamed once released. */
  readonly version: string;
  readonly sql: string;
}

/** Every migration, in the order they are applied. Append only: never edit a released one. */
export const MIGRATIONS: readonly Migration[] = [
  { version: '0001_orders', sql: orders0001 },
  { version: '0002_fencing_and_conflicts', sql: fencing0002 },
  { version: '0003_account_scoped_key', sql: accountKey0003 },
];
