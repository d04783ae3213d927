import { Arn, ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type { DATABASE_VARIABLES } from '../../lambda/contracts/common';
import type { Variables } from '../../lambda/contracts/environment';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { AppConfig } from '../core/config';
import type { DatabaseConnection } from '../core/database-connection';
import { RegionRole } from '../core/region-settings';
import { SubnetGroup } from '../network/network';
import { Naming, Purpose } from '../core/naming';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** The database the schema migration creates its tables in. */
export const DATABASE_NAME = 'trading';
/** The master user; functions use it through the replicated secret. */
export const MASTER_USERNAME = 'trading_admin';
/** Characters left out of generated passwords: they break connection strings and shell quoting. */
const PASSWORD_EXCLUDED_CHARACTERS = ' %+~`#$&*()|[]{}:;<>?!\'/@"\\';
/** The RDS certificate authority the instances present (RSA 2048, valid to 2061). */
const CA_CERTIFICATE = 'rds-ca-rsa2048-g1';
/** Performance Insights retention in days; 7 is the free tier. */
const PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7;

/** The config keys the database reads (lib/core/config.ts documents and defaults each). */
export type GlobalDatabaseConfig = Pick<
  AppConfig,
  | 'auroraEngineVersion'
  | 'dbInstanceClass'
  | 'dbReaderCount'
  | 'dbPort'
  | 'dbBackupRetentionDays'
  | 'dbSecretRotationDays'
  | 'logRetentionDays'
  | 'databaseMonitoringIntervalSeconds'
>;

export interface GlobalDatabaseProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The primary stage creates the global cluster and its writer; the secondary joins it. */
  readonly role: RegionRole;
  /** The other region of the deployment (where the secret is replicated to, from the primary). */
  readonly peerRegion: string;
  /** This region's VPC; instances go into its `data` subnets. */
  readonly vpc: ec2.IVpc;
  /** This VPC's CIDR, for the clients' egress to the AWS API endpoints. */
  readonly vpcCidr: string;
  /** The peer VPC's CIDR, allowed on the database port (cross-region access over the peering). */
  readonly peerVpcCidr: string;
  /** The engine version, instance class, readers, port, backups, secret rotation and log retention. */
  readonly config: GlobalDatabaseConfig;
  /**
   * Whether this region's cluster is the writer now (config `writerRegion`). Only the secret's
   * rotation follows it: rotation connects to the cluster the secret is attached to, which is a
   * read-only secondary after a failover, so rotation pauses until failback. Nothing else changes,
   * so a deploy after a failover updates no cluster. @default - true in the primary region
   */
  readonly holdsWriter?: boolean;
}

/**
 * This region's member of the Aurora PostgreSQL global database. The primary stage creates the
 * global cluster (by its deterministic identifier) and the writer cluster; the secondary stage
 * creates a cluster that joins the global cluster by that identifier, with no cross-stage
 * reference. Each region has its own KMS key, subnet group, security groups and parameter group;
 * the master secret lives in the primary region and is replicated to the secondary, so the
 * secondary's functions can read it after a promotion without touching the primary region.
 *
 * Built from the L1 resources: the L2 DatabaseCluster always sets master credentials, which a
 * secondary cluster of a global database must not have.
 */
