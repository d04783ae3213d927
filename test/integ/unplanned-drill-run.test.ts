import { parseUnplannedArgs, runUnplannedDrill, UnplannedClients, UnplannedOptions } from '../../integ/unplanned-drill-run';
import { parseConfig } from '../../lib/core/config';

/**
 * The AWS driver of the unplanned drill with scripted answers (Step Functions executions, FIS,
 * SSM and the control table are small fakes here: moto_server 5.2.1 runs no FIS experiment and no
 * prober). The drill's logic itself is checked against the two-region simulation
 * (unplanned-drill.test.ts); this checks what the driver sends and reads.
 */

const ACCOUNT = '111111111111';
const PRIMARY = 'us-east-1';
const SECONDARY = 'us-east-2';

describe('the unplanned drill command line', () => {
  it('alternates the promotion kind by the build number, and takes targets from flags', () => {
    const base = ['--env', 'test', '--api-host', 'api-test.trading.example.com'];
    expect(parseUnplannedArgs([...base, '--build-number', '7']).expectedPromotion).toBe('failover');
    expect(parseUnplannedArgs(base, { CODEBUILD_BUILD_NUMBER: '8' }).expectedPromotion).toBe('switchover');
    expect(parseUnplannedArgs([...base, '--promotion', 'failover', '--build-number', '8']).expectedPromotion).toBe('failover');
    const options = parseUnplannedArgs([...base, '--traffic-target-seconds', '45']);
    expect(options.targets.trafficSeconds).toBe(45);
    expect(options.targets.failoverRunSeconds).toBe(parseConfig({}).maxFailoverDurationSeconds);
  });

  it('refuses a missing host, a bad promotion and an unknown flag, each in one line with the usage', () => {
    expect(() => parseUnplannedArgs(['--env', 'test'])).toThrow(/^--api-host <api.domain> is required\nusage:/);
    expect(() => parseUnplannedArgs(['--env', 'test', '--api-host', 'a.example.com', '--promotion', 'both'])).toThrow(
      /--promotion must be switchover or failover/,
    );
    expect(() => parseUnplannedArgs(['--env', 'test', '--api-host', 'a.example.com', '--fault', 'x'])).toThrow(/unknown argument '--fault'/);
  });
});

interface Execution {
  region: string;
  arn: string;
  mode: string;
  status: string;
  start: number;
  stop?: number;
  promotion?: string;
}

/** A scripted deployment: the fault starts the secondary's unplanned run; stopping it starts the failback. */
function scriptedDeployment(promotion: string) {
  let clock = Date.parse('2026-12-01T10:00:00Z');
  const sent: string[] = [];
  const parameters = new Map<string, string>([
    ['/trading-dr/test/drill/fault-injection-template-id', 'EXT123'],
    ['/trading-dr/test/api/regional-domain-name', 'target'],
  ]);
  const executions: Execution[] = [];
  let dns = 'd-primary.execute-api.us-east-1.amazonaws.com';
  let active = PRIMARY;
  const ssm = (region: string) => ({
    send: async (command: { constructor: { name: string }; input: { Name: string; Value?: string } }) => {
      const name = command.input.Name;
      sent.push(`${region} ${command.constructor.name} ${name}${command.input.Value ? `=${command.input.Value}` : ''}`);
      if (command.constructor.name === 'GetParameterCommand') {
        const value = name.endsWith('regional-domain-name')
          ? `d-${region === PRIMARY ? 'primary' : 'secondary'}.execute-api.${region}.amazonaws.com`
          : parameters.get(name);
        return { Parameter: { Value: value } };
      }
      return {};
    },
  });
  const sfn = (region: string) => ({
    send: async (command: { constructor: { name: string }; input: { executionArn?: string } }) => {
      if (command.constructor.name === 'ListExecutionsCommand') {
        return { executions: executions.filter((each) => each.region === region).map((each) => ({ executionArn: each.arn, startDate: new Date(each.start) })) };
      }
      const execution = executions.find((each) => each.arn === command.input.executionArn)!;
      return {
        status: execution.status,
        input: JSON.stringify({ mode: execution.mode }),
        output: execution.status === 'SUCCEEDED' ? JSON.stringify({ preflight: { promotion: { kind: execution.promotion } }, validation: {} }) : undefined,
        stopDate: execution.stop ? new Date(execution.stop) : undefined,
      };
    },
  });
  const fis = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push(`${command.constructor.name} ${JSON.stringify(command.input)}`);
      if (command.constructor.name === 'StartExperimentCommand') {
        // Detection: 20 s to DNS, 40 s to the prober's run, which ends 60 s later.
        executions.push({ region: SECONDARY, arn: 'arn:sfn:secondary:1', mode: 'unplanned', status: 'RUNNING', start: clock + 40_000 });
        return { experiment: { id: 'EXP1' } };
      }
      executions.push({ region: PRIMARY, arn: 'arn:sfn:primary:1', mode: 'planned', status: 'RUNNING', start: clock + 60_000 });
      return {};
    },
  };
  const clients: UnplannedClients = {
    sfn: { [PRIMARY]: sfn(PRIMARY), [SECONDARY]: sfn(SECONDARY) } as never,
    ssm: { [PRIMARY]: ssm(PRIMARY), [SECONDARY]: ssm(SECONDARY) } as never,
    fis: fis as never,
    documents: {
      send: async () => ({ Item: { pk: 'active-region', activeRegion: active, fencingEpoch: 1 } }),
    } as never,
    resolveCname: async () => [dns],
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
      for (const execution of executions) {
        if (execution.status === 'RUNNING' && clock >= execution.start + 60_000) {
          execution.status = 'SUCCEEDED';
          execution.stop = execution.start + 60_000;
          execution.promotion = execution.region === SECONDARY ? promotion : 'switchover';
          active = execution.region;
          dns = `d-${execution.region === PRIMARY ? 'primary' : 'secondary'}.execute-api.${execution.region}.amazonaws.com`;
        }
      }
      const secondaryRun = executions.find((each) => each.region === SECONDARY);
      if (secondaryRun && clock >= secondaryRun.start - 20_000 && secondaryRun.status === 'RUNNING') dns = 'd-secondary.execute-api.us-east-2.amazonaws.com';
    },
    print: () => undefined,
  };
  return { clients, sent };
}

