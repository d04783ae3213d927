import type { RunningMoto, RunningPostgres } from './services';

export default async function globalTeardown(): Promise<void> {
  const services = (globalThis as Record<string, unknown>).__services as { postgres?: RunningPostgres; moto?: RunningMoto } | undefined;
  await services?.moto?.stop();
  services?.postgres?.stop();
}
