import { ACCOUNTS_APP, compareSnapshots, readSnapshot, Snapshot, synthesizeSnapshot } from '../../integ/snapshot';
import { THREE_ACCOUNT_LAYOUT } from '../../integ/integ-config';
import { cfnLintSnapshot } from '../helpers/cfn-lint';

/*
 * The three-account integration test app (integ/integ.accounts.ts), synthesized with the CDK CLI as
 * a deployment would, against its checked-in snapshot: the pipeline and its support stack in the
 * delivery account, and every stack it deploys into the test, backup and production accounts.
 */

let actual: Snapshot;

beforeAll(() => {
  actual = synthesizeSnapshot(ACCOUNTS_APP);
});

describe('the three-account integration snapshot', () => {
  it('matches the app (after a change: `npm run integ:snapshot`, review, commit)', () => {
    expect(compareSnapshots(readSnapshot(ACCOUNTS_APP.snapshotDir), actual)).toEqual([]);
  });

  it('holds the pipeline and its support stack as the test cases, and every stack they deploy', () => {
    const manifest = JSON.parse(actual.get('integ.json')!) as { testCases: Record<string, { stacks: string[]; stackUpdateWorkflow: boolean }> };
    expect(manifest.testCases['Accounts/DefaultTest']).toMatchObject({ stacks: ['DrPipelineSupport', 'DrPipeline'], stackUpdateWorkflow: false });
    const stages = [...actual.keys()].filter((file) => file.startsWith('assembly-')).map((file) => file.split('/')[0]);
    expect(stages).toEqual([
      'assembly-DrPipeline-Dr-prod-backup-use1',
      'assembly-DrPipeline-Dr-prod-backup-use2',
      'assembly-DrPipeline-Dr-prod-use1',
      'assembly-DrPipeline-Dr-prod-use2',
      'assembly-DrPipeline-Dr-test-use1',
      'assembly-DrPipeline-Dr-test-use2',
    ]);
    const pipeline = actual.get('DrPipeline.template.json')!;
    for (const account of [THREE_ACCOUNT_LAYOUT.testAccount, THREE_ACCOUNT_LAYOUT.productionAccount, THREE_ACCOUNT_LAYOUT.backupAccount]) {
      expect(pipeline).toContain(`cdk-hnb659fds-deploy-role-${account}-us-east-1`);
    }
  });

  it('passes cfn-lint with no error and no warning', () => {
    const lint = cfnLintSnapshot(actual);
    expect(lint.error).toBeUndefined();
    expect(lint.output).toBe('');
    expect(lint.status).toBe(0);
  });
});
