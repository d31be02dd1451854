import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { environmentFileText, FIXTURE_INPUTS, withValues } from '../scripts/fixtures/environments';
import { deployOrder, environmentFile, environmentNames, loadEnvironments, PLATFORM_MODULES, validateEnvironments } from './load';
import { ConfigError, formatProblem, type Problem } from './problem';
import { validateEnvironment, valueAt } from './validate';

type Declared = Record<string, unknown>;
const { lab, trial, live } = FIXTURE_INPUTS;

function problemsOf(input: Declared, name = String(input.name)): Problem[] {
  const result = validateEnvironment(input, name, environmentFile(name));
  return result.ok ? [] : [...result.problems];
}

/** The problems validateEnvironments reports for these declarations, or none. */
function crossEnvironmentProblems(declared: Declared, known?: string[]): Problem[] {
  try {
    validateEnvironments(declared, known);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return [...error.problems];
  }
}

describe('the environments in environments/', () => {
  it('are all valid, and each is the file of its name', async () => {
    const environments = await loadEnvironments();
    expect(environments.map((env) => env.name).sort()).toEqual(environmentNames());
  });
});

describe('field rules', () => {
  const cases: Array<[string, Declared, string, string]> = [
    ['negative brokers', withValues(lab, { 'kafka.brokers': -1 }), 'kafka.brokers', 'must be at least 1'],
    ['fractional brokers', withValues(lab, { 'kafka.brokers': 1.5 }), 'kafka.brokers', 'must be a whole number'],
    ['brokers as text', withValues(lab, { 'kafka.brokers': '3' }), 'kafka.brokers', 'must be a number'],
    ['a missing field', withValues(lab, { 'hdfs.datanodes': undefined }), 'hdfs.datanodes', 'is required'],
    ['an unknown field', withValues(lab, { 'kafka.partitions': 3 }), 'kafka.partitions', 'is not a known field (known: brokers,'],
    ['an unknown top-level field', withValues(lab, { owner: 'me' }), 'owner', 'is not a known field'],
    ['a malformed CIDR', withValues(lab, { 'network.vpcCidr': '10.10.0/16' }), 'network.vpcCidr', 'must be an IPv4 CIDR'],
    ['a CIDR octet above 255', withValues(lab, { 'network.vpcCidr': '10.300.0.0/16' }), 'network.vpcCidr', 'octets between 0 and 255'],
    ['a CIDR with host bits', withValues(lab, { 'network.vpcCidr': '10.110.0.1/16' }), 'network.vpcCidr', 'did you mean 10.110.0.0/16'],
    ['a VPC larger than AWS allows', withValues(lab, { 'network.vpcCidr': '10.0.0.0/8' }), 'network.vpcCidr', 'between /16 and /24'],
    ['a bad public access CIDR', withValues(lab, { 'cluster.publicAccessCidrs': ['1.2.3.4/33'] }), 'cluster.publicAccessCidrs.0', 'prefix length between 0 and 32'],
    ['an upper-case environment name', withValues(lab, { name: 'Lab' }), 'name', 'must be 1-12 lower-case letters, digits and dashes'],
    ['an environment name too long for bucket and role names', withValues(lab, { name: 'laboratory-01' }), 'name', 'must be 1-12 lower-case'],
    ['an environment name ending in a dash', withValues(lab, { name: 'lab-' }), 'name', 'not ending with a dash'],
    ['an environment name starting with a digit', withValues(lab, { name: '1lab' }), 'name', 'starting with a letter'],
    ['a follows that is no environment name', withValues(trial, { follows: 'Lab Env' }), 'follows', 'must be 1-12 lower-case'],
    ['production as text', withValues(lab, { production: 'no' }), 'production', 'must be a boolean'],
    ['brokers that are not a number (NaN)', withValues(lab, { 'kafka.brokers': Number.NaN }), 'kafka.brokers', 'must be a finite number'],
    ['an infinite retention', withValues(lab, { 'kafka.retentionHours': Number.POSITIVE_INFINITY }), 'kafka.retentionHours', 'must be a finite number'],
    ['a negative infinite lag threshold', withValues(lab, { 'monitoring.consumerLagThreshold': Number.NEGATIVE_INFINITY }), 'monitoring.consumerLagThreshold', 'must be a finite number'],
    ['no default topic partitions', withValues(lab, { 'kafka.topicPartitions': undefined }), 'kafka.topicPartitions', 'is required'],
    ['zero default topic partitions', withValues(lab, { 'kafka.topicPartitions': 0 }), 'kafka.topicPartitions', 'must be at least 1'],
    ['an unsupported EKS version', withValues(lab, { 'cluster.kubernetesVersion': '1.29' }), 'cluster.kubernetesVersion', 'must be one of "1.34"'],
    ['a short account id', withValues(lab, { 'aws.accountId': '12345' }), 'aws.accountId', 'must be a 12-digit AWS account id'],
    ['a malformed region', withValues(lab, { 'aws.region': 'Frankfurt' }), 'aws.region', 'must be an AWS region'],
    ['no node group', withValues(lab, { 'cluster.nodeGroups': [] }), 'cluster.nodeGroups', 'must define at least one node group'],
    ['an empty owner tag', withValues(lab, { 'tags.owner': '' }), 'tags.owner', 'must be 1-256 characters'],
    ['a git URL without scheme', withValues(lab, { 'gitops.repoUrl': 'github.com/x/y' }), 'gitops.repoUrl', 'must be a Git URL'],
    ['a revision with spaces', withValues(lab, { 'gitops.revision': 'my branch' }), 'gitops.revision', 'without spaces'],
    ...['https://argocd.example.org', 'argocd.example.org:443', 'argocd.example.org/ui', 'ArgoCD.example.org', 'argocd', '10.0.0.1', '-argocd.example.org', 'argocd..example.org', `${'a'.repeat(64)}.example.org`, `${'abcdefghi.'.repeat(25)}info`, undefined].map(
      (host): [string, Declared, string, string] => [
        `an Argo CD hostname of ${JSON.stringify(host) ?? 'nothing'}`,
        withValues(lab, { 'gitops.argoCdHostname': host }),
        'gitops.argoCdHostname',
        host === undefined ? 'is required' : 'must be a DNS hostname such as argocd.example.com',
      ],
    ),
    ['retainData as text', withValues(lab, { retainData: 'yes' }), 'retainData', 'must be a boolean'],
    ['an invalid state bucket name', withValues(lab, { 'aws.stateBucket': 'My_State' }), 'aws.stateBucket', 'must be an S3 bucket name'],
    ['an admin that is not a role ARN', withValues(lab, { 'cluster.adminRoleArns': ['admin'] }), 'cluster.adminRoleArns.0', 'must be an IAM role ARN'],
    ['no cluster admin', withValues(lab, { 'cluster.adminRoleArns': [] }), 'cluster.adminRoleArns', 'must name at least one IAM role'],
    ['no deploy role', withValues(lab, { 'aws.deployRoleArn': undefined }), 'aws.deployRoleArn', 'is required'],
    ['a deploy role that is a user', withValues(lab, { 'aws.deployRoleArn': 'arn:aws:iam::444444444444:user/deploy' }), 'aws.deployRoleArn', 'must be an IAM role ARN'],
    ['a deploy role given by name', withValues(lab, { 'aws.deployRoleArn': 'platform-deploy' }), 'aws.deployRoleArn', 'must be an IAM role ARN'],
    ['a dead man\'s switch of an unknown type', withValues(lab, { 'monitoring.deadMansSwitch': { type: 'email' } }), 'monitoring.deadMansSwitch.type', 'must be one of "webhook"'],
    ['a zero noncurrent-version retention', withValues(lab, { 'dataLake.noncurrentVersionDays': 0 }), 'dataLake.noncurrentVersionDays', 'must be at least 1'],
  ];
  it.each(cases)('rejects %s', (_, input, field, rule) => {
    const problems = problemsOf(input, 'lab');
    expect(problems.map((p) => p.field)).toContain(field);
    expect(problems.find((p) => p.field === field)!.rule).toContain(rule);
  });

  it('names the environment, file, field, value and rule in one line', () => {
    const [problem] = problemsOf(withValues(live, { 'kafka.brokers': -1 }));
    expect(formatProblem(problem!)).toBe(
      "environments/live.ts: environment 'live': 'kafka.brokers' must be at least 1, got -1",
    );
  });

  it('names the Argo CD hostname, its value and the rule in one line', () => {
    const problems = problemsOf(withValues(live, { 'gitops.argoCdHostname': 'https://argocd.example.org/' }));
    expect(problems.map(formatProblem)).toEqual([
      "environments/live.ts: environment 'live': 'gitops.argoCdHostname' must be a DNS hostname such as argocd.example.com: dot-separated labels of lower-case letters, digits and dashes (each 1-63 characters, not starting or ending with a dash), at most 253 characters, without scheme, port or path, got \"https://argocd.example.org/\"",
    ]);
  });

  it('accepts a hostname of one-character and 63-character labels, 253 characters in all', () => {
    const longest = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    expect(longest).toHaveLength(253);
    for (const host of ['a.io', 'argo-cd.platform-1.example.org', longest]) expect(problemsOf(withValues(live, { 'gitops.argoCdHostname': host })), host).toEqual([]);
  });

  it('rejects a file whose name field differs from its file name', () => {
    const problems = problemsOf(withValues(lab, { name: 'trial' }), 'lab');
    expect(problems).toEqual([expect.objectContaining({ field: 'name', value: 'trial', rule: "must be 'lab', the name of its file" })]);
  });

  it('rejects something that is not an object at all', () => {
    expect(problemsOf(42 as unknown as Declared, 'lab')).toEqual([expect.objectContaining({ field: '', rule: 'must be an object' })]);
  });
});

