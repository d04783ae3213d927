import { Match, Template } from 'aws-cdk-lib/assertions';
import { orderJsonSchema } from '../../lib/order-path/order-api';
import { synthDeployment } from '../helpers/app';

const { deployment } = synthDeployment();
const primary = Template.fromStack(deployment.primary.regionalStack);
const secondary = Template.fromStack(deployment.secondary.regionalStack);

function methodFor(template: Template, httpMethod: string, pathPart: string): Record<string, any> {
  const resources = template.findResources('AWS::ApiGateway::Resource', { Properties: { PathPart: pathPart } });
  const [resourceId] = Object.keys(resources);
  const methods = template.findResources('AWS::ApiGateway::Method', { Properties: { HttpMethod: httpMethod, ResourceId: { Ref: resourceId } } });
  expect(Object.keys(methods)).toHaveLength(1);
  return Object.values(methods)[0];
}

describe('order API', () => {
  it.each([
    ['primary', primary],
    ['secondary', secondary],
  ])('is a regional REST API in the %s region with tracing, throttling and JSON access logs', (_role, template) => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: true,
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000, MetricsEnabled: true })],
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"') },
    });
  });

  it('routes POST /orders to intake with IAM auth and the order model', () => {
    const post = methodFor(primary, 'POST', 'orders');
    expect(post.Properties.AuthorizationType).toBe('AWS_IAM');
    expect(post.Properties.RequestModels).toEqual({ 'application/json': { Ref: expect.stringMatching(/OrderModel/) } });
    expect(post.Properties.RequestValidatorId).toEqual({ Ref: expect.stringMatching(/BodyValidator/) });
    expect(JSON.stringify(post.Properties.Integration.Uri)).toMatch(/OrderApiIntake/);
  });

  it('routes GET /orders/{id}?accountId= to the lookup with IAM auth, both parts of the key required', () => {
    const get = methodFor(primary, 'GET', '{id}');
    expect(get.Properties.AuthorizationType).toBe('AWS_IAM');
    expect(get.Properties.RequestParameters).toEqual({ 'method.request.path.id': true, 'method.request.querystring.accountId': true });
  });

  it('leaves GET /health open for Route 53 health checkers', () => {
    expect(methodFor(primary, 'GET', 'health').Properties.AuthorizationType).toBe('NONE');
  });

  it('validates bodies against a model generated from the intake schema', () => {
    primary.hasResourceProperties('AWS::ApiGateway::Model', {
      Name: 'Order',
      Schema: Match.objectLike({
        $schema: 'http://json-schema.org/draft-04/schema#',
        required: ['clientOrderId', 'accountId', 'symbol', 'side', 'orderType', 'quantity'],
        additionalProperties: false,
      }),
    });
    expect(orderJsonSchema().properties?.side).toEqual({ type: 'string', enum: ['buy', 'sell'] });
  });

  it('serves api.<zone> in each region with its own DNS-validated certificate and TLS 1.2', () => {
    for (const template of [primary, secondary]) {
      template.hasResourceProperties('AWS::CertificateManager::Certificate', {
        DomainName: 'api.trading.example.com',
        ValidationMethod: 'DNS',
        DomainValidationOptions: [{ DomainName: 'api.trading.example.com', HostedZoneId: Match.anyValue() }],
      });
      template.hasResourceProperties('AWS::ApiGateway::DomainName', {
        DomainName: 'api.trading.example.com',
        EndpointConfiguration: { Types: ['REGIONAL'] },
        SecurityPolicy: 'TLS_1_2',
      });
      template.resourceCountIs('AWS::ApiGateway::BasePathMapping', 1);
    }
  });

  it('creates the hosted zone in the primary and reads its id in the secondary', () => {
    primary.hasResourceProperties('AWS::Route53::HostedZone', { Name: 'trading.example.com.' });
    secondary.resourceCountIs('AWS::Route53::HostedZone', 0);
    secondary.hasResourceProperties('Custom::PeerParameter', {
      Create: Match.serializedJson(Match.objectLike({ parameters: { Name: '/trading-dr/dev/dns/hosted-zone-id' }, region: 'us-east-1' })),
    });
  });

  it('puts a WAF with managed rules and a per-IP rate limit in front of the stage', () => {
    primary.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      Rules: Match.arrayWith([
        Match.objectLike({ Name: 'AWSManagedRulesCommonRuleSet' }),
        Match.objectLike({ Name: 'RateLimitPerIp', Statement: { RateBasedStatement: { Limit: 20000, AggregateKeyType: 'IP' } } }),
      ]),
    });
    primary.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
  });

  it('runs every function on Node.js 24, arm64, with X-Ray and JSON logs', () => {
    for (const name of ['fn-order-intake-use1-dev', 'fn-order-lookup-use1-dev', 'fn-health-use1-dev', 'fn-order-processor-use1-dev']) {
      primary.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: name,
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      });
    }
  });

  it('keeps intake out of the VPC and puts the database-facing functions in it', () => {
    primary.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'fn-order-intake-use1-dev', VpcConfig: Match.absent() });
    primary.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'fn-health-use1-dev',
      VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }),
    });
  });

  it('gives the health function a timeout that fits its checks', () => {
    primary.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'fn-health-use1-dev',
      Timeout: 5,
      Environment: { Variables: Match.objectLike({ CHECK_TIMEOUT_MS: '1500' }) },
    });
  });
});

describe('a warm standby intake', () => {
  it('has no alias by default: POST /orders calls the function in both regions', () => {
    for (const template of [primary, secondary]) {
      template.resourceCountIs('AWS::Lambda::Alias', 0);
      expect(JSON.stringify(methodFor(template, 'POST', 'orders').Properties.Integration.Uri)).not.toContain('IntakeLive');
    }
  });

  it('keeps standbyIntakeProvisionedConcurrency instances initialised in the secondary only, and routes POST /orders to them', () => {
    const warm = synthDeployment({ standbyIntakeProvisionedConcurrency: '3' }).deployment;
    const warmSecondary = Template.fromStack(warm.secondary.regionalStack);
    const warmPrimary = Template.fromStack(warm.primary.regionalStack);
    warmSecondary.hasResourceProperties('AWS::Lambda::Alias', { Name: 'live', ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 3 } });
    const [aliasId] = Object.keys(warmSecondary.findResources('AWS::Lambda::Alias'));
    expect(JSON.stringify(methodFor(warmSecondary, 'POST', 'orders').Properties.Integration.Uri)).toContain(aliasId);
    // API Gateway may invoke the alias (the permission names it, not the bare function).
    const permissions = Object.values(warmSecondary.findResources('AWS::Lambda::Permission')).filter((permission) =>
      JSON.stringify(permission.Properties.FunctionName).includes(aliasId),
    );
    expect(permissions.length).toBeGreaterThan(0);
    warmPrimary.resourceCountIs('AWS::Lambda::Alias', 0);
  });
});
