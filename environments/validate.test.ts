import { describe, expect, it } from 'vitest';
import { dev } from './dev';
import { environmentFile, loadEnvironments } from './load';
import { ConfigError, formatProblem, type Problem } from './problem';
import { prod } from './prod';
import { staging } from './staging';
import { validateEnvironment, valueAt } from './validate';

type Declared = Record<string, unknown>;

/** A deep copy of `base` with each dotted path set to its value (undefined deletes the field). */
function withValues(base: object, changes: Record<string, unknown>): Declared {
  const copy = structuredClone(base) as Declared;
  for (const [path, value] of Object.entries(changes)) {
    const keys = path.split('.');
    const last = keys.pop()!;
    const parent = keys.reduce<Declared>((node, key) => node[key] as Declared, copy);
    if (value === undefined) delete parent[last];
    else parent[last] = value;
  }
  return copy;
}

function problemsOf(input: Declared, name = String(input.name)): Problem[] {
  const result = validateEnvironment(input, name, environmentFile(name as 'dev'));
  return result.ok ? [] : [...result.problems];
}

describe('the shipped environments', () => {
  it('are all valid, in the order dev, staging, prod', () => {
    expect(loadEnvironments().map((env) => env.name)).toEqual(['dev', 'staging', 'prod']);
  });
});

describe('field rules', () => {
  const cases: Array<[string, Declared, string, string]> = [
    ['negative brokers', withValues(dev, { 'kafka.brokers': -1 }), 'kafka.brokers', 'must be at least 1'],
    ['fractional brokers', withValues(dev, { 'kafka.brokers': 1.5 }), 'kafka.brokers', 'must be a whole number'],
    ['brokers as text', withValues(dev, { 'kafka.brokers': '3' }), 'kafka.brokers', 'must be a number'],
    ['a missing field', withValues(dev, { 'hdfs.datanodes': undefined }), 'hdfs.datanodes', 'is required'],
    ['an unknown field', withValues(dev, { 'kafka.partitions': 3 }), 'kafka.partitions', 'is not a known field (known: brokers,'],
    ['an unknown top-level field', withValues(dev, { owner: 'me' }), 'owner', 'is not a known field'],
    ['a malformed CIDR', withValues(dev, { 'network.vpcCidr': '10.10.0/16' }), 'network.vpcCidr', 'must be an IPv4 CIDR'],
    ['a CIDR octet above 255', withValues(dev, { 'network.vpcCidr': '10.300.0.0/16' }), 'network.vpcCidr', 'octets between 0 and 255'],
    ['a CIDR with host bits', withValues(dev, { 'network.vpcCidr': '10.10.0.1/16' }), 'network.vpcCidr', 'did you mean 10.10.0.0/16'],
    ['a VPC larger than AWS allows', withValues(dev, { 'network.vpcCidr': '10.0.0.0/8' }), 'network.vpcCidr', 'between /16 and /24'],
    ['a bad public access CIDR', withValues(dev, { 'cluster.publicAccessCidrs': ['1.2.3.4/33'] }), 'cluster.publicAccessCidrs.0', 'prefix length between 0 and 32'],
    ['an unknown environment name', withValues(dev, { name: 'qa' }), 'name', 'must be one of "dev", "staging", "prod"'],
    ['an unsupported EKS version', withValues(dev, { 'cluster.kubernetesVersion': '1.29' }), 'cluster.kubernetesVersion', 'must be one of "1.34"'],
    ['a short account id', withValues(dev, { 'aws.accountId': '12345' }), 'aws.accountId', 'must be a 12-digit AWS account id'],
    ['a malformed region', withValues(dev, { 'aws.region': 'Frankfurt' }), 'aws.region', 'must be an AWS region'],
    ['no node group', withValues(dev, { 'cluster.nodeGroups': [] }), 'cluster.nodeGroups', 'must define at least one node group'],
    ['an empty owner tag', withValues(dev, { 'tags.owner': '' }), 'tags.owner', 'must be 1-256 characters'],
    ['a git URL without scheme', withValues(dev, { 'gitops.repoUrl': 'github.com/x/y' }), 'gitops.repoUrl', 'must be a Git URL'],
    ['a revision with spaces', withValues(dev, { 'gitops.revision': 'my branch' }), 'gitops.revision', 'without spaces'],
    ['retainData as text', withValues(dev, { retainData: 'yes' }), 'retainData', 'must be a boolean'],
    ['an invalid state bucket name', withValues(dev, { 'aws.stateBucket': 'My_State' }), 'aws.stateBucket', 'must be an S3 bucket name'],
    ['an admin that is not a role ARN', withValues(dev, { 'cluster.adminRoleArns': ['admin'] }), 'cluster.adminRoleArns.0', 'must be an IAM role ARN'],
    ['no cluster admin', withValues(dev, { 'cluster.adminRoleArns': [] }), 'cluster.adminRoleArns', 'must name at least one IAM role'],
    ['a zero noncurrent-version retention', withValues(dev, { 'dataLake.noncurrentVersionDays': 0 }), 'dataLake.noncurrentVersionDays', 'must be at least 1'],
  ];
  it.each(cases)('rejects %s', (_, input, field, rule) => {
    const problems = problemsOf(input, 'dev');
    expect(problems.map((p) => p.field)).toContain(field);
    expect(problems.find((p) => p.field === field)!.rule).toContain(rule);
  });

  it('names the environment, file, field, value and rule in one line', () => {
    const [problem] = problemsOf(withValues(prod, { 'kafka.brokers': -1 }));
    expect(formatProblem(problem!)).toBe(
      "environments/prod.ts: environment 'prod': 'kafka.brokers' must be at least 1, got -1",
    );
  });

  it('rejects a file whose name field differs from its file name', () => {
    const problems = problemsOf(withValues(dev, { name: 'staging' }), 'dev');
    expect(problems).toEqual([expect.objectContaining({ field: 'name', value: 'staging', rule: "must be 'dev', the name of its file" })]);
  });

  it('rejects something that is not an object at all', () => {
    expect(problemsOf(42 as unknown as Declared, 'dev')).toEqual([expect.objectContaining({ field: '', rule: 'must be an object' })]);
  });
});

