import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { z } from 'zod';
import { HEALTH } from '../../lambda/contracts/health';
import { INTAKE, INTAKE_METRICS } from '../../lambda/contracts/intake';
import { ORDER_LOOKUP } from '../../lambda/contracts/order-lookup';
import { OrderRequestSchema } from '../../lambda/contracts/order-request';
import type { ControlTable } from '../data/control-table';
import type { GlobalDatabase } from '../data/global-database';
import type { OrderJournal } from '../data/order-journal';
import type { AppConfig } from '../core/config';
import { HandlerFunction } from '../core/handler-function';
import { serviceMetric } from '../core/service-metric';
import { Naming, Purpose } from '../core/naming';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** The stage every client and health check calls. */
export const API_STAGE_NAME = 'v1';
/** The alias POST /orders calls when intake has provisioned concurrency. */
export const INTAKE_ALIAS = 'live';
/** Route 53 health checkers need an unauthenticated path. */
export const HEALTH_PATH = 'health';

/** The config keys the order API reads (lib/core/config.ts documents and defaults each). */
export type OrderApiConfig = Pick<
  AppConfig,
  | 'journalPendingShards'
  | 'maxOrderBodyBytes'
  | 'apiThrottleRateLimit'
  | 'apiThrottleBurstLimit'
  | 'apiWafRateLimit'
  | 'healthCheckTimeoutMs'
  | 'dbPoolSize'
  | 'logRetentionDays'
  | 'lambdaSourceMaps'
>;

export interface OrderApiProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The deployment's primary region (active before any failover is recorded). */
  readonly primaryRegion: string;
  /** The API's DNS name, `api.<zone>`; the same in both regions. */
  readonly domainName: string;
  /** The zone ACM validates the certificate in. */
  readonly hostedZone: route53.IHostedZone;
  /** The order journal (this region's replica). */
  readonly journal: OrderJournal;
  /** The control table (this region's replica). */
  readonly controlTable: ControlTable;
  /** This region's order queue. */
  readonly queue: sqs.IQueue;
  /** This region's database member; the database-facing functions run in its VPC. */
  readonly database: GlobalDatabase;
  /** Shards, body limit, throttling, firewall, health timeout, pool size and log retention. */
  readonly config: OrderApiConfig;
  /**
   * Intake instances Lambda keeps initialised (provisioned concurrency on a `live` alias, which the
   * route then calls): config's `standbyIntakeProvisionedConcurrency` in the secondary region, 0 in
   * the primary, whose traffic keeps it warm. 0: no alias; the route calls the function.
   */
  readonly warmIntakeInstances: number;
}

/**
 * This region's order API, identical in both regions: a regional REST API with `POST /orders`
 * (intake), `GET /orders/{id}` (lookup) and `GET /health` (the deep check Route 53 probes), the
 * order body validated against a model generated from the same zod schema intake enforces, IAM
 * authorization on the order routes, JSON access logs, stage throttling, X-Ray, a WAF, and the
 * custom domain `api.<zone>` with its own ACM certificate in each region.
 */