const options = (expectedPromotion: 'switchover' | 'failover'): UnplannedOptions => ({
  ...parseUnplannedArgs(['--env', 'test', '--api-host', 'api-test.trading.example.com', '--promotion', expectedPromotion]),
  pollMs: 5000,
});

describe('the unplanned drill against scripted AWS answers', () => {
  it("sets the drill's switch in the secondary, starts and stops the experiment, and clears the switch", async () => {
    const { clients, sent } = scriptedDeployment('failover');
    const result = await runUnplannedDrill(options('failover'), ACCOUNT, clients);
    expect(result.problems).toEqual([]);
    expect(result.experimentId).toBe('EXP1');
    expect(result.figures.promotion).toBe('failover');
    const calls = sent.filter((line) => !line.includes('GetParameterCommand'));
    expect(calls).toEqual([
      'us-east-2 PutParameterCommand /trading-dr/test/drill/forced-promotion=failover',
      expect.stringMatching(/^StartExperimentCommand \{"experimentTemplateId":"EXT123"/),
      'StopExperimentCommand {"id":"EXP1"}',
      'us-east-2 DeleteParameterCommand /trading-dr/test/drill/forced-promotion',
    ]);
  });

  it('fails, and still stops the experiment and clears the switch, when the run promotes otherwise', async () => {
    const { clients, sent } = scriptedDeployment('switchover');
    const result = await runUnplannedDrill(options('failover'), ACCOUNT, clients);
    expect(result.ok).toBe(false);
    expect(result.problems).toContain('the unplanned run promoted with switchover, not the failover this drill expected');
    expect(sent.some((line) => line.startsWith('StopExperimentCommand'))).toBe(true);
    expect(sent.at(-1)).toBe('us-east-2 DeleteParameterCommand /trading-dr/test/drill/forced-promotion');
  });

  it('rides out a transient error reading the control item, as the other reads do', async () => {
    const { clients } = scriptedDeployment('failover');
    const documents = clients.documents as unknown as { send: (command: unknown) => Promise<unknown> };
    const read = documents.send;
    let calls = 0;
    documents.send = async (command) => {
      calls += 1;
      if (calls === 2) throw Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ThrottlingException' });
      return read(command);
    };
    const result = await runUnplannedDrill(options('failover'), ACCOUNT, clients);
    expect(result.problems).toEqual([]);
    expect(calls).toBeGreaterThan(2);
  });
});
