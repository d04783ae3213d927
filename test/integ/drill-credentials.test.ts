import { execFile } from 'child_process';
import * as path from 'path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { assumedRoleCredentials, takeRoleArn } from '../../integ/drill-credentials';

/**
 * `--role-arn`: the pipeline's drill steps drill as the test account's drill role. The role is
 * assumed on moto_server's STS (the jest global setup), which answers AssumeRole with credentials
 * of the assumed role as AWS does.
 */

const ROLE = 'arn:aws:iam::333333333333:role/role-drill-use1-test';

describe('--role-arn', () => {
  test('is taken out of the arguments, wherever it stands', () => {
    expect(takeRoleArn(['--env', 'test', '--role-arn', ROLE, '--target', 'us-east-2'])).toEqual({
      roleArn: ROLE,
      rest: ['--env', 'test', '--target', 'us-east-2'],
    });
    expect(takeRoleArn(['--unplanned', '--env', 'test'])).toEqual({ rest: ['--unplanned', '--env', 'test'] });
  });

  test.each([
    [['--role-arn'], '--role-arn needs a value'],
    [['--role-arn', '--env', 'test'], '--role-arn needs a value'],
    [['--role-arn', ROLE, '--role-arn', ROLE], '--role-arn given twice'],
    [
      ['--role-arn', 'arn:aws:iam::3333:role/x'],
      "--role-arn must be an IAM role ARN such as arn:aws:iam::123456789012:role/name, not 'arn:aws:iam::3333:role/x'",
    ],
    [['--role-arn', 'arn:aws:s3:::bucket'], "--role-arn must be an IAM role ARN such as arn:aws:iam::123456789012:role/name, not 'arn:aws:s3:::bucket'"],
  ])('%j is refused: %s', (argv, problem) => {
    expect(takeRoleArn(argv).problem).toBe(problem);
  });

  test("the drill's clients act as the role: STS answers the assumed role's identity", async () => {
    const credentials = assumedRoleCredentials(ROLE, 'drill-test', 'us-east-1');
    const identity = await new STSClient({ region: 'us-east-1', credentials }).send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toBe('333333333333');
    expect(identity.Arn).toBe('arn:aws:sts::333333333333:assumed-role/role-drill-use1-test/drill-test');
    const fresh = await credentials();
    expect(fresh.accessKeyId).not.toBe(process.env.AWS_ACCESS_KEY_ID);
    expect(fresh.expiration).toBeInstanceOf(Date);
  });

  test('the command refuses a malformed role with exit 2 and the usage', async () => {
    const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [require.resolve('tsx/cli'), 'integ/drill-run.ts', '--env', 'test', '--role-arn', 'drill'],
        { env: process.env, cwd: path.join(__dirname, '..', '..') },
        (error, _stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stderr }),
      );
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("drill: --role-arn must be an IAM role ARN such as arn:aws:iam::123456789012:role/name, not 'drill'");
    expect(result.stderr).toContain('usage: npm run drill -- --env <suffix>');
  });
});
