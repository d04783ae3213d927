import { randomBytes } from 'crypto';
import { Client } from 'pg';

/** A fresh database on the loopback PostgreSQL, dropped by `drop()`. */
export interface TestDatabase {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** A connected client; the caller ends it. */
  connect(): Promise<Client>;
  drop(): Promise<void>;
}

function serverUrl(): URL {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: the jest global setup starts PostgreSQL');
  return new URL(url);
}

export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const server = serverUrl();
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: server.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const connect = async (): Promise<Client> => {
    const client = new Client({ host: server.hostname, port: Number(server.port), user: server.username, database: name });
    await client.connect();
    return client;
  };
  return {
    name,
    host: server.hostname,
    port: Number(server.port),
    connect,
    drop: async () => {
      const dropper = new Client({ connectionString: server.toString() });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await dropper.end();
    },
  };
}
