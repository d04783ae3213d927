import { startMoto, startPostgres } from './services';

/** Starts the loopback services once for the whole run (see services.ts). */
export default async function globalSetup(): Promise<void> {
  const [postgres, moto] = await Promise.all([process.env.TEST_DATABASE_URL ? undefined : startPostgres(), startMoto()]);
  if (postgres) process.env.TEST_DATABASE_URL = postgres.url;
  process.env.AWS_ENDPOINT_URL = moto.url;
  (globalThis as Record<string, unknown>).__services = { postgres, moto };
}
