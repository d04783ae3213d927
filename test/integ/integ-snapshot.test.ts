import { cfnLintSnapshot } from '../helpers/cfn-lint';
import { canonicalize, compareSnapshots, readSnapshot, Snapshot, synthesizeSnapshot } from '../../integ/snapshot';

/*
 * The integration test app (integ/integ.failover.ts), synthesized with the CDK CLI as a deployment
 * would, against its checked-in snapshot; and the assertions it would run in an account, read from
 * the synthesized assertion stack.
 */

let actual: Snapshot;

beforeAll(() => {
  actual = synthesizeSnapshot();
});

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string[] }> };

function template(snapshot: Snapshot, pattern: RegExp): { file: string; body: Template } {
  const files = [...snapshot.keys()].filter((file) => pattern.test(file));
  expect(files).toHaveLength(1);
  return { file: files[0], body: JSON.parse(snapshot.get(files[0])!) as Template };
}

function withTemplate(snapshot: Snapshot, file: string, change: (body: Template) => void): Snapshot {
  const body = JSON.parse(snapshot.get(file)!) as Template;
  change(body);
  return new Map(snapshot).set(file, `${JSON.stringify(body, null, 1)}\n`);
}

describe('the integration test snapshot', () => {
  it('matches the app (after a change: `npm run integ:snapshot`, review, commit)', () => {
    expect(compareSnapshots(readSnapshot(), actual)).toEqual([]);
  });

  it('holds the test manifest and the templates of both stages and of the assertion stack', () => {
    expect([...actual.keys()]).toEqual([
      expect.stringMatching(/^assembly-Dr-integ-use1\/Drinteguse1Regional[0-9A-F]+\.template\.json$/),
      expect.stringMatching(/^assembly-Dr-integ-use2\/Drinteguse2IntegAssertions[0-9A-F]+\.template\.json$/),
      expect.stringMatching(/^assembly-Dr-integ-use2\/Drinteguse2Regional[0-9A-F]+\.template\.json$/),
      'integ.json',
    ]);
    const manifest = JSON.parse(actual.get('integ.json')!) as {
      testCases: Record<string, { stacks: string[]; assertionStack: string; stackUpdateWorkflow: boolean }>;
    };
    expect(manifest.testCases['Failover/DefaultTest']).toMatchObject({
      stacks: ['Dr-integ-use1/Regional', 'Dr-integ-use2/Regional'],
      assertionStack: 'Dr-integ-use2/IntegAssertions',
      stackUpdateWorkflow: false,
    });
  });

  it("reports a changed, a removed and an added resource inside a stage's stack, by name", () => {
    const { file } = template(actual, /Dr-integ-use1\/.*Regional/);
    const resources = Object.keys(template(actual, /Dr-integ-use1\/.*Regional/).body.Resources);
    const [changed, removed] = resources;
    const tampered = withTemplate(actual, file, (body) => {
      body.Resources[changed] = { ...body.Resources[changed], Properties: { ...body.Resources[changed].Properties, Tampered: true } };
      delete body.Resources[removed];
      body.Resources.Extra = { Type: 'AWS::SNS::Topic' };
    });
    expect(compareSnapshots(tampered, actual).sort()).toEqual(
      [`${file}: Resources.${changed} changed`, `${file}: Resources.${removed} added`, `${file}: Resources.Extra removed`].sort(),
    );
  });

  it('reports a template that is no longer synthesized and one that is new', () => {
    const { file } = template(actual, /IntegAssertions/);
    const without = new Map(actual);
    without.delete(file);
    expect(compareSnapshots(actual, without)).toEqual([`${file}: in the snapshot, no longer synthesized`]);
    expect(compareSnapshots(without, actual)).toEqual([`${file}: synthesized, not in the snapshot`]);
  });

  it("ignores asset hashes and the assertions' salt, and nothing else", () => {
    const hash = (digit: string) => digit.repeat(64);
    expect(canonicalize({ S3Key: `${hash('a')}.zip`, salt: '1764100000000' })).toEqual({ S3Key: 'ASSET_HASH.zip', salt: 'SALT' });
    expect(canonicalize({ S3Key: `${hash('b')}.zip`, salt: '1764100000001' })).toEqual(canonicalize({ S3Key: `${hash('a')}.zip`, salt: '1764100000000' }));
    expect(canonicalize({ salt: 'pepper', Name: 'a'.repeat(63) })).toEqual({ salt: 'pepper', Name: 'a'.repeat(63) });
  });

  it('passes cfn-lint with no error and no warning', () => {
    const lint = cfnLintSnapshot(actual);
    expect(lint.error).toBeUndefined();
    expect(lint.output).toBe('');
    expect(lint.status).toBe(0);
  });
});

