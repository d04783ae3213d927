import { z } from 'zod';

/** The custom resource's properties (CloudFormation passes every value as a string). */
export const MigrationPropertiesSchema = z.object({
  SecretArn: z.string().min(1, 'must name the database secret'),
  Host: z.string().min(1, 'must name the cluster endpoint'),
  Port: z.coerce.number().int().min(1).max(65535),
  Database: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be a PostgreSQL database name'),
  MigrationSetChecksum: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest'),
});
export type MigrationProperties = z.infer<typeof MigrationPropertiesSchema>;

const MigrationEventSchema = z.object({
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  PhysicalResourceId: z.string().optional(),
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

function problemsOf(error: z.ZodError): string[] {
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
