import * as fs from 'fs';
import * as path from 'path';
import type * as cxapi from 'aws-cdk-lib/cx-api';
import { assemblyStacks, findSynthesisErrors } from '../../lib/core/compliance';
import { SynthesizedPipeline, synthPipeline, THREE_ACCOUNTS } from '../helpers/app';
import { cfnLint } from '../helpers/cfn-lint';
import { nagTemplates, templateFilesOf } from '../helpers/template-nag';

/**
 * The pipeline in both account layouts: everything in one account (the defaults), and the
 * delivery, test and production accounts apart with a backup account and delegated zones. Every
 * template of the three-account layout gets the checks the single-account one gets elsewhere
 * (cfn-lint, cdk-nag at template level, the destroyability guard); both layouts' trust policies
 * and resource types are held to the accounts and the bootstrap execution policy.
 */
const single = synthPipeline();
const three = synthPipeline(THREE_ACCOUNTS);
const LAYOUTS: Array<[string, SynthesizedPipeline]> = [
  ['one account', single],
  ['three accounts', three],
];
const { deliveryAccount, testAccount, productionAccount } = THREE_ACCOUNTS;

interface StackOf {
  readonly id: string;
  readonly stackName: string;
  readonly account: string;
  readonly region: string;
  readonly template: Record<string, any>;
}

function stacksOf(assembly: cxapi.CloudAssembly): StackOf[] {
  return assemblyStacks(assembly).map((stack) => ({
    id: stack.id,
    stackName: stack.stackName,
    account: stack.environment.account,
    region: stack.environment.region,
    template: stack.template as Record<string, any>,
  }));
}

type Resource = { Type: string; Properties?: Record<string, any> };
const resourcesOf = (stack: StackOf, type: string): Array<[string, Resource]> =>
  Object.entries<Resource>(stack.template.Resources).filter(([, resource]) => resource.Type === type);

/** A value with every `Fn::Join` of literals and the partition (`arn:${AWS::Partition}:…`) joined, the partition as `aws`. */
function joined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(joined);
  if (typeof value !== 'object' || value === null) return value;
  const object = value as Record<string, unknown>;
  if (object.Ref === 'AWS::Partition') return 'aws';
  const join = object['Fn::Join'] as [string, unknown[]] | undefined;
  if (join !== undefined) {
    const parts = join[1].map(joined);
    if (parts.every((part) => typeof part === 'string')) return parts.join(join[0]);
  }
  return Object.fromEntries(Object.entries(object).map(([key, each]) => [key, joined(each)]));
}

/** A principal, resource or policy as a string, joined as `joined` does. */
function rendered(value: unknown): string {
  const each = joined(value);
  return typeof each === 'string' ? each : JSON.stringify(each);
}

