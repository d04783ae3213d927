import { RUNTIME_VARIABLES } from '../../lambda/contracts/environment';
import { FUNCTION_CONTRACTS } from '../../lambda/contracts';
import { synthDeployment } from '../helpers/app';

/**
 * Every function the app deploys against the contract its handler reads its environment with
 * (lambda/contracts/): the synthesized templates of both regions, so a variable renamed, dropped
 * or added on either side fails here, not at the function's cold start on AWS. The function is
 * known by POWERTOOLS_SERVICE_NAME, which HandlerFunction sets from the contract.
 */

const { templates } = synthDeployment();

/** Variables HandlerFunction sets on every function, outside any contract. */
const HANDLER_FUNCTION_VARIABLES = new Set(['POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE', 'NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS']);

interface DeployedFunction {
  readonly stack: string;
  readonly logicalId: string;
  readonly variables: Record<string, unknown>;
  readonly properties: Record<string, any>;
}

/** The functions HandlerFunction built (the ones with a service name), across every template. */
function deployedFunctions(): DeployedFunction[] {
  const found: DeployedFunction[] = [];
  for (const [stack, template] of templates) {
    for (const [logicalId, resource] of Object.entries<Record<string, any>>(template.Resources ?? {})) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const variables = resource.Properties?.Environment?.Variables as Record<string, unknown> | undefined;
      if (variables?.POWERTOOLS_SERVICE_NAME !== undefined) found.push({ stack, logicalId, variables, properties: resource.Properties });
    }
  }
  return found;
}

describe('function contracts against the synthesized templates', () => {
  const functions = deployedFunctions();
  const byService = new Map(FUNCTION_CONTRACTS.map((contract) => [contract.service, contract]));

  it('gives every contract its own service name, and finds each one deployed', () => {
    expect(byService.size).toBe(FUNCTION_CONTRACTS.length);
    const deployed = new Set(functions.map((fn) => String(fn.variables.POWERTOOLS_SERVICE_NAME)));
    expect(FUNCTION_CONTRACTS.map((contract) => contract.service).filter((service) => !deployed.has(service))).toEqual([]);
    // Both regions' functions are checked (the prober runs in one region only).
    expect(new Set(functions.map((fn) => fn.stack)).size).toBe(2);
  });

  it("sets exactly each function's contract variables, and every literal value passes the handler's own rule", () => {
    const problems: string[] = [];
    for (const fn of functions) {
      const contract = byService.get(String(fn.variables.POWERTOOLS_SERVICE_NAME));
      const where = `${fn.stack}/${fn.logicalId}`;
      if (!contract) {
        problems.push(`${where}: service ${String(fn.variables.POWERTOOLS_SERVICE_NAME)} has no contract`);
        continue;
      }
      const shape = contract.environment.shape;
      const expected = Object.keys(shape).filter((name) => !(RUNTIME_VARIABLES as readonly string[]).includes(name));
      const actual = Object.keys(fn.variables).filter((name) => !HANDLER_FUNCTION_VARIABLES.has(name));
      for (const name of expected) if (!(name in fn.variables)) problems.push(`${where} (${contract.service}): ${name} is read by the handler but not set`);
      for (const name of actual) if (!(name in shape)) problems.push(`${where} (${contract.service}): ${name} is set but the handler does not read it`);
      for (const name of expected) {
        const value = fn.variables[name];
        // A token (a Ref or a join) is known only at deploy time; its shape is the construct's type.
        if (typeof value !== 'string') continue;
        const parsed = shape[name]['~standard'].validate(value);
        if ('issues' in parsed && parsed.issues)
          problems.push(`${where} (${contract.service}): ${name}=${JSON.stringify(value)}: ${parsed.issues.map((issue) => issue.message).join('; ')}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('runs every function that reads the database connection in the VPC, in the group the database admits, able to read the secret', () => {
    const problems: string[] = [];
    const databaseFunctions = functions.filter((fn) => 'DB_HOST' in fn.variables);
    for (const fn of databaseFunctions) {
      const where = `${fn.stack}/${fn.logicalId} (${String(fn.variables.POWERTOOLS_SERVICE_NAME)})`;
      const groups = JSON.stringify(fn.properties.VpcConfig?.SecurityGroupIds ?? []);
      if (!groups.includes('DatabaseClientSecurityGroup')) problems.push(`${where}: not in the database's client security group`);
      const resources = templates.get(fn.stack)?.Resources ?? {};
      const roleId = fn.properties.Role?.['Fn::GetAtt']?.[0];
      const statements = Object.values<Record<string, any>>(resources)
        .filter((resource) => resource.Type === 'AWS::IAM::Policy' && JSON.stringify(resource.Properties.Roles).includes(`"${roleId}"`))
        .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
      // The secondary names the primary's replica by its name alone: the grant then ends in `-??????`, the suffix Secrets Manager adds.
      const secret = fn.variables.DB_SECRET_ARN;
      const granted = (resource: unknown) =>
        JSON.stringify(resource) === JSON.stringify(secret) || (typeof secret === 'string' && resource === `${secret}-??????`);
      const readsSecret = statements.some(
        (statement) => [statement.Action].flat().includes('secretsmanager:GetSecretValue') && [statement.Resource].flat().some(granted),
      );
      if (!readsSecret) problems.push(`${where}: may not read the secret its DB_SECRET_ARN names`);
    }
    // Lookup, health, processor and reconcile, in both regions.
    expect(databaseFunctions.length).toBe(8);
    expect(problems).toEqual([]);
  });

  it("names, in every alarm and dashboard widget on a handler's own metric, the service that handler publishes under", () => {
    // Powertools adds `service` (POWERTOOLS_SERVICE_NAME, the contract's service) to every metric,
    // and CloudWatch matches a metric by all its dimensions: any other value watches nothing.
    const services = new Set(FUNCTION_CONTRACTS.map((contract) => contract.service));
    const watched: string[] = [];
    for (const [stack, template] of templates) {
      for (const [logicalId, resource] of Object.entries<Record<string, any>>(template.Resources ?? {})) {
        if (resource.Type === 'AWS::CloudWatch::Alarm') {
          const dimensions = [
            resource.Properties.Dimensions ?? [],
            ...(resource.Properties.Metrics ?? []).map((m: any) => m.MetricStat?.Metric?.Dimensions ?? []),
          ].flat();
          for (const dimension of dimensions) if (dimension.Name === 'service') watched.push(`${stack}/${logicalId}:${String(dimension.Value)}`);
        }
        if (resource.Type === 'AWS::CloudWatch::Dashboard') {
          const body = resource.Properties.DashboardBody;
          const text = typeof body === 'string' ? body : (body['Fn::Join'][1] as unknown[]).filter((part) => typeof part === 'string').join('');
          for (const [, service] of text.matchAll(/"service","([^"]+)"/g)) watched.push(`${stack}/${logicalId}:${service}`);
        }
      }
    }
    expect(watched.length).toBeGreaterThan(0);
    expect(watched.filter((entry) => !services.has(entry.slice(entry.lastIndexOf(':') + 1)))).toEqual([]);
  });
});
