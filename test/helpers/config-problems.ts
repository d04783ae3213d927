import { ConfigError, parseConfig } from '../../lib/core/config';

/** The `key: rule` lines a raw config is rejected with; a config that is accepted fails the test. */
export function problemsOf(raw: Record<string, unknown>): string[] {
  try {
    parseConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error(`config ${JSON.stringify(raw)} was accepted`);
}