describe('cross-field rules', () => {
  const cases: Array<[string, Declared, Declared, string, string]> = [
    [
      'min in-sync replicas below brokers',
      withValues(trial, { 'kafka.minInSyncReplicas': 2 }),
      withValues(trial, { 'kafka.minInSyncReplicas': 3 }),
      'kafka.minInSyncReplicas',
      'must be below kafka.brokers (3)',
    ],
    [
      'replication factor within brokers',
      withValues(trial, { 'kafka.defaultReplicationFactor': 3 }),
      withValues(trial, { 'kafka.defaultReplicationFactor': 4 }),
      'kafka.defaultReplicationFactor',
      'must not exceed kafka.brokers (3)',
    ],
    [
      'min in-sync replicas within the replication factor',
      withValues(live, { 'kafka.brokers': 5, 'kafka.defaultReplicationFactor': 3, 'kafka.minInSyncReplicas': 3 }),
      withValues(live, { 'kafka.brokers': 5, 'kafka.defaultReplicationFactor': 3, 'kafka.minInSyncReplicas': 4 }),
      'kafka.minInSyncReplicas',
      'must not exceed kafka.defaultReplicationFactor (3)',
    ],
    [
      'an odd number of dedicated controllers',
      withValues(live, { 'kafka.controllers': 5 }),
      withValues(live, { 'kafka.controllers': 4 }),
      'kafka.controllers',
      'must be 0 (brokers also act as KRaft controllers) or odd',
    ],
    [
      'an odd number of brokers when they are also controllers',
      withValues(lab, { 'kafka.controllers': 0, 'kafka.brokers': 3 }),
      withValues(lab, { 'kafka.controllers': 0, 'kafka.brokers': 2 }),
      'kafka.brokers',
      'must be odd when kafka.controllers is 0',
    ],
    [
      'HDFS replication within datanodes',
      withValues(trial, { 'hdfs.dfsReplication': 3 }),
      withValues(trial, { 'hdfs.dfsReplication': 4 }),
      'hdfs.dfsReplication',
      'must not exceed hdfs.datanodes (3)',
    ],
    [
      'an odd number of journalnodes',
      withValues(live, { 'hdfs.journalnodes': 5 }),
      withValues(live, { 'hdfs.journalnodes': 4 }),
      'hdfs.journalnodes',
      'must be odd',
    ],
    [
      'a journal quorum for HA namenodes',
      withValues(live, { 'hdfs.namenodes': 2, 'hdfs.journalnodes': 3 }),
      withValues(live, { 'hdfs.namenodes': 2, 'hdfs.journalnodes': 1 }),
      'hdfs.journalnodes',
      'must be at least 3 when hdfs.namenodes is 2',
    ],
    [
      'a VPC large enough for a public and a private subnet per AZ',
      withValues(live, { 'network.vpcCidr': '10.130.0.0/23' }),
      withValues(live, { 'network.vpcCidr': '10.130.0.0/24' }),
      'network.vpcCidr',
      'is too small for 3 AZs: public subnets would be /29, below the AWS minimum /28 (use /23 or larger)',
    ],
    [
      'cluster admins from the environment account',
      withValues(live, { 'cluster.adminRoleArns': [live.aws.deployRoleArn, 'arn:aws:iam::666666666666:role/ops'] }),
      withValues(live, { 'cluster.adminRoleArns': [live.aws.deployRoleArn, 'arn:aws:iam::999999999999:role/ops'] }),
      'cluster.adminRoleArns.1',
      "must be a role in the environment's account 666666666666",
    ],
    [
      'a deploy role from the environment account',
      withValues(live, { 'aws.deployRoleArn': 'arn:aws:iam::666666666666:role/ci/deploy', 'cluster.adminRoleArns': ['arn:aws:iam::666666666666:role/ci/deploy'] }),
      withValues(live, { 'aws.deployRoleArn': 'arn:aws:iam::999999999999:role/platform-deploy' }),
      'aws.deployRoleArn',
      "must be a role in the environment's account 666666666666",
    ],
    [
      'a deploy role among the cluster admins',
      withValues(live, { 'cluster.adminRoleArns': ['arn:aws:iam::666666666666:role/ops', live.aws.deployRoleArn] }),
      withValues(live, { 'cluster.adminRoleArns': ['arn:aws:iam::666666666666:role/ops'] }),
      'aws.deployRoleArn',
      'must be one of cluster.adminRoleArns (arn:aws:iam::666666666666:role/ops): the deploy role applies the bootstrap stack',
    ],
    [
      'at most one NAT gateway per AZ',
      withValues(live, { 'network.natGateways': 3 }),
      withValues(live, { 'network.natGateways': 4 }),
      'network.natGateways',
      'must not exceed network.azCount (3)',
    ],
    [
      'allowed networks for a public endpoint',
      withValues(lab, { 'cluster.privateEndpoint': false, 'cluster.publicAccessCidrs': ['203.0.113.0/24'] }),
      withValues(lab, { 'cluster.privateEndpoint': false, 'cluster.publicAccessCidrs': [] }),
      'cluster.publicAccessCidrs',
      'must list the networks allowed to reach a public API endpoint',
    ],
    [
      'no public endpoint open to the internet',
      withValues(lab, { 'cluster.publicAccessCidrs': ['198.51.100.0/24'] }),
      withValues(lab, { 'cluster.publicAccessCidrs': ['198.51.100.0/24', '0.0.0.0/0'] }),
      'cluster.publicAccessCidrs.1',
      'must be /8 or narrower',
    ],
    [
      'no public access list with a private endpoint',
      withValues(live, { 'cluster.privateEndpoint': true, 'cluster.publicAccessCidrs': [] }),
      withValues(live, { 'cluster.privateEndpoint': true, 'cluster.publicAccessCidrs': ['203.0.113.0/24'] }),
      'cluster.publicAccessCidrs',
      'must be empty when cluster.privateEndpoint is true',
    ],
    [
      'a desired node count within the group bounds',
      withValues(lab, { 'cluster.nodeGroups.0.desiredSize': 4 }),
      withValues(lab, { 'cluster.nodeGroups.0.desiredSize': 5 }),
      'cluster.nodeGroups.0.desiredSize',
      'must lie between minSize (1) and maxSize (4)',
    ],
    [
      'unique node group names',
      withValues(lab, { 'cluster.nodeGroups': [lab.cluster.nodeGroups[0], { ...lab.cluster.nodeGroups[0], name: 'memory' }] }),
      withValues(lab, { 'cluster.nodeGroups': [lab.cluster.nodeGroups[0], lab.cluster.nodeGroups[0]] }),
      'cluster.nodeGroups.1.name',
      'must be unique',
    ],
    [
      'data retention in production',
      withValues(live, { retainData: true }),
      withValues(live, { retainData: false }),
      'retainData',
      'must be true when production is true',
    ],
    [
      'at least 3 brokers in production',
      withValues(live, { 'kafka.brokers': 3 }),
      withValues(live, { 'kafka.brokers': 2, 'kafka.defaultReplicationFactor': 2, 'kafka.minInSyncReplicas': 1 }),
      'kafka.brokers',
      'must be at least 3 when production is true',
    ],
    [
      'at least 3 AZs in production',
      withValues(live, { 'network.azCount': 3 }),
      withValues(live, { 'network.azCount': 2, 'network.natGateways': 2 }),
      'network.azCount',
      'must be at least 3 when production is true',
    ],
  ];

  it.each(cases)('accepts and enforces %s', (_, passing, failing, field, rule) => {
    expect(problemsOf(passing)).toEqual([]);
    const problems = problemsOf(failing);
    expect(problems).toEqual([expect.objectContaining({ field, value: valueAt(failing, field) })]);
    expect(problems[0]!.rule).toContain(rule);
  });

  it('allows an environment that is not production to discard data and run one broker and two AZs', () => {
    expect(problemsOf(withValues(lab, { retainData: false, 'kafka.brokers': 1, 'network.azCount': 2 }))).toEqual([]);
  });

  it('skips a cross-field rule whose inputs are already reported, so each mistake is reported once', () => {
    const problems = problemsOf(withValues(live, { 'kafka.brokers': -1 }));
    expect(problems.map((p) => p.field)).toEqual(['kafka.brokers']);
  });
});

