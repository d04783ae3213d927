import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { DATABASE_VARIABLES } from '../../lambda/contracts/common';
import type { Variables } from '../../lambda/contracts/environment';

/** The variables a database-facing function finds the cluster by (DATABASE_VARIABLES in lambda/contracts/common.ts). */
export type DatabaseVariable = keyof typeof DATABASE_VARIABLES;

/**
 * Everything a function needs to talk to the database, given in one place: the VPC it runs in,
 * the one security group the database admits, the variables it connects with, and the grant to
 * read the credentials. `GlobalDatabase` implements it; a `HandlerFunction` given one applies all
 * four, so no function can have three of them and miss the fourth.
 */
export interface DatabaseConnection {
  /** The VPC the database is in; its functions run in the app subnets. */
  readonly vpc: ec2.IVpc;
  /** The only group the database admits. */
  readonly clientSecurityGroup: ec2.ISecurityGroup;
  /** The connection variables: this region's cluster endpoint, port, database and secret. */
  connectionVariables(): Variables<typeof DATABASE_VARIABLES>;
  /** Lets the grantee read the credentials (and decrypt them). */
  grantConnect(grantee: iam.IGrantable): void;
}