describe('the assertions the integration test runs in an account', () => {
  /** The assertion custom resources in the order their DependsOn chain runs them, with what each calls. */
  function assertionChain(): { id: string; type: string; properties: Record<string, unknown> }[] {
    const resources = template(actual, /IntegAssertions/).body.Resources;
    const assertions = Object.entries(resources).filter(([, resource]) => resource.Type.startsWith('Custom::DeployAssert@'));
    const ids = new Set(assertions.map(([id]) => id));
    const previous = new Map(assertions.map(([id, resource]) => [id, (resource.DependsOn ?? []).filter((dep) => ids.has(dep))]));
    const ordered: string[] = [];
    let next = assertions.find(([id]) => previous.get(id)!.length === 0)?.[0];
    while (next !== undefined) {
      ordered.push(next);
      const current = next;
      next = assertions.find(([id]) => previous.get(id)!.includes(current))?.[0];
    }
    expect(ordered).toHaveLength(assertions.length);
    return ordered.map((id) => ({ id, type: resources[id].Type.replace('Custom::DeployAssert@', ''), properties: resources[id].Properties ?? {} }));
  }

  const expected = (properties: Record<string, unknown>) => JSON.parse(properties.expected as string) as unknown;

  it('checks health, fails over, checks the control table and DNS, then waits for the automatic failback, in that order', () => {
    expect(assertionChain().map((step) => step.type)).toEqual([
      'HttpCall', // the primary's /health
      'HttpCall', // the secondary's /health
      'SdkCallSFNstartExecution',
      'SdkCallSFNdescribeExecution',
      'SdkCallDynamoDBgetItem', // active region: the secondary
      'SdkCallRoute53testDNSAnswer', // the API name answers with the secondary's target
      'HttpCall', // the secondary still serves
      'SdkCallDynamoDBgetItem', // active region: the primary again (the prober's failback)
      'SdkCallRoute53testDNSAnswer', // and the answer is the primary's target
    ]);
  });

  it("starts the secondary's failover state machine in planned mode and expects SUCCEEDED", () => {
    const chain = assertionChain();
    const start = chain[2].properties.parameters as { stateMachineArn: unknown; input: string };
    expect(JSON.stringify(start.stateMachineArn)).toContain('FailoverOrchestratorStateMachine');
    expect(JSON.parse(JSON.parse(start.input) as string)).toEqual({ mode: 'planned', reason: expect.stringContaining('integ-tests-alpha') });
    expect(expected(chain[3].properties)).toEqual({ $ObjectLike: { status: 'SUCCEEDED' } });
  });

  it('expects the secondary, then the primary, as the active region and as the DNS answer', () => {
    const chain = assertionChain();
    expect(JSON.stringify(expected(chain[4].properties))).toContain('"S":"us-east-2"');
    expect(JSON.stringify(expected(chain[7].properties))).toContain('"S":"us-east-1"');
    expect(JSON.stringify(expected(chain[5].properties))).toContain('execute-api\\\\.us-east-2\\\\.');
    expect(JSON.stringify(expected(chain[8].properties))).toContain('execute-api\\\\.us-east-1\\\\.');
  });

  it('gives every assertion a waiter, so a failed one fails the deployment outside integ-runner', () => {
    // A call without an expectation (the StartExecution) fails its custom resource when it throws.
    const checks = assertionChain().filter((step) => step.properties.expected !== undefined);
    expect(checks).toHaveLength(8);
    for (const step of checks) expect({ id: step.id, waiter: step.properties.stateMachineArn }).toEqual({ id: step.id, waiter: expect.anything() });
  });
});
