import * as path from 'path';
import { CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import * as fs from 'fs';
import { createHash } from 'crypto';
import { DATABASE_NAME, GlobalDatabase } from './global-database';
import { lambdaBundling, LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME } from './lambda-defaults';
import { FunctionRole } from './function-role';
import { SubnetGroup } from './network';
import { Naming, Purpose } from './naming';

/** Where the versioned SQL migrations live (bundled into the function as text). */
export const MIGRATIONS_DIRECTORY = path.join(__dirname, '..', 'lambda', 'migrate', 'migrations');

/**
 * A digest of every migration file, by name and content: a property of the custom resource, so
 * adding a migration changes the template and the deploy applies it.
 */
export function migrationFilesChecksum(directory: string = MIGRATIONS_DIRECTORY): string {
  const hash = createHash('sha256');
  for (const file of fs.readdirSync(directory).filter((name) => name.endsWith('.sql')).sort()) {
    hash.update(file).update('\0').update(fs.readFileSync(path.join(directory, file))).update('\0');
  }
  return hash.digest('hex');
}

export interface SchemaMigrationProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The database to migrate; this region must hold its writer. */
  readonly database: GlobalDatabase;
  /** The VPC the function runs in (to reach the writer). */
  readonly vpc: ec2.IVpc;
  /** Retention of the function's logs. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
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
    const functionName = naming.name('function', Purpose.migration);

    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const { role } = new FunctionRole(this, 'Role', {
      naming,
      purpose: Purpose.migration,
      description: 'Schema migration: reads the database secret, connects to the writer from the VPC',
      inVpc: true,
    });

    const fn = new nodejs.NodejsFunction(this, 'Function', {
      functionName,
      description: 'Applies the versioned schema migrations to the Aurora writer',
      entry: path.join(__dirname, '..', 'lambda', 'migrate', 'index.ts'),
      handler: 'handler',
      runtime: LAMBDA_RUNTIME,
      architecture: LAMBDA_ARCHITECTURE,
      memorySize: 256,
      timeout: Duration.minutes(5),
      role,
      logGroup,
      vpc: props.vpc,
      vpcSubnets: { subnetGroupName: SubnetGroup.app },
      securityGroups: [database.clientSecurityGroup],
      bundling: lambdaBundling(),
      environment: {
        // Node 20+ runtimes trust only Node's own CAs unless told; this bundle holds the RDS CAs.
        NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
        POWERTOOLS_SERVICE_NAME: 'schema-migration',
      },
    });
    database.secret.grantRead(fn);
    this.function = fn;

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: fn,
      providerFunctionName: naming.name('function', Purpose.migrationProvider),
      logGroup: new logs.LogGroup(this, 'ProviderLogs', {
        logGroupName: `/aws/lambda/${naming.name('function', Purpose.migrationProvider)}`,
        retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });

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

    const functionLogicalId = Stack.of(this).getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
    Validations.of(provider).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'The CDK provider framework function only writes its own logs with this AWS managed policy; it holds no data access',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${functionLogicalId}.Arn>:*]`,
        reason: 'The provider framework may invoke any version of the migration function, and only that function',
      },
    );
  }
}