describe('cross-field rules', () => {
  const cases: Array<[string, Declared, Declared, string, string]> = [
    [
      'min in-sync replicas below brokers',
      withValues(staging, { 'kafka.minInSyncReplicas': 2 }),
      withValues(staging, { 'kafka.minInSyncReplicas': 3 }),
      'kafka.minInSyncReplicas',
      'must be below kafka.brokers (3)',
    ],
    [
      'replication factor within brokers',
      withValues(staging, { 'kafka.defaultReplicationFactor': 3 }),
      withValues(staging, { 'kafka.defaultReplicationFactor': 4 }),
      'kafka.defaultReplicationFactor',
      'must not exceed kafka.brokers (3)',
    ],
    [
      'min in-sync replicas within the replication factor',
      withValues(prod, { 'kafka.brokers': 5, 'kafka.defaultReplicationFactor': 3, 'kafka.minInSyncReplicas': 3 }),
      withValues(prod, { 'kafka.brokers': 5, 'kafka.defaultReplicationFactor': 3, 'kafka.minInSyncReplicas': 4 }),
      'kafka.minInSyncReplicas',
      'must not exceed kafka.defaultReplicationFactor (3)',
    ],
    [
      'an odd number of dedicated controllers',
      withValues(prod, { 'kafka.controllers': 5 }),
      withValues(prod, { 'kafka.controllers': 4 }),
      'kafka.controllers',
      'must be 0 (brokers also act as KRaft controllers) or odd',
    ],
    [
      'an odd number of brokers when they are also controllers',
      withValues(dev, { 'kafka.controllers': 0, 'kafka.brokers': 3 }),
      withValues(dev, { 'kafka.controllers': 0, 'kafka.brokers': 2 }),
      'kafka.brokers',
      'must be odd when kafka.controllers is 0',
    ],
    [
      'HDFS replication within datanodes',
      withValues(staging, { 'hdfs.dfsReplication': 3 }),
      withValues(staging, { 'hdfs.dfsReplication': 4 }),
      'hdfs.dfsReplication',
      'must not exceed hdfs.datanodes (3)',
    ],
    [
      'an odd number of journalnodes',
      withValues(prod, { 'hdfs.journalnodes': 5 }),
      withValues(prod, { 'hdfs.journalnodes': 4 }),
      'hdfs.journalnodes',
      'must be odd',
    ],
    [
      'a journal quorum for HA namenodes',
      withValues(prod, { 'hdfs.namenodes': 2, 'hdfs.journalnodes': 3 }),
      withValues(prod, { 'hdfs.namenodes': 2, 'hdfs.journalnodes': 1 }),
      'hdfs.journalnodes',
      'must be at least 3 when hdfs.namenodes is 2',
    ],
    [
      'a VPC large enough for a public and a private subnet per AZ',
      withValues(prod, { 'network.vpcCidr': '10.30.0.0/23' }),
      withValues(prod, { 'network.vpcCidr': '10.30.0.0/24' }),
      'network.vpcCidr',
      'is too small for 3 AZs: public subnets would be /29, below the AWS minimum /28 (use /23 or larger)',
    ],
    [
      'cluster admins from the environment account',
      withValues(prod, { 'cluster.adminRoleArns': ['arn:aws:iam::333333333333:role/ops'] }),
      withValues(prod, { 'cluster.adminRoleArns': ['arn:aws:iam::333333333333:role/ops', 'arn:aws:iam::999999999999:role/ops'] }),
      'cluster.adminRoleArns.1',
      "must be a role in the environment's account 333333333333",
    ],
    [
      'at most one NAT gateway per AZ',
      withValues(prod, { 'network.natGateways': 3 }),
      withValues(prod, { 'network.natGateways': 4 }),
      'network.natGateways',
      'must not exceed network.azCount (3)',
    ],
    [
      'allowed networks for a public endpoint',
      withValues(dev, { 'cluster.privateEndpoint': false, 'cluster.publicAccessCidrs': ['203.0.113.0/24'] }),
      withValues(dev, { 'cluster.privateEndpoint': false, 'cluster.publicAccessCidrs': [] }),
      'cluster.publicAccessCidrs',
      'must list the networks allowed to reach a public API endpoint',
    ],
    [
      'no public endpoint open to the internet',
      withValues(dev, { 'cluster.publicAccessCidrs': ['198.51.100.0/24'] }),
      withValues(dev, { 'cluster.publicAccessCidrs': ['198.51.100.0/24', '0.0.0.0/0'] }),
      'cluster.publicAccessCidrs.1',
      'must be /8 or narrower',
    ],
    [
      'no public access list with a private endpoint',
      withValues(prod, { 'cluster.privateEndpoint': true, 'cluster.publicAccessCidrs': [] }),
      withValues(prod, { 'cluster.privateEndpoint': true, 'cluster.publicAccessCidrs': ['203.0.113.0/24'] }),
      'cluster.publicAccessCidrs',
      'must be empty when cluster.privateEndpoint is true',
    ],
    [
      'a desired node count within the group bounds',
      withValues(dev, { 'cluster.nodeGroups.0.desiredSize': 4 }),
      withValues(dev, { 'cluster.nodeGroups.0.desiredSize': 5 }),
      'cluster.nodeGroups.0.desiredSize',
      'must lie between minSize (1) and maxSize (4)',
    ],
    [
      'unique node group names',
      withValues(dev, { 'cluster.nodeGroups': [dev.cluster.nodeGroups[0], { ...dev.cluster.nodeGroups[0], name: 'memory' }] }),
      withValues(dev, { 'cluster.nodeGroups': [dev.cluster.nodeGroups[0], dev.cluster.nodeGroups[0]] }),
      'cluster.nodeGroups.1.name',
      'must be unique',
    ],
    [
      'data retention in prod',
      withValues(prod, { retainData: true }),
      withValues(prod, { retainData: false }),
      'retainData',
      'must be true in prod',
    ],
    [
      'at least 3 brokers in prod',
      withValues(prod, { 'kafka.brokers': 3 }),
      withValues(prod, { 'kafka.brokers': 2, 'kafka.defaultReplicationFactor': 2, 'kafka.minInSyncReplicas': 1 }),
      'kafka.brokers',
      'must be at least 3 in prod',
    ],
    [
      'at least 3 AZs in prod',
      withValues(prod, { 'network.azCount': 3 }),
      withValues(prod, { 'network.azCount': 2, 'network.natGateways': 2 }),
      'network.azCount',
      'must be at least 3 in prod',
    ],
  ];

  it.each(cases)('accepts and enforces %s', (_, passing, failing, field, rule) => {
    expect(problemsOf(passing)).toEqual([]);
    const problems = problemsOf(failing);
    expect(problems).toEqual([expect.objectContaining({ field, value: valueAt(failing, field) })]);
    expect(problems[0]!.rule).toContain(rule);
  });

  it('allows dev to discard data and run one broker and two AZs', () => {
    expect(problemsOf(withValues(dev, { retainData: false, 'kafka.brokers': 1, 'network.azCount': 2 }))).toEqual([]);
  });

  it('skips a cross-field rule whose inputs are already reported, so each mistake is reported once', () => {
    const problems = problemsOf(withValues(prod, { 'kafka.brokers': -1 }));
    expect(problems.map((p) => p.field)).toEqual(['kafka.brokers']);
  });
});