describe('three accounts', () => {
  const stacks = stacksOf(three.assembly);
  const byName = (pattern: RegExp) => stacks.filter((stack) => pattern.test(stack.stackName));

  it('puts the pipeline in the delivery account and each stage in its environment’s account', () => {
    expect(byName(/^stack-delivery-/).map((stack) => stack.account)).toEqual([deliveryAccount, deliveryAccount]);
    expect(byName(/^stack-regional-.*-test$/).map((stack) => `${stack.region}:${stack.account}`)).toEqual([
      `us-east-1:${testAccount}`,
      `us-east-2:${testAccount}`,
    ]);
    expect(byName(/^stack-regional-.*-prod$/).map((stack) => `${stack.region}:${stack.account}`)).toEqual([
      `us-east-1:${productionAccount}`,
      `us-east-2:${productionAccount}`,
    ]);
  });

  it("encrypts both artifact buckets with keys of their own that the environments' deploy roles may use", () => {
    for (const [stackName, region] of [
      ['stack-delivery-use1-pipeline', 'us-east-1'],
      ['stack-delivery-use2-pipeline', 'us-east-2'],
    ]) {
      const [stack] = byName(new RegExp(`^${stackName}$`));
      const keys = resourcesOf(stack, 'AWS::KMS::Key');
      expect(keys).toHaveLength(1);
      const keyPolicy = rendered(keys[0][1].Properties!.KeyPolicy);
      const buckets = resourcesOf(stack, 'AWS::S3::Bucket');
      expect(JSON.stringify(buckets.map(([, bucket]) => bucket.Properties!.BucketEncryption))).toContain('aws:kms');
      const bucketPolicy = rendered(resourcesOf(stack, 'AWS::S3::BucketPolicy').map(([, policy]) => policy.Properties!.PolicyDocument));
      for (const account of [testAccount, productionAccount]) {
        const deployRole = `arn:aws:iam::${account}:role/cdk-hnb659fds-deploy-role-${account}-${region}`;
        expect(keyPolicy).toContain(deployRole);
        expect(bucketPolicy).toContain(deployRole);
      }
      // Kept destroyable, as in one account.
      expect(JSON.stringify(stack.template)).not.toContain('"Retain"');
    }
  });

  it('creates the drill role in the test account’s primary stage only, trusted only by the drill projects’ roles', () => {
    const drillRoles = stacks.flatMap((stack) =>
      resourcesOf(stack, 'AWS::IAM::Role')
        .filter(([, role]) => role.Properties!.RoleName === 'role-drill-use1-test')
        .map(([, role]) => ({ stack: stack.stackName, trust: role.Properties!.AssumeRolePolicyDocument })),
    );
    expect(drillRoles.map((each) => each.stack)).toEqual(['stack-regional-use1-test']);
    expect(rendered(drillRoles[0].trust.Statement)).toBe(
      rendered([
        {
          Action: 'sts:AssumeRole',
          Condition: {
            ArnEquals: {
              'aws:PrincipalArn': ['failover', 'failback', 'unplanned'].map((step) => `arn:aws:iam::${deliveryAccount}:role/role-${step}-drill-use1-pipeline`),
            },
          },
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${deliveryAccount}:root` },
        },
      ]),
    );
  });

  it("production's accounts hold no role the delivery account, or any other account, can assume", () => {
    for (const stack of byName(/^stack-regional-.*-prod$/)) {
      for (const [logicalId, role] of resourcesOf(stack, 'AWS::IAM::Role')) {
        const principals = (role.Properties!.AssumeRolePolicyDocument.Statement as Array<{ Principal: Record<string, unknown> }>).map((each) => each.Principal);
        expect({ logicalId, aws: principals.filter((principal) => 'AWS' in principal) }).toEqual({ logicalId, aws: [] });
      }
    }
  });

  it('lets each drill project only assume the drill role, and the role reach only the test environment', () => {
    const [pipeline] = byName(/^stack-delivery-use1-pipeline$/);
    const drillProjectRoles = resourcesOf(pipeline, 'AWS::IAM::Role').filter(([, role]) => /-drill-use1-pipeline$/.test(role.Properties!.RoleName ?? ''));
    expect(drillProjectRoles).toHaveLength(3);
    const ids = new Set(drillProjectRoles.map(([logicalId]) => logicalId));
    const statements = resourcesOf(pipeline, 'AWS::IAM::Policy')
      .filter(([, policy]) => (policy.Properties!.Roles as Array<{ Ref: string }>).some((role) => ids.has(role.Ref)))
      .flatMap(([, policy]) => policy.Properties!.PolicyDocument.Statement as Array<Record<string, unknown>>);
    const actions = statements.flatMap((statement) => [statement.Action].flat() as string[]);
    expect(actions.filter((action) => /^(states|dynamodb|ssm|fis|cloudwatch):/.test(action))).toEqual([]);
    const assume = statements.filter((statement) => statement.Action === 'sts:AssumeRole');
    expect(assume.map((statement) => rendered(statement.Resource))).toEqual(Array(3).fill(`arn:aws:iam::${testAccount}:role/role-drill-use1-test`));
    const projects = JSON.stringify(resourcesOf(pipeline, 'AWS::CodeBuild::Project'));
    expect(projects.match(/--role-arn arn:/g)).toHaveLength(3);

    const [testPrimary] = byName(/^stack-regional-use1-test$/);
    const drillPolicy = JSON.stringify(resourcesOf(testPrimary, 'AWS::IAM::Policy').filter(([logicalId]) => logicalId.startsWith('DrillAccess')));
    for (const expected of [
      `stateMachine:sfn-failover-use1-test`,
      `stateMachine:sfn-failover-use2-test`,
      'table/ddb-control-test',
      'parameter/trading-dr/test/api/regional-domain-name',
      'parameter/trading-dr/test/drill/forced-promotion',
      `s3-audit-logs-use2-${testAccount}-test/drills/test/*`,
      'fis:StartExperiment',
    ]) {
      expect(drillPolicy).toContain(expected);
    }
    expect(drillPolicy).not.toContain('-prod');
    expect(drillPolicy).not.toContain(productionAccount);
  });

  it("delegates each environment's own zone from the parent zone through the named role, in the primary stage only", () => {
    const delegations = stacks.flatMap((stack) =>
      resourcesOf(stack, 'Custom::CrossAccountZoneDelegation').map(([, resource]) => ({ stack: stack.stackName, properties: resource.Properties! })),
    );
    expect(delegations.map(({ stack, properties }) => [stack, properties.DelegatedZoneName, properties.ParentZoneId, properties.AssumeRoleArn]).sort()).toEqual(
      [
        ['stack-regional-use1-prod', 'trading.example.com', THREE_ACCOUNTS.parentHostedZoneId, THREE_ACCOUNTS.dnsDelegationRoleArn],
        ['stack-regional-use1-test', 'trading-test.example.com', THREE_ACCOUNTS.parentHostedZoneId, THREE_ACCOUNTS.dnsDelegationRoleArn],
      ],
    );
    // The records, health checks and certificates stay in each environment's account, in its own zone.
    for (const stack of byName(/^stack-regional-/)) {
      const zone = stack.stackName.endsWith('-test') ? 'trading-test.example.com' : 'trading.example.com';
      for (const [, record] of resourcesOf(stack, 'AWS::Route53::RecordSet'))
        expect(record.Properties!.Name).toBe(`${stack.stackName.endsWith('-test') ? 'api-test' : 'api'}.${zone}.`);
      for (const [, certificate] of resourcesOf(stack, 'AWS::CertificateManager::Certificate'))
        expect(certificate.Properties!.DomainName).toMatch(new RegExp(`\\.${zone.replace(/\./g, '\\.')}$`));
    }
  });

  it("copies production's recovery points, and only production's, into the backup account's vault of the same region", () => {
    const vaults = byName(/^stack-backup-copies-/);
    expect(vaults.map((stack) => `${stack.region}:${stack.account}`)).toEqual([
      `us-east-1:${THREE_ACCOUNTS.backupAccount}`,
      `us-east-2:${THREE_ACCOUNTS.backupAccount}`,
    ]);
    for (const stack of vaults) {
      const [[, vault]] = resourcesOf(stack, 'AWS::Backup::BackupVault');
      expect(vault.Properties!.AccessPolicy.Statement).toEqual([
        { Action: 'backup:CopyIntoBackupVault', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${productionAccount}:root` }, Resource: '*' },
      ]);
      expect(JSON.stringify(stack.template)).not.toContain('"Retain"');
    }
    for (const stack of byName(/^stack-regional-/)) {
      const [[, plan]] = resourcesOf(stack, 'AWS::Backup::BackupPlan');
      const destinations = (plan.Properties!.BackupPlan.BackupPlanRule[0].CopyActions as Array<{ DestinationBackupVaultArn: string }>).map(
        (action) => action.DestinationBackupVaultArn,
      );
      const backupVault = `arn:aws:backup:${stack.region}:${THREE_ACCOUNTS.backupAccount}:backup-vault:vault-backup-copies-prod`;
      expect(destinations.includes(backupVault)).toBe(stack.stackName.endsWith('-prod'));
      // The keys of what is copied may be used by the backup account (production only).
      const keyPolicies = rendered(resourcesOf(stack, 'AWS::KMS::Key').map(([, key]) => key.Properties!.KeyPolicy));
      expect(keyPolicies.includes(`arn:aws:iam::${THREE_ACCOUNTS.backupAccount}:root`)).toBe(stack.stackName.endsWith('-prod'));
    }
  });

  it('deploys the backup vaults after the approval and before production', () => {
    const [pipeline] = byName(/^stack-delivery-use1-pipeline$/);
    const [[, codePipeline]] = resourcesOf(pipeline, 'AWS::CodePipeline::Pipeline');
    const stageNames = (codePipeline.Properties!.Stages as Array<{ Name: string; Actions: Array<{ Name: string; RunOrder: number }> }>).map(
      (stage) => stage.Name,
    );
    expect(stageNames.filter((name) => name.startsWith('Dr-'))).toEqual(['Dr-test-use1', 'Dr-test-use2', 'Dr-prod-backup', 'Dr-prod-use1', 'Dr-prod-use2']);
    const backupStage = (codePipeline.Properties!.Stages as Array<{ Name: string; Actions: Array<{ Name: string; RunOrder: number }> }>).find(
      (stage) => stage.Name === 'Dr-prod-backup',
    )!;
    expect([...backupStage.Actions].sort((a, b) => a.RunOrder - b.RunOrder)[0].Name).toBe('PromoteToProduction');
  });
});

describe.each(LAYOUTS)('every template of the pipeline (%s)', (_layout, layout) => {
  it('passes the destroyability guard and cdk-nag in the app, cdk-nag at template level, and cfn-lint', () => {
    expect(findSynthesisErrors(layout.assembly)).toEqual([]);
    const files = templateFilesOf(layout.assembly);
    // The pipeline, its support stack, four stages, and with a backup account its two vaults.
    expect(files.size).toBe(layout.config.backupAccount === undefined ? 6 : 8);
    expect(nagTemplates(files)).toEqual([]);
    const lint = cfnLint([...files.values()]);
    expect(lint.error).toBeUndefined();
    expect(lint.output).toBe('');
    expect(lint.status).toBe(0);
  });
});

/** The accounts a role's trust may name, by the account the role lives in. */
function intendedAccounts(layout: SynthesizedPipeline, roleName: unknown, ownAccount: string): string[] {
  const delivery = layout.config.deliveryAccount ?? layout.config.account;
  return roleName === 'role-drill-use1-test' ? [delivery] : [ownAccount];
}

/** Every trust that names an account other than the intended ones, or another account without naming its roles. */
function trustViolations(layout: SynthesizedPipeline, stacks: StackOf[]): { violations: string[]; checked: number } {
  const violations: string[] = [];
  let checked = 0;
  for (const stack of stacks) {
    for (const [logicalId, role] of resourcesOf(stack, 'AWS::IAM::Role')) {
      const where = `${stack.stackName}/${logicalId}`;
      for (const statement of role.Properties!.AssumeRolePolicyDocument.Statement as Array<Record<string, any>>) {
        if (statement.NotPrincipal !== undefined || statement.Principal?.Federated !== undefined) violations.push(`${where}: NotPrincipal or Federated`);
        for (const principal of [statement.Principal?.AWS ?? []].flat()) {
          checked += 1;
          // A role of the same stack (Fn::GetAtt) is in the stack's account.
          const local = typeof principal === 'object' && 'Fn::GetAtt' in principal;
          const text = rendered(principal);
          const account = local ? stack.account : (/:iam::(\d{12}):/.exec(text)?.[1] ?? (text.includes('AWS::AccountId') ? stack.account : text));
          const intended = intendedAccounts(layout, role.Properties!.RoleName, stack.account);
          if (!intended.includes(account)) violations.push(`${where}: trusts ${account}, not ${intended.join(' or ')}`);
          // Another account's root is trusted only for the roles its condition names, all in that account.
          if (account !== stack.account) {
            const arns = [statement.Condition?.ArnEquals?.['aws:PrincipalArn'] ?? []].flat().map(rendered);
            if (arns.length === 0 || !arns.every((arn: string) => arn.includes(`:iam::${account}:role/`))) {
              violations.push(`${where}: trusts ${account} without naming its roles`);
            }
          }
        }
      }
    }
  }
  return { violations, checked };
}

describe.each(LAYOUTS)('every IAM trust policy (%s)', (_layout, layout) => {
  const stacks = stacksOf(layout.assembly);

  it('lets no principal outside the intended accounts assume a role', () => {
    const { violations, checked } = trustViolations(layout, stacks);
    expect(violations).toEqual([]);
    expect(checked).toBeGreaterThan(0);
  });

  it('finds a role trusting another account, and the drill role trusting the delivery account without naming its roles', () => {
    const prod = stacks.find((each) => each.stackName === 'stack-regional-use1-prod')!;
    const testPrimary = stacks.find((each) => each.stackName === 'stack-regional-use1-test')!;
    const trusting = (account: string, roleName: string) => ({
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: roleName,
        AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` } }] },
      },
    });
    const delivery = layout.config.deliveryAccount ?? layout.config.account;
    const tampered = [
      { ...prod, template: { Resources: { Stray: trusting('999999999999', 'role-stray-use1-prod') } } },
      { ...testPrimary, template: { Resources: { Drill: trusting(delivery, 'role-drill-use1-test') } } },
    ];
    expect(trustViolations(layout, tampered).violations).toEqual([
      `stack-regional-use1-prod/Stray: trusts 999999999999, not ${prod.account}`,
      'stack-regional-use1-prod/Stray: trusts 999999999999 without naming its roles',
      ...(delivery === testPrimary.account ? [] : [`stack-regional-use1-test/Drill: trusts ${delivery} without naming its roles`]),
    ]);
  });
});

/** The bootstrap execution policy kept in the repository (README, "Three accounts"). */
const EXECUTION_POLICY = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'bootstrap', 'execution-policy.json'), 'utf8')) as {
  Statement: Array<{ Action: string[]; Resource: string | string[] }>;
};
const ALLOWED_ACTIONS = new Set(EXECUTION_POLICY.Statement.flatMap((statement) => statement.Action));

/** The IAM service prefix of a CloudFormation resource type where it is not the type's service in lower case. */
const SERVICE_PREFIXES: Record<string, string> = { CertificateManager: 'acm', StepFunctions: 'states' };

/** What CloudFormation needs to create a resource of `type`, as the actions the policy must allow. */
function actionsFor(type: string): string[] {
  if (type === 'AWS::CDK::Metadata') return [];
  // Custom resources: CloudFormation invokes the provider function.
  if (type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource') return ['lambda:*'];
  const service = /^AWS::(\w+)::/.exec(type)?.[1];
  if (service === undefined) throw new Error(`not a CloudFormation resource type: ${type}`);
  if (service === 'IAM')
    return type === 'AWS::IAM::Role'
      ? ['iam:CreateRole', 'iam:PassRole']
      : type === 'AWS::IAM::Policy'
        ? ['iam:PutRolePolicy']
        : [`iam:Create${type.slice(10)}`];
  return [`${SERVICE_PREFIXES[service] ?? service.toLowerCase()}:*`];
}

describe.each(LAYOUTS)('the bootstrap execution policy (%s)', (_layout, layout) => {
  const stacks = stacksOf(layout.assembly);

  it('allows every resource type the templates contain', () => {
    const types = new Set(stacks.flatMap((stack) => Object.values<Resource>(stack.template.Resources).map((resource) => resource.Type)));
    const missing = [...types].flatMap((type) =>
      actionsFor(type)
        .filter((action) => !ALLOWED_ACTIONS.has(action))
        .map((action) => `${type}: ${action}`),
    );
    expect(missing).toEqual([]);
    expect(types.size).toBeGreaterThan(40);
  });

  it('allows the hosted rotation transform where a template uses it', () => {
    // The AWS::SecretsManager transform puts the rotation function in a nested stack built from AWS's
    // rotation function templates (CloudFormation template reference, "AWS::SecretsManager transform").
    const transforms = new Set(stacks.flatMap((stack) => [stack.template.Transform ?? []].flat()));
    expect([...transforms]).toEqual([expect.stringMatching(/^AWS::SecretsManager-\d{4}-\d{2}-\d{2}$/)]);
    for (const action of ['cloudformation:CreateChangeSet', 'serverlessrepo:GetCloudFormationTemplate', 'serverlessrepo:CreateCloudFormationTemplate']) {
      expect(ALLOWED_ACTIONS.has(action)).toBe(true);
    }
  });

  it('covers every role the stacks create, named or named by CloudFormation after its stack, and nothing else in IAM', () => {
    const iamResources = EXECUTION_POLICY.Statement.filter((statement) => statement.Action.some((action) => action.startsWith('iam:')))
      .flatMap((statement) => [statement.Resource].flat())
      .map((arn) => new RegExp(`^${arn.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`));
    expect(ALLOWED_ACTIONS.has('iam:*')).toBe(false);
    for (const stack of stacks) {
      for (const [logicalId, role] of resourcesOf(stack, 'AWS::IAM::Role')) {
        // An unnamed role is named by CloudFormation `{stack name}-{logical id}-{random}`.
        const name = typeof role.Properties!.RoleName === 'string' ? role.Properties!.RoleName : `${stack.stackName}-${logicalId}`;
        const arn = `arn:aws:iam::${stack.account}:role/${name}`;
        expect({ arn, allowed: iamResources.some((pattern) => pattern.test(arn)) }).toEqual({ arn, allowed: true });
      }
    }
  });
});

/** A policy document kept in bootstrap/, with its placeholders filled as the README's guide fills them. */
function bootstrapDocument(file: string, values: Record<string, string>): Record<string, any> {
  let text = fs.readFileSync(path.join(__dirname, '..', '..', 'bootstrap', file), 'utf8');
  for (const [placeholder, value] of Object.entries(values)) text = text.split(placeholder).join(value);
  return JSON.parse(text) as Record<string, any>;
}

describe("the parent zone's delegation role (bootstrap/dns-delegation-*.json)", () => {
  const stacks = stacksOf(three.assembly);
  const values = {
    PARENT_ZONE_ID: THREE_ACCOUNTS.parentHostedZoneId,
    PRODUCTION_DOMAIN: 'trading.example.com',
    TEST_DOMAIN: THREE_ACCOUNTS.testDomainName,
    TEST_ACCOUNT: testAccount,
    PRODUCTION_ACCOUNT: productionAccount,
    TEST_SUFFIX: 'test',
    PRODUCTION_SUFFIX: 'prod',
  };
  const policy = bootstrapDocument('dns-delegation-policy.json', values);
  const trust = bootstrapDocument('dns-delegation-trust.json', values);
  const delegations = stacks.flatMap((stack) =>
    resourcesOf(stack, 'Custom::CrossAccountZoneDelegation').map(([, resource]) => ({ stack, properties: resource.Properties! })),
  );

  it('lets the record be written by zone id (CDK’s handler looks the zone up by name only when given no id)', () => {
    expect(delegations).toHaveLength(2);
    for (const { properties } of delegations) {
      expect(properties.ParentZoneId).toBe(THREE_ACCOUNTS.parentHostedZoneId);
      expect(properties.ParentZoneName).toBeUndefined();
    }
    const [statement] = policy.Statement;
    expect(statement.Action).toBe('route53:ChangeResourceRecordSets');
    expect(statement.Resource).toBe(`arn:aws:route53:::hostedzone/${THREE_ACCOUNTS.parentHostedZoneId}`);
    expect(statement.Condition['ForAllValues:StringEquals']['route53:ChangeResourceRecordSetsNormalizedRecordNames'].sort()).toEqual(
      delegations.map(({ properties }) => properties.DelegatedZoneName).sort(),
    );
  });

  it("is assumable by each primary stage's delegation handler, whose role CloudFormation names after its stack, and by no other role", () => {
    const [statement] = trust.Statement;
    const patterns = (statement.Condition.ArnLike['aws:PrincipalArn'] as string[]).map((arn) => new RegExp(`^${arn.replace(/\*/g, '.*')}$`));
    for (const { stack } of delegations) {
      const [[logicalId]] = resourcesOf(stack, 'AWS::IAM::Role').filter(([id]) => id.startsWith('CustomCrossAccountZoneDelegation'));
      const handlerRole = `arn:aws:iam::${stack.account}:role/${stack.stackName}-${logicalId}`.slice(0, 64 + `arn:aws:iam::${stack.account}:role/`.length);
      expect(patterns.some((pattern) => pattern.test(handlerRole))).toBe(true);
      expect(patterns.some((pattern) => pattern.test(`arn:aws:iam::${stack.account}:role/role-health-use1-prod`))).toBe(false);
    }
    expect(statement.Principal.AWS.sort()).toEqual([`arn:aws:iam::${testAccount}:root`, `arn:aws:iam::${productionAccount}:root`].sort());
  });
});
