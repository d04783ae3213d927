import { MAX_PURPOSE_LENGTH, maxSuffixLength, Naming, Purpose, regionCode } from '../../lib/core/naming';

const naming = new Naming({ appName: 'trading-dr', environmentSuffix: 'dev', account: '123456789012', region: 'us-east-1' });

describe('naming', () => {
  it('builds {type}-{purpose}-{suffix} for names both regions share', () => {
    expect(naming.name('table', Purpose.orderJournal)).toBe('ddb-order-journal-dev');
    expect(naming.name('globalCluster', Purpose.orders)).toBe('aurora-global-orders-dev');
    expect(naming.forRegion('us-east-2').name('table', Purpose.orderJournal)).toBe('ddb-order-journal-dev');
  });

  it('puts the region into IAM names, so the two stages never collide', () => {
    expect(naming.name('role', Purpose.orchestrator)).toBe('role-orchestrator-use1-dev');
    expect(naming.forRegion('us-east-2').name('role', Purpose.orchestrator)).toBe('role-orchestrator-use2-dev');
  });

  it('puts region and account into bucket names, which are global to all of AWS', () => {
    expect(naming.name('bucket', Purpose.config)).toBe('s3-config-use1-123456789012-dev');
  });

  it('abbreviates regions', () => {
    expect(regionCode('us-east-1')).toBe('use1');
    expect(regionCode('ap-southeast-2')).toBe('apse2');
    expect(regionCode('eu-central-1')).toBe('euc1');
    expect(regionCode('us-gov-west-1')).toBe('usgw1');
    expect(() => regionCode('useast1')).toThrow(/not a region name/);
  });

  it('refuses a purpose that is not lower-case words or is too long', () => {
    expect(() => naming.name('table', 'Orders')).toThrow(/purpose 'Orders' must be lower-case/);
    expect(() => naming.name('table', 'a'.repeat(MAX_PURPOSE_LENGTH + 1))).toThrow(/longer than 20/);
  });

  it('fits every kind of name with the longest purpose and the longest allowed suffix', () => {
    const { length } = maxSuffixLength();
    const longest = new Naming({ appName: 'trading-dr', environmentSuffix: 'a'.repeat(length), account: '123456789012', region: 'ap-southeast-2' });
    const purpose = 'p'.repeat(MAX_PURPOSE_LENGTH);
    expect(longest.name('bucket', purpose)).toHaveLength(63);
    for (const kind of ['role', 'function', 'queue', 'dbCluster', 'globalCluster', 'stateMachine', 'rule'] as const) {
      expect(() => longest.name(kind, purpose)).not.toThrow();
    }
  });

  it("starts the WAF log group's name with aws-waf-logs-, as WAF requires, without shortening the suffix budget", () => {
    expect(naming.name('wafLogGroup', Purpose.firewall)).toBe('aws-waf-logs-api-firewall-use1-dev');
    expect(maxSuffixLength().limitedBy).not.toBe('wafLogGroup');
  });

  it('refuses a name that breaks the service rule instead of truncating it', () => {
    const tooLong = new Naming({ appName: 'trading-dr', environmentSuffix: 'a'.repeat(30), account: '123456789012', region: 'us-east-1' });
    expect(() => tooLong.name('bucket', 'p'.repeat(MAX_PURPOSE_LENGTH))).toThrow(/breaks the rule for bucket \(S3 bucket names/);
  });

  it('builds parameter paths under /{app}/{suffix}', () => {
    expect(naming.parameterName('network/vpc-id')).toBe('/trading-dr/dev/network/vpc-id');
    expect(naming.metricNamespace()).toBe('trading-dr/dev');
  });
});