describe('validateEnvironments', () => {
  it('reports every problem of every environment at once', () => {
    const problems = crossEnvironmentProblems({
      lab: withValues(lab, { 'network.vpcCidr': '10.110.0/16' }),
      trial: withValues(trial, { 'kafka.minInSyncReplicas': 3 }),
      live: withValues(live, { 'kafka.brokers': -1, 'hdfs.dfsReplication': 9 }),
    });
    expect(problems.map((p) => `${p.file} ${p.field}`)).toEqual([
      'environments/lab.ts network.vpcCidr',
      'environments/trial.ts kafka.minInSyncReplicas',
      'environments/live.ts kafka.brokers',
      'environments/live.ts hdfs.dfsReplication',
    ]);
    expect(new ConfigError(problems).message).toMatch(/^4 configuration problems:\n {2}- environments\/lab\.ts: environment 'lab': 'network\.vpcCidr'/);
  });

  it('rejects environments whose VPCs overlap', () => {
    expect(crossEnvironmentProblems({ lab, trial: withValues(trial, { 'network.vpcCidr': '10.110.128.0/17' }), live }).map(formatProblem)).toEqual([
      "environments/trial.ts: environment 'trial': 'network.vpcCidr' must not overlap environment 'lab' (10.110.0.0/16), so that the VPCs can be connected, got \"10.110.128.0/17\"",
    ]);
  });

  it('accepts any number of environments under any valid name, in deploy order', () => {
    const qa = withValues(trial, { name: 'qa', follows: 'lab', 'network.vpcCidr': '10.140.0.0/16' });
    const euWest = withValues(lab, { name: 'eu-west2', 'network.vpcCidr': '10.150.0.0/16' });
    const names = validateEnvironments({ live, qa, trial, 'eu-west2': euWest, lab }).map((env) => env.name);
    // First ones by name, each followed by those that follow it (by name), depth first.
    expect(names).toEqual(['eu-west2', 'lab', 'qa', 'trial', 'live']);
  });

  it.each([
    ['an environment that does not exist', { trial: withValues(trial, { follows: 'nowhere' }) }, 'trial', 'must name an environment file in environments/ (lab, live)'],
    ['itself', { trial: withValues(trial, { follows: 'trial' }) }, 'trial', 'must name another environment, not this one'],
    ['a chain that comes back', { lab: withValues(lab, { follows: 'live' }) }, 'lab', 'must not lead back to this environment (lab follows live follows trial follows lab)'],
  ])('refuses a follows that names %s', (_, changed, name, rule) => {
    const problems = crossEnvironmentProblems({ lab, trial, live, ...changed });
    expect(problems.find((p) => p.file === environmentFile(name))).toEqual(expect.objectContaining({ field: 'follows', rule: expect.stringContaining(rule) }));
  });

  it('lets follows name an environment whose own file is broken, reporting only that file', () => {
    const problems = crossEnvironmentProblems({ trial, live }, ['lab', 'trial', 'live']);
    expect(problems).toEqual([]);
  });

  it('puts environments without any follows in name order, and never drops one in a cycle', () => {
    expect(deployOrder([{ name: 'b' }, { name: 'a' }, { name: 'c', follows: 'a' }]).map((env) => env.name)).toEqual(['a', 'c', 'b']);
    expect(deployOrder([{ name: 'a', follows: 'b' }, { name: 'b', follows: 'a' }]).map((env) => env.name)).toEqual(['a', 'b']);
  });
});

