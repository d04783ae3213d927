import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { ROLE_ARN } from '../lib/core/config-fields';

/**
 * `--role-arn`, common to every drill: the role to drill as. The pipeline's drill steps run in the
 * delivery account and give the test environment's drill role (lib/failover/drill-access.ts); an
 * operator with credentials in the environment's own account gives none.
 */

export const ROLE_ARN_FLAG = '--role-arn';

/** A provider of temporary credentials, as the SDK's clients take it. */
export type CredentialsProvider = ReturnType<typeof fromTemporaryCredentials>;

/** The role named by `--role-arn` and the arguments without it; a malformed one is a usage error (the message). */
export function takeRoleArn(argv: readonly string[]): { roleArn?: string; rest: string[]; problem?: string } {
  const index = argv.indexOf(ROLE_ARN_FLAG);
  if (index < 0) return { rest: [...argv] };
  const roleArn = argv[index + 1];
  const rest = [...argv.slice(0, index), ...argv.slice(index + 2)];
  if (roleArn === undefined || roleArn.startsWith('--')) return { rest, problem: `${ROLE_ARN_FLAG} needs a value` };
  if (rest.includes(ROLE_ARN_FLAG)) return { rest, problem: `${ROLE_ARN_FLAG} given twice` };
  if (!ROLE_ARN.test(roleArn))
    return { rest, problem: `${ROLE_ARN_FLAG} must be an IAM role ARN such as arn:aws:iam::123456789012:role/name, not '${roleArn}'` };
  return { roleArn, rest };
}

/** Seconds each set of the role's credentials lasts: the most a role chain (CodeBuild's role, then this one) allows. */
const SESSION_SECONDS = 3600;

/**
 * Credentials of `roleArn`, assumed with whatever credentials the process has and renewed before
 * they expire (a drill can outlast one session: the unplanned one waits for the failback).
 */
export function assumedRoleCredentials(roleArn: string, sessionName: string, region: string): CredentialsProvider {
  return fromTemporaryCredentials({
    params: { RoleArn: roleArn, RoleSessionName: sessionName.replace(/[^\w+=,.@-]/g, '-').slice(0, 64), DurationSeconds: SESSION_SECONDS },
    clientConfig: { region, maxAttempts: 3 },
  });
}
