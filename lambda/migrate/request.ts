import * as z from 'zod/mini';

/** The custom resource's properties (CloudFormation passes every value as a string). */
export const MigrationPropertiesSchema = z.object({
  SecretArn: z.string().check(z.minLength(1, 'must name the database secret')),
  Host: z.string().check(z.minLength(1, 'must name the cluster endpoint')),
  Port: z.coerce.number().check(z.int(), z.gte(1), z.lte(65535)),
  Database: z.string().check(z.regex(/^[a-z_][a-z0-9_]*$/, 'must be a PostgreSQL database name')),
  MigrationSetChecksum: z.string().check(z.regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest')),
});
export type MigrationProperties = z.infer<typeof MigrationPropertiesSchema>;

const MigrationEventSchema = z.object({
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  PhysicalResourceId: z.optional(z.string()),
  ResourceProperties: z.record(z.string(), z.unknown()),
});

export type MigrationRequest =
  { readonly kind: 'delete'; readonly physicalResourceId: string } | { readonly kind: 'migrate'; readonly properties: MigrationProperties };

/** Thrown for an event this function cannot act on; the message names each bad field. */
export class InvalidMigrationEventError extends Error {
  constructor(problems: string[]) {
    super(`invalid schema migration event: ${problems.join('; ')}`);
    this.name = 'InvalidMigrationEventError';
  }
}

function problemsOf(error: z.core.$ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`);
}

/** Validates a custom resource event from the CDK provider framework. */
export function parseMigrationEvent(event: unknown): MigrationRequest {
  const envelope = MigrationEventSchema.safeParse(event);
  if (!envelope.success) throw new InvalidMigrationEventError(problemsOf(envelope.error));
  if (envelope.data.RequestType === 'Delete') {
    // The schema goes with the cluster, which the stack deletes; nothing to undo here.
    return { kind: 'delete', physicalResourceId: envelope.data.PhysicalResourceId ?? 'schema' };
  }
  const properties = MigrationPropertiesSchema.safeParse(envelope.data.ResourceProperties);
  if (!properties.success) {
    throw new InvalidMigrationEventError(problemsOf(properties.error).map((problem) => `ResourceProperties.${problem}`));
  }
  return { kind: 'migrate', properties: properties.data };
}