describe('loadEnvironments from a folder of files', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'driftless-environments-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** A fresh folder holding `files` (name → text) beside the platform modules' names, which are skipped. */
  function folderWith(files: Record<string, string>): string {
    const folder = mkdtempSync(join(scratch, 'env-'));
    for (const module of PLATFORM_MODULES) writeFileSync(join(folder, `${module}.ts`), 'throw new Error("a platform module is never loaded as an environment");\n');
    writeFileSync(join(folder, 'load.test.ts'), 'throw new Error("tests are never loaded as environments");\n');
    for (const [name, text] of Object.entries(files)) writeFileSync(join(folder, name), text);
    return folder;
  }

  async function loadProblems(folder: string): Promise<string[]> {
    try {
      await loadEnvironments(folder);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems.map(formatProblem);
      throw error;
    }
    return [];
  }

  it('loads every environment file, whatever its name, skipping the platform modules and tests', async () => {
    const qa = withValues(trial, { name: 'qa', follows: 'lab', 'network.vpcCidr': '10.140.0.0/16' });
    const folder = folderWith({ 'lab.ts': environmentFileText(lab), 'qa.ts': environmentFileText(qa), '.qa.ts.swp': 'editor state' });
    expect(environmentNames(folder)).toEqual(['lab', 'qa']);
    expect((await loadEnvironments(folder)).map((env) => env.name)).toEqual(['lab', 'qa']);
  });

  it('refuses a stray file, a file named unlike an environment and an empty folder', async () => {
    const folder = folderWith({ 'lab.ts': environmentFileText(lab), 'QA.ts': environmentFileText(lab), 'qa.json': '{}' });
    expect(await loadProblems(folder)).toEqual([
      expect.stringMatching(/^environments\/QA\.ts: environment 'QA': has a file name that is no environment name: the name must be 1-12 lower-case .*, got "QA"$/),
      expect.stringMatching(/^environments\/qa\.json: environments\/: must not be here: environments\/ holds one <name>\.ts file per environment .*, got "qa\.json"$/),
    ]);
    expect(await loadProblems(folderWith({}))).toEqual([
      "environments/: environments/: must hold at least one environment file, environments/<name>.ts exporting `export const environment = { name: '<name>', ... } satisfies EnvironmentInput`, got nothing",
    ]);
  });

  it('says what an environment file must export when it exports nothing or another name', async () => {
    const folder = folderWith({ 'lab.ts': '', 'qa.ts': `export const qa = ${JSON.stringify(withValues(lab, { name: 'qa' }))};\n` });
    expect(await loadProblems(folder)).toEqual([
      "environments/lab.ts: environment 'lab': must export the environment: export const environment = { name: 'lab', ... } satisfies EnvironmentInput, got nothing",
      "environments/qa.ts: environment 'qa': must export the environment: export const environment = { name: 'qa', ... } satisfies EnvironmentInput, got \"export qa\"",
    ]);
  });

  it('reports a file that throws while loading in one line with the error, and goes on with the others', async () => {
    const folder = folderWith({
      'lab.ts': 'const settings: any = undefined;\nexport const environment = { name: settings.name };\n',
      'live.ts': environmentFileText(withValues(live, { 'kafka.brokers': 0 })),
    });
    const problems = await loadProblems(folder);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^environments\/lab\.ts(:2:\d+)?: environment 'lab': must load without an error, got "TypeError: Cannot read properties of undefined \(reading 'name'\)"$/);
    expect(problems[1]).toMatch(/^environments\/live\.ts: environment 'live': 'kafka\.brokers' must be at least 1, got 0$/);
  });
});