describe('loadEnvironments', () => {
  it('reports every problem of every environment at once', () => {
    const declared = {
      dev: withValues(dev, { 'network.vpcCidr': '10.10.0/16' }),
      staging: withValues(staging, { 'kafka.minInSyncReplicas': 3 }),
      prod: withValues(prod, { 'kafka.brokers': -1, 'hdfs.dfsReplication': 9 }),
    };
    let error: unknown;
    try {
      loadEnvironments(declared);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => `${p.file} ${p.field}`)).toEqual([
      'environments/dev.ts network.vpcCidr',
      'environments/staging.ts kafka.minInSyncReplicas',
      'environments/prod.ts kafka.brokers',
      'environments/prod.ts hdfs.dfsReplication',
    ]);
    expect((error as ConfigError).message).toMatch(/^4 configuration problems:\n {2}- environments\/dev\.ts: environment 'dev': 'network\.vpcCidr'/);
  });

  it('rejects environments whose VPCs overlap', () => {
    const declared = { dev, staging: withValues(staging, { 'network.vpcCidr': '10.10.128.0/17' }), prod };
    expect(() => loadEnvironments(declared)).toThrow(
      "environments/staging.ts: environment 'staging': 'network.vpcCidr' must not overlap environment 'dev' (10.10.0.0/16)",
    );
  });
});