export class OrderApi extends Construct {
  /** What the order API reports in a region, by name alone. */
  public static metricsIn(naming: Naming) {
    const api = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiName: naming.name('api', Purpose.api), Stage: API_STAGE_NAME },
        statistic,
        period: Duration.minutes(1),
        region: naming.region,
      });
    return {
      requests: api('Count', 'SampleCount'),
      serverErrors: api('5XXError', 'Sum'),
      clientErrors: api('4XXError', 'Sum'),
      p99Latency: api('Latency', 'p99'),
      /** Orders intake journaled but could not queue (its EMF metric): reconciliation applies them. */
      notQueued: serviceMetric(naming, { service: INTAKE.service, metricName: INTAKE_METRICS.not_queued, statistic: 'Sum' }),
    };
  }

  /** The REST API. */
  public readonly api: apigateway.RestApi;
  /** The custom domain in this region. */
  public readonly domain: apigateway.DomainName;
  /** The intake function. */
  public readonly intake: HandlerFunction;
  /** What POST /orders calls: the `live` alias with provisioned concurrency, or the function itself. */
  public readonly intakeTarget: lambda.IFunction;
  /** The order lookup function. */
  public readonly lookup: HandlerFunction;
  /** The health function. */
  public readonly health: HandlerFunction;

  constructor(scope: Construct, id: string, props: OrderApiProps) {
    super(scope, id);
    const functions = this.createFunctions(props);
    ({ intake: this.intake, lookup: this.lookup, health: this.health } = functions);
    this.intakeTarget =
      props.warmIntakeInstances > 0
        ? new lambda.Alias(this, 'IntakeLive', {
            aliasName: INTAKE_ALIAS,
            version: this.intake.function.currentVersion,
            provisionedConcurrentExecutions: props.warmIntakeInstances,
          })
        : this.intake.function;
    this.api = this.createRestApi(props);
    const healthMethod = this.addRoutes(this.api, { ...functions, intakeTarget: this.intakeTarget });
    this.domain = this.createDomain(props, this.api);
    this.addFirewall(props.naming, this.api, props.config);

    Validations.of(healthMethod).acknowledge(
      { id: 'AwsSolutions-APIG4', reason: 'Route 53 health checkers cannot sign requests; /health reveals only whether the region can serve' },
      { id: 'AwsSolutions-COG4', reason: 'Route 53 health checkers cannot present a Cognito token; /health reveals only whether the region can serve' },
    );
    Validations.of(this.api).acknowledge(
      { id: 'AwsSolutions-COG4', reason: 'The order routes use IAM (SigV4) authorization: trading clients are AWS principals of the firm, not Cognito users' },
      {
        id: 'AwsSolutions-APIG6',
        reason:
          'JSON access logs record every request; execution logging needs the account-wide API Gateway CloudWatch role, which belongs to the account baseline, not to this app',
      },
    );
  }

  /** Intake, lookup and health, each with only the grants it needs. */
  private createFunctions(props: OrderApiProps): { intake: HandlerFunction; lookup: HandlerFunction; health: HandlerFunction } {
    const { naming, database } = props;
    const { config } = props;
    const healthTimeoutMs = config.healthCheckTimeoutMs;
    const intake = new HandlerFunction(this, 'Intake', {
      naming,
      purpose: Purpose.orderIntake,
      contract: INTAKE,
      description: 'POST /orders: validates, journals (both regions) and queues an order',
      logRetention: config.logRetentionDays,
      sourceMaps: config.lambdaSourceMaps,
      variables: {
        JOURNAL_TABLE: props.journal.table.tableName,
        QUEUE_URL: props.queue.queueUrl,
        PENDING_SHARDS: config.journalPendingShards,
        MAX_BODY_BYTES: config.maxOrderBodyBytes,
      },
    });
    props.journal.grantAppend(intake.function);
    props.queue.grantSendMessages(intake.function);

    const lookup = new HandlerFunction(this, 'Lookup', {
      naming,
      purpose: Purpose.orderLookup,
      contract: ORDER_LOOKUP,
      description: 'GET /orders/{id}?accountId=: reads an order from Aurora, falling back to the journal',
      database,
      logRetention: config.logRetentionDays,
      sourceMaps: config.lambdaSourceMaps,
      variables: { JOURNAL_TABLE: props.journal.table.tableName, DB_POOL_SIZE: config.dbPoolSize },
    });
    props.journal.grantReadEntries(lookup.function);

    const health = new HandlerFunction(this, 'Health', {
      naming,
      purpose: Purpose.health,
      contract: HEALTH,
      description: 'GET /health: can this region serve (database, journal, control table)',
      database,
      // Room for the checks (run at once) plus a cold start; Route 53 itself waits 2 s for an answer.
      timeout: Duration.seconds(Math.ceil(healthTimeoutMs / 1000) + 3),
      logRetention: config.logRetentionDays,
      sourceMaps: config.lambdaSourceMaps,
      variables: {
        JOURNAL_TABLE: props.journal.table.tableName,
        CONTROL_TABLE: props.controlTable.table.tableName,
        PRIMARY_REGION: props.primaryRegion,
        CHECK_TIMEOUT_MS: healthTimeoutMs,
      },
    });
    props.journal.grantReadEntries(health.function);
    props.controlTable.grantReadState(health.function);

    return { intake, lookup, health };
  }

  /** The regional REST API, with JSON access logs, tracing and the stage's throttling. */
  private createRestApi(props: OrderApiProps): apigateway.RestApi {
    const { naming } = props;
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      logGroupName: `/aws/apigateway/${naming.name('logGroup', Purpose.apiAccessLogs)}`,
      retention: props.config.logRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const api = new apigateway.RestApi(this, 'Api', {
      restApiName: naming.name('api', Purpose.api),
      description: 'Trading order API (regional; the same in both regions)',
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      cloudWatchRole: false,
      deployOptions: {
        stageName: API_STAGE_NAME,
        tracingEnabled: true,
        metricsEnabled: true,
        throttlingRateLimit: props.config.apiThrottleRateLimit,
        throttlingBurstLimit: props.config.apiThrottleBurstLimit,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
      },
    });
    return api;
  }

  /** POST /orders (body validated against the order model), GET /orders/{id}, and the unauthenticated GET /health (returned). */
  private addRoutes(
    api: apigateway.RestApi,
    functions: { intakeTarget: lambda.IFunction; lookup: HandlerFunction; health: HandlerFunction },
  ): apigateway.Method {
    const orderModel = api.addModel('OrderModel', {
      contentType: 'application/json',
      modelName: 'Order',
      description: 'An order, generated from the zod schema intake enforces',
      schema: orderJsonSchema(),
    });
    const bodyValidator = api.addRequestValidator('BodyValidator', { validateRequestBody: true, validateRequestParameters: true });
    const parameterValidator = api.addRequestValidator('ParameterValidator', { validateRequestBody: false, validateRequestParameters: true });
    api.addGatewayResponse('InvalidBody', {
      type: apigateway.ResponseType.BAD_REQUEST_BODY,
      statusCode: '400',
      templates: {
        'application/json': '{"error":"invalid_order","problems":[{"field":"(body)","rule":"$util.escapeJavaScript($context.error.validationErrorString)"}]}',
      },
    });

    const orders = api.root.addResource('orders');
    orders.addMethod('POST', new apigateway.LambdaIntegration(functions.intakeTarget), {
      authorizationType: apigateway.AuthorizationType.IAM,
      requestValidator: bodyValidator,
      requestModels: { 'application/json': orderModel },
    });
    orders.addResource('{id}').addMethod('GET', new apigateway.LambdaIntegration(functions.lookup.function), {
      authorizationType: apigateway.AuthorizationType.IAM,
      requestValidator: parameterValidator,
      requestParameters: { 'method.request.path.id': true, 'method.request.querystring.accountId': true },
    });
    const healthMethod = api.root.addResource(HEALTH_PATH).addMethod('GET', new apigateway.LambdaIntegration(functions.health.function), {
      authorizationType: apigateway.AuthorizationType.NONE,
    });

    return healthMethod;
  }

  /** The custom domain `api.<zone>` with its DNS-validated certificate, mapped to the stage. */
  private createDomain(props: OrderApiProps, api: apigateway.RestApi): apigateway.DomainName {
    const certificate = new acm.Certificate(this, 'Certificate', {
      domainName: props.domainName,
      validation: acm.CertificateValidation.fromDns(props.hostedZone),
    });
    certificate.applyRemovalPolicy(RemovalPolicy.DESTROY);
    const domain = new apigateway.DomainName(this, 'Domain', {
      domainName: props.domainName,
      certificate,
      endpointType: apigateway.EndpointType.REGIONAL,
      securityPolicy: apigateway.SecurityPolicy.TLS_1_2,
    });
    domain.addBasePathMapping(api, { stage: api.deploymentStage });

    return domain;
  }

  /** AWS managed rule groups plus a per-IP rate limit, in front of the stage, logging every request it inspects. */
  private addFirewall(naming: Naming, api: apigateway.RestApi, config: OrderApiConfig): void {
    const rateLimit = config.apiWafRateLimit;
    const webAclName = naming.name('webAcl', Purpose.firewall);
    const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });
    const managedRule = (name: string, priority: number): wafv2.CfnWebACL.RuleProperty => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
      visibilityConfig: visibility(name),
    });
    const webAcl = new wafv2.CfnWebACL(this, 'Firewall', {
      name: webAclName,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(webAclName),
      rules: [
        managedRule('AWSManagedRulesCommonRuleSet', 1),
        managedRule('AWSManagedRulesKnownBadInputsRuleSet', 2),
        {
          name: 'RateLimitPerIp',
          priority: 3,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: rateLimit, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility('RateLimitPerIp'),
        },
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'FirewallAssociation', {
      webAclArn: webAcl.attrArn,
      resourceArn: Stack.of(this).formatArn({
        service: 'apigateway',
        account: '',
        resource: '/restapis',
        resourceName: `${api.restApiId}/stages/${api.deploymentStage.stageName}`,
      }),
    });
    this.logFirewall(naming, webAcl, config.logRetentionDays);
  }

  /**
   * Sends the web ACL's logs to a log group of its own (encrypted with the stack's log key, like
   * every group). WAF delivers only to a group whose name starts with `aws-waf-logs-`, in the web
   * ACL's region, and adds the group's resource policy itself when logging is enabled (WAF developer
   * guide, "Amazon CloudWatch Logs": https://docs.aws.amazon.com/waf/latest/developerguide/logging-cw-logs.html).
   */
  private logFirewall(naming: Naming, webAcl: wafv2.CfnWebACL, retention: logs.RetentionDays): void {
    const logGroupName = naming.name('wafLogGroup', Purpose.firewall);
    const logGroup = new logs.LogGroup(this, 'FirewallLogs', { logGroupName, retention, removalPolicy: RemovalPolicy.DESTROY });
    const logging = new wafv2.CfnLoggingConfiguration(this, 'FirewallLogging', {
      resourceArn: webAcl.attrArn,
      // The group's ARN without the ':*' that LogGroup.logGroupArn ends with, which WAF refuses.
      logDestinationConfigs: [
        Stack.of(this).formatArn({ service: 'logs', resource: 'log-group', resourceName: logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      ],
    });
    // The ARN is built from the name, so the group must be created first explicitly.
    logging.node.addDependency(logGroup);
  }
}

/**
 * The order model for API Gateway (JSON Schema draft 4), generated from the zod schema intake
 * validates with, so the two cannot drift. Rules JSON Schema cannot state (a limit price exactly
 * for limit orders, decimals above zero) stay with intake.
 */
export function orderJsonSchema(): apigateway.JsonSchema {
  const generated = z.toJSONSchema(OrderRequestSchema, { target: 'draft-4', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const { $schema: _schema, ...schema } = generated;
  return { schema: apigateway.JsonSchemaVersion.DRAFT4, title: 'Order', ...(schema as apigateway.JsonSchema) };
}
