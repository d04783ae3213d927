import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { CustomResource, Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { MIGRATE } from '../../lambda/contracts/migrate';
import { DATABASE_NAME, GlobalDatabase } from './global-database';
import { HandlerFunction } from '../core/handler-function';
import { handlerProvider } from '../core/handler-provider';
import { Naming, Purpose } from '../core/naming';

/** Where the versioned SQL migrations live (bundled into the function as text). */
export const MIGRATIONS_DIRECTORY = path.join(__dirname, '..', '..', 'lambda', 'migrate', 'migrations');

/**
 * A digest of every migration file, by name and content: a property of the custom resource, so
 * adding a migration changes the template and the deploy applies it.
 */
export function migrationFilesChecksum(directory: string = MIGRATIONS_DIRECTORY): string {
  const hash = createHash('sha256');
  for (const file of fs
    .readdirSync(directory)
    .filter((name) => name.endsWith('.sql'))
    .sort()) {
    hash
      .update(file)
      .update('\0')
      .update(fs.readFileSync(path.join(directory, file)))
      .update('\0');
  }
  return hash.digest('hex');
}

export interface SchemaMigrationProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The database to migrate; this region must hold its writer. The function runs in its VPC. */
  readonly database: GlobalDatabase;
  /** Retention of the function's and the provider's logs (config's `logRetentionDays`). */
  readonly logRetention: logs.RetentionDays;
  /** The source map in the package (config's `lambdaSourceMaps`). */
  readonly sourceMaps: boolean;
  /**
   * Apply the migrations here: this region holds the writer. The function, the provider and their
   * roles exist in both regions either way, so moving the writer (config `writerRegion`) changes
   * no IAM resource: a deploy while us-east-1, and IAM's control plane with it, is down can still
   * move it (docs/runbooks/break-glass.md).
   */
  readonly applies: boolean;
}

/**
 * Applies the versioned SQL migrations in `lambda/migrate/migrations/` to the writer after it is
 * created, and again whenever the set of migrations changes (its checksum is a property of the
 * custom resource). The same migrations are what the handler tests apply to a local PostgreSQL.
 */
export class SchemaMigration extends Construct {
  /** The migration function. */
  public readonly function: lambda.IFunction;

  constructor(scope: Construct, id: string, props: SchemaMigrationProps) {
    super(scope, id);
    const { naming, database } = props;
    const { function: fn } = new HandlerFunction(this, 'Handler', {
      naming,
      purpose: Purpose.migration,
      contract: MIGRATE,
      variables: {},
      description: 'Applies the versioned schema migrations to the Aurora writer',
      database,
      timeout: Duration.minutes(5),
      memorySize: 256,
      logRetention: props.logRetention,
      sourceMaps: props.sourceMaps,
      tracing: false,
    });
    this.function = fn;

    const provider = handlerProvider(this, 'Provider', {
      onEventHandler: fn,
      functionName: naming.name('function', Purpose.migrationProvider),
      logRetention: props.logRetention,
      handles: 'the migration function',
    });

    if (props.applies) {
      const migration = new CustomResource(this, 'Migration', {
        serviceToken: provider.serviceToken,
        resourceType: 'Custom::SchemaMigration',
        properties: {
          SecretArn: database.secret.secretArn,
          Host: database.clusterEndpoint,
          Port: String(database.port),
          Database: DATABASE_NAME,
          MigrationSetChecksum: migrationFilesChecksum(),
        },
      });
      migration.node.addDependency(database.firstInstance);
    }
  }
}
