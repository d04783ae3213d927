import { z } from 'zod';

/** Reads a function's environment through a schema; a misconfigured function fails at cold start, naming each variable. */
export function readEnvironment<T extends z.ZodType>(schema: T, environment: NodeJS.ProcessEnv = process.env): z.infer<T> {
  const parsed = schema.safeParse(environment);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid function environment: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** What functions that read the journal and the control table are told (lib/ sets these). */
export const ControlEnvironmentSchema = z.object({
  JOURNAL_TABLE: z.string().min(1),
  CONTROL_TABLE: z.string().min(1),
  AWS_REGION: z.string().min(1),
  /** The deployment's primary region: active until the control table records otherwise. */
  PRIMARY_REGION: z.string().min(1),
});

/** Where a handler finds the journal and the control table, and which region it runs in. */
export interface ControlSettings {
  readonly journalTable: string;
  readonly controlTable: string;
  readonly region: string;
  readonly primaryRegion: string;
}

/** The settings from a validated environment. */
export function controlSettings(environment: z.infer<typeof ControlEnvironmentSchema>): ControlSettings {
  return {
    journalTable: environment.JOURNAL_TABLE,
    controlTable: environment.CONTROL_TABLE,
    region: environment.AWS_REGION,
    primaryRegion: environment.PRIMARY_REGION,
  };
}

/** What the functions that probe or act on the peer region are told (failover steps, prober). */
export const PeerEnvironmentSchema = z.object({
  AWS_REGION: z.string().min(1),
  PEER_REGION: z.string().min(1),
  PRIMARY_REGION: z.string().min(1),
  CONTROL_TABLE: z.string().min(1),
  /** The peer's API URL parameter, read in the peer region when first needed. */
  PEER_API_URL_PARAMETER: z.string().startsWith('/'),
  /** Time one HTTP request to an API may take. */
  HTTP_TIMEOUT_MS: z.coerce.number().int().min(100),
});