export class GlobalDatabase extends Construct implements DatabaseConnection {
  /**
   * What the global database reports in a region, by name alone. Aurora reports both lags on the
   * secondary member only: in the writer's region they have no data.
   */
  public static metricsIn(naming: Naming) {
    const lag = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/RDS',
        metricName,
        dimensionsMap: { DBClusterIdentifier: naming.name('dbCluster', Purpose.orders) },
        statistic: 'Maximum',
        period: Duration.minutes(1),
        region: naming.region,
      });
    return {
      /** How far this region's cluster is behind the writer, in milliseconds. */
      replicationLag: lag('AuroraGlobalDBReplicationLag'),
      /** The lag that counts against the managed RPO, in milliseconds. */
      rpoLag: lag('AuroraGlobalDBRPOLag'),
    };
  }

  /** This region's VPC (database-facing functions run in its app subnets). */
  public readonly vpc: ec2.IVpc;
  /** This region's cluster identifier. */
  public readonly clusterIdentifier: string;
  /** The global cluster identifier (the same in both regions). */
  public readonly globalClusterIdentifier: string;
  /** The cluster endpoint: the writer when this region is primary, read-only otherwise. */
  public readonly clusterEndpoint: string;
  /** The reader endpoint. */
  public readonly readerEndpoint: string;
  /** Database port. */
  public readonly port: number;
  /** The master secret (in the secondary region: the replica of the primary's secret). */
  public readonly secret: secretsmanager.ISecret;
  /** Attach to any function that talks to the database: it is the only group the database admits. */
  public readonly clientSecurityGroup: ec2.ISecurityGroup;
  /** The database's own security group. */
  public readonly securityGroup: ec2.ISecurityGroup;
  /** The key encrypting storage, Performance Insights and (in the primary) the secret. */
  public readonly key: kms.IKey;
  /** The writer (or, in the secondary, the first) instance; migrations depend on it. */
  public readonly firstInstance: rds.CfnDBInstance;

  /**
   * The variables a database-facing function reads its connection from (DATABASE_VARIABLES in
   * lambda/contracts/common.ts): this region's cluster endpoint and the secret.
   */
  public connectionVariables(): Variables<typeof DATABASE_VARIABLES> {
    return {
      DB_HOST: this.clusterEndpoint,
      DB_PORT: this.port,
      DB_NAME: DATABASE_NAME,
      DB_SECRET_ARN: this.secret.secretArn,
    };
  }

  /** Lets the grantee read the master secret (and decrypt it). */
  public grantConnect(grantee: iam.IGrantable): void {
    this.secret.grantRead(grantee);
  }

  constructor(scope: Construct, id: string, props: GlobalDatabaseProps) {
    super(scope, id);
    const { naming, config } = props;
    this.vpc = props.vpc;
    const isPrimary = props.role === RegionRole.PRIMARY;
    const port = config.dbPort;
    const version = config.auroraEngineVersion;
    const engine = rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.of(version, version.split('.')[0]) });
    this.port = port;
    this.clusterIdentifier = naming.name('dbCluster', Purpose.orders);
    this.globalClusterIdentifier = naming.name('globalCluster', Purpose.orders);

    const key = new kms.Key(this, 'Key', {
      alias: naming.name('keyAlias', Purpose.database),
      description: `Aurora storage, Performance Insights and secret of ${this.clusterIdentifier}`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(7),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.key = key;

    const { securityGroup, clientSecurityGroup } = this.createSecurityGroups(props, port);
    this.securityGroup = securityGroup;
    this.clientSecurityGroup = clientSecurityGroup;

    const subnetGroup = new rds.SubnetGroup(this, 'SubnetGroup', {
      vpc: props.vpc,
      vpcSubnets: { subnetGroupName: SubnetGroup.data },
      subnetGroupName: naming.name('dbSubnetGroup', Purpose.orders),
      description: `Data subnets of ${this.clusterIdentifier}`,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const parameterGroup = new rds.ParameterGroup(this, 'ClusterParameters', {
      engine,
      description: `Cluster parameters of ${this.clusterIdentifier}`,
      parameters: {
        // No managed RPO (rds.global_db_rpo): with two regions, a writer that has lost the other
        // region would pause every commit ("Managing RPOs for Aurora PostgreSQL-based global
        // databases"). Acknowledged orders are protected by the journal instead (README, "Data").
        // Refuse unencrypted connections.
        'rds.force_ssl': '1',
      },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Created here (not implicitly by RDS) so it has a retention and is destroyed with the stack.
    const logGroup = new logs.LogGroup(this, 'PostgresLogs', {
      logGroupName: `/aws/rds/cluster/${this.clusterIdentifier}/postgresql`,
      retention: props.config.logRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    let globalCluster: rds.CfnGlobalCluster | undefined;
    if (isPrimary) {
      globalCluster = new rds.CfnGlobalCluster(this, 'GlobalCluster', {
        globalClusterIdentifier: this.globalClusterIdentifier,
        engine: engine.engineType,
        engineVersion: props.config.auroraEngineVersion,
        storageEncrypted: true,
        deletionProtection: false,
      });
      globalCluster.applyRemovalPolicy(RemovalPolicy.DESTROY);
    }

    const ownedSecret = isPrimary ? this.createSecret(props, key) : undefined;
    const secret: secretsmanager.ISecret = ownedSecret ?? secretsmanager.Secret.fromSecretNameV2(this, 'Secret', naming.name('secret', Purpose.database));
    this.secret = secret;

    const cluster = new rds.CfnDBCluster(this, 'Cluster', {
      dbClusterIdentifier: this.clusterIdentifier,
      engine: engine.engineType,
      engineVersion: props.config.auroraEngineVersion,
      globalClusterIdentifier: this.globalClusterIdentifier,
      dbSubnetGroupName: subnetGroup.subnetGroupName,
      vpcSecurityGroupIds: [securityGroup.securityGroupId],
      dbClusterParameterGroupName: parameterGroup.bindToCluster({}).parameterGroupName,
      port,
      storageEncrypted: true,
      kmsKeyId: key.keyArn,
      enableIamDatabaseAuthentication: true,
      enableCloudwatchLogsExports: ['postgresql'],
      backupRetentionPeriod: props.config.dbBackupRetentionDays,
      copyTagsToSnapshot: true,
      deletionProtection: false,
      // Only the writer cluster of a global database has credentials and creates the database;
      // a secondary cluster receives both by replication.
      ...(ownedSecret
        ? {
            masterUsername: ownedSecret.secretValueFromJson('username').unsafeUnwrap(),
            masterUserPassword: ownedSecret.secretValueFromJson('password').unsafeUnwrap(),
            databaseName: DATABASE_NAME,
          }
        : {}),
    });
    cluster.applyRemovalPolicy(RemovalPolicy.DESTROY);
    cluster.node.addDependency(logGroup);
    if (globalCluster) cluster.node.addDependency(globalCluster);
    this.clusterEndpoint = cluster.attrEndpointAddress;
    this.readerEndpoint = cluster.attrReadEndpointAddress;

    const instances = this.createInstances(props, cluster, engine, key);
    this.firstInstance = instances[0];

    if (ownedSecret) this.attachSecret(ownedSecret, cluster, instances, props, clientSecurityGroup);

    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions-RDS10',
        reason:
          'Deletion protection is off by design: every environment must be destroyable (enforced by DestroyableGuard); production is protected by the pipeline approval and automated backups',
      },
      {
        id: 'AwsSolutions-RDS11',
        reason:
          "The database is reachable only from this deployment's functions and the peer VPC; a non-default port would add no protection, and the port is configurable (dbPort)",
      },
    );
  }

  /** The database's security group (the port from this deployment's functions and the peer VPC) and the one its clients carry. */
  private createSecurityGroups(props: GlobalDatabaseProps, port: number): { securityGroup: ec2.SecurityGroup; clientSecurityGroup: ec2.SecurityGroup } {
    const { naming } = props;
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      securityGroupName: naming.name('securityGroup', Purpose.database),
      description: 'Aurora: database port from this deployment functions and the peer VPC only',
      allowAllOutbound: false,
    });
    const clientSecurityGroup = new ec2.SecurityGroup(this, 'ClientSecurityGroup', {
      vpc: props.vpc,
      securityGroupName: naming.name('securityGroup', Purpose.databaseClients),
      description: 'Functions of this deployment that use the database',
      allowAllOutbound: false,
    });
    securityGroup.addIngressRule(clientSecurityGroup, ec2.Port.tcp(port), "This deployment's functions");
    securityGroup.addIngressRule(ec2.Peer.ipv4(props.peerVpcCidr), ec2.Port.tcp(port), 'The peer region over the VPC peering');
    clientSecurityGroup.addEgressRule(securityGroup, ec2.Port.tcp(port), 'The database');
    clientSecurityGroup.addEgressRule(ec2.Peer.ipv4(props.vpcCidr), ec2.Port.HTTPS, 'AWS APIs through the VPC endpoints');
    return { securityGroup, clientSecurityGroup };
  }

  /** The master secret, created in the primary with a replica in the peer region (which reads it by name). */
  private createSecret(props: GlobalDatabaseProps, key: kms.IKey): rds.DatabaseSecret {
    const ownedSecret = new rds.DatabaseSecret(this, 'Secret', {
      secretName: props.naming.name('secret', Purpose.database),
      username: MASTER_USERNAME,
      encryptionKey: key,
      excludeCharacters: PASSWORD_EXCLUDED_CHARACTERS,
      // The replica uses the secondary region's AWS managed key: a customer key there does
      // not exist yet when the primary deploys.
      replicaRegions: [{ region: props.peerRegion }],
    });
    ownedSecret.applyRemovalPolicy(RemovalPolicy.DESTROY);
    return ownedSecret;
  }

  /** The writer and its readers (promotion tiers in order). */
  private createInstances(props: GlobalDatabaseProps, cluster: rds.CfnDBCluster, engine: rds.IClusterEngine, key: kms.IKey): rds.CfnDBInstance[] {
    const { naming } = props;
    const instanceCount = 1 + props.config.dbReaderCount;
    const monitoringInterval = props.config.databaseMonitoringIntervalSeconds;
    const monitoringRole = monitoringInterval > 0 ? this.createMonitoringRole(naming) : undefined;
    const instances: rds.CfnDBInstance[] = [];
    for (let index = 1; index <= instanceCount; index++) {
      const instance = new rds.CfnDBInstance(this, `Instance${index}`, {
        dbInstanceIdentifier: naming.name('dbInstance', `${Purpose.orders}-${index}`),
        dbClusterIdentifier: cluster.ref,
        engine: engine.engineType,
        dbInstanceClass: `db.${props.config.dbInstanceClass}`,
        caCertificateIdentifier: CA_CERTIFICATE,
        publiclyAccessible: false,
        autoMinorVersionUpgrade: true,
        promotionTier: index - 1,
        enablePerformanceInsights: true,
        performanceInsightsKmsKeyId: key.keyArn,
        performanceInsightsRetentionPeriod: PERFORMANCE_INSIGHTS_RETENTION_DAYS,
        ...(monitoringRole ? { monitoringInterval, monitoringRoleArn: monitoringRole.roleArn } : {}),
      });
      instance.applyRemovalPolicy(RemovalPolicy.DESTROY);
      instances.push(instance);
    }
    return instances;
  }

  /**
   * The role RDS assumes to publish enhanced-monitoring OS metrics, with AWS's managed policy for it.
   * RDS writes the metrics to the account's `RDSOSMetrics` log group, which RDS creates and owns
   * (shared by every instance of the account and region, so no stack can own it).
   */
  private createMonitoringRole(naming: Naming): iam.Role {
    const role = new iam.Role(this, 'MonitoringRole', {
      roleName: naming.name('role', Purpose.databaseMonitoring),
      description: 'Aurora enhanced monitoring: RDS publishes OS metrics to the RDSOSMetrics log group',
      assumedBy: new iam.ServicePrincipal('monitoring.rds.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonRDSEnhancedMonitoringRole')],
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
      reason:
        "AWS's managed policy for enhanced monitoring, kept current by AWS: it reaches only the RDS* log groups (RDSOSMetrics, which RDS creates) " +
        'and only RDS can assume this role',
    });
    return role;
  }

  /** Ties the owned secret to the cluster; rotation runs where the writer is, and is acknowledged as paused elsewhere. */
  private attachSecret(
    ownedSecret: rds.DatabaseSecret,
    cluster: rds.CfnDBCluster,
    instances: rds.CfnDBInstance[],
    props: GlobalDatabaseProps,
    clientSecurityGroup: ec2.ISecurityGroup,
  ): void {
    const isPrimary = props.role === RegionRole.PRIMARY;
    const attachment = new secretsmanager.CfnSecretTargetAttachment(this, 'SecretAttachment', {
      secretId: ownedSecret.secretArn,
      targetId: cluster.ref,
      targetType: 'AWS::RDS::DBCluster',
    });
    if (props.holdsWriter ?? isPrimary) {
      this.addRotation(ownedSecret, attachment, instances, props, clientSecurityGroup);
    } else {
      Validations.of(ownedSecret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Rotation is paused while the writer is in the other region after a failover (writerRegion): it would connect to this read-only cluster; it resumes with the deploy after failback',
      });
    }
  }

  /** Rotation runs where the writer is; the replica in the peer region follows the primary secret. */
  private addRotation(
    secret: rds.DatabaseSecret,
    attachment: secretsmanager.CfnSecretTargetAttachment,
    instances: rds.CfnDBInstance[],
    props: GlobalDatabaseProps,
    clientSecurityGroup: ec2.ISecurityGroup,
  ): void {
    const rotation = new secretsmanager.RotationSchedule(this, 'SecretRotation', {
      secret,
      automaticallyAfter: Duration.days(props.config.dbSecretRotationDays),
      hostedRotation: secretsmanager.HostedRotation.postgreSqlSingleUser({
        functionName: props.naming.name('function', Purpose.secretRotation),
        vpc: props.vpc,
        vpcSubnets: { subnetGroupName: SubnetGroup.app },
        securityGroups: [clientSecurityGroup],
        excludeCharacters: PASSWORD_EXCLUDED_CHARACTERS,
      }),
    });
    rotation.node.addDependency(attachment, ...instances);
  }
}

/** A regional member cluster's ARN, from its deterministic name (so the other region can name it too). */
export function clusterArn(stack: Stack, naming: Naming, region: string): string {
  return Arn.format(
    {
      service: 'rds',
      region,
      resource: 'cluster',
      resourceName: naming.forRegion(region).name('dbCluster', Purpose.orders),
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    },
    stack,
  );
}

/** The global cluster's ARN (global clusters have no region in their ARN). */
export function globalClusterArn(stack: Stack, naming: Naming): string {
  return Arn.format(
    {
      service: 'rds',
      region: '',
      resource: 'global-cluster',
      resourceName: naming.name('globalCluster', Purpose.orders),
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    },
    stack,
  );
}
