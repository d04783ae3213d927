import * as path from 'path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { FunctionContract, Shape, Variables } from '../../lambda/contracts/environment';
import type { DatabaseConnection, DatabaseVariable } from './database-connection';
import { FunctionRole } from './function-role';
import { lambdaBundling, LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME, sourceMapEnvironment } from './lambda-defaults';
import { SubnetGroup } from '../network/network';
import { Naming } from './naming';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** Where handler code lives: `lambda/<folder>/index.ts`, exporting `handler`. */
const LAMBDA_ROOT = path.join(__dirname, '..', '..', 'lambda');

interface HandlerFunctionBaseProps<S extends Shape> {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The function's purpose: names the function, its role and its log group. */
  readonly purpose: string;
  /** The handler's contract (lambda/contracts/): its code folder, service name and environment. */
  readonly contract: FunctionContract<S>;
  /** What the function does. */
  readonly description: string;
  /** Timeout. @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** Memory in MB (CPU scales with it). @default 512 */
  readonly memorySize?: number;
  /** Log retention (config's `logRetentionDays`). */
  readonly logRetention: logs.RetentionDays;
  /** The source map in the package, used by Node.js (config's `lambdaSourceMaps`); otherwise kept in the build output. */
  readonly sourceMaps: boolean;
  /** X-Ray active tracing. @default true */
  readonly tracing?: boolean;
}

/**
 * A contract that reads the database's variables takes `database`, which supplies them (and the
 * VPC, the security group and the secret grant); `variables` holds the rest. Any other contract
 * may connect too (the migration gets its connection from the custom resource's properties), and
 * `variables` holds all of its variables but the runtime's.
 */
type ConnectionProps<S extends Shape> = 'DB_HOST' extends keyof S
  ? { readonly database: DatabaseConnection; readonly variables: Omit<Variables<S>, DatabaseVariable> }
  : {
      /** The database this function connects to. @default - none: outside any VPC */
      readonly database?: DatabaseConnection;
      readonly variables: Variables<S>;
    };

export type HandlerFunctionProps<S extends Shape> = HandlerFunctionBaseProps<S> & ConnectionProps<S>;

/**
 * A handler from `lambda/`, built the same way everywhere: bundled by the local esbuild with the
 * shared options (so both regions get the same package), the newest Node.js on arm64, a role
 * without managed policies, its own JSON log group destroyed with the stack, X-Ray tracing, and
 * Powertools' service name.
 */
export class HandlerFunction<S extends Shape = Shape> extends Construct {
  /** What a function reports, by name alone: errors, throttles and the error rate (metric math). */
  public static metricsOf(functionName: string, region: string) {
    const metric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/Lambda',
        metricName,
        dimensionsMap: { FunctionName: functionName },
        statistic: 'Sum',
        period: Duration.minutes(1),
        region,
      });
    const errors = metric('Errors');
    const invocations = metric('Invocations');
    return {
      errors,
      invocations,
      throttles: metric('Throttles'),
      /** Errors as a share of invocations, in percent (0 with no invocations). */
      errorRate: new cloudwatch.MathExpression({
        expression: 'IF(invocations > 0, 100 * errors / invocations, 0)',
        usingMetrics: { errors, invocations },
        label: `${functionName} error rate (%)`,
        period: Duration.minutes(1),
      }),
    };
  }

  /** The function. */
  public readonly function: nodejs.NodejsFunction;
  /** Its execution role, for grants. */
  public readonly role: iam.IRole;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps<S>) {
    super(scope, id);
    const tracing = props.tracing ?? true;
    const { database } = props;
    const readsConnection = database !== undefined && 'DB_HOST' in props.contract.environment.shape;
    const variables = (readsConnection ? { ...props.variables, ...database.connectionVariables() } : props.variables) as Variables<S>;
    const { role, functionName } = new FunctionRole(this, 'Role', {
      naming: props.naming,
      purpose: props.purpose,
      description: props.description,
      inVpc: props.database !== undefined,
      tracing,
    });
    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      functionName,
      description: props.description,
      entry: path.join(LAMBDA_ROOT, props.contract.codeFolder, 'index.ts'),
      handler: 'handler',
      runtime: LAMBDA_RUNTIME,
      architecture: LAMBDA_ARCHITECTURE,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      bundling: lambdaBundling({ name: functionName, sourceMapInPackage: props.sourceMaps }),
      ...(database ? { vpc: database.vpc, vpcSubnets: { subnetGroupName: SubnetGroup.app }, securityGroups: [database.clientSecurityGroup] } : {}),
      environment: {
        POWERTOOLS_SERVICE_NAME: props.contract.service,
        // Every function's custom metrics in the deployment's namespace, where alarms look for them.
        POWERTOOLS_METRICS_NAMESPACE: props.naming.metricNamespace(),
        ...sourceMapEnvironment(props.sourceMaps),
        ...(database
          ? {
              // Node 20+ runtimes trust only Node's own CAs unless told; this bundle holds the RDS CAs.
              NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
            }
          : {}),
        ...props.contract.environment.toEnvironment(variables),
      },
    });
    this.role = role;
    database?.grantConnect(this.function);
  }
}
