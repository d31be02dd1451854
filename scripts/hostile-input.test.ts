import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentFileText, FIXTURE_INPUTS, withValues } from './fixtures/environments';
import { FIXTURE_PIPELINE_INPUTS, pipelineFileText } from './fixtures/pipelines';
import { childEnv, fixtureProject, outputDigest, runScript } from './test-projects';

// Broken environment files and pipeline specs, written into a copy of the project that holds the fixture
// environments (lab, trial, live) and pipelines (clicks, ledger, readings): `npm run synth` must stop with a precise
// message (file, subject, field, value, rule), exit non-zero and leave cdktf.out/ and k8s/rendered/ byte-identical,
// with no .synth-* folder left behind.

const SLOW = 120_000;
const scratch = mkdtempSync(join(tmpdir(), 'driftless-hostile-input-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Run = Awaited<ReturnType<typeof runScript>>;

const runSynth = (project: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<Run> => runScript(project, 'synth', args, env);

const stagingFolders = (project: string) => readdirSync(project).filter((entry) => entry.startsWith('.synth-'));

// One copy, synthesized once; each case writes its files, runs synth and restores them.
const project = join(scratch, 'project');
let baseline = '';

beforeAll(async () => {
  fixtureProject(project);
  const run = await runSynth(project);
  expect(run.status, run.stderr).toBe(0);
  baseline = outputDigest(project);
}, SLOW);

/** Files of the copy, relative to it, with the text to write there; null deletes the file. */
type Files = Readonly<Record<string, string | null>>;

type FixtureEnvironment = keyof typeof FIXTURE_INPUTS;
type FixturePipeline = keyof typeof FIXTURE_PIPELINE_INPUTS;

/** The file of a fixture environment with `changes` (dotted path → value; undefined deletes the field). */
const environment = (name: FixtureEnvironment, changes: Record<string, unknown>): Files => ({
  [`environments/${name}.ts`]: environmentFileText(withValues(FIXTURE_INPUTS[name], changes)),
});

/** The pipeline.ts of a fixture pipeline with `changes`. */
const pipeline = (name: FixturePipeline, changes: Record<string, unknown>): Files => ({
  [`pipelines/${name}/pipeline.ts`]: pipelineFileText(withValues(FIXTURE_PIPELINE_INPUTS[name], changes)),
});

/** The fixture ledger's SQL step with `total` as its total expression, which sits on line 2. */
const ledgerTotals = (total: string) =>
  `-- Totals per account and day.\nSELECT account, booked_on, ${total} AS total_amount, count(*) AS entries\nFROM source\nGROUP BY account, booked_on\n`;

/** One broken input: the files it writes or deletes, and what synth must say. */
interface Case {
  readonly name: string;
  readonly files: Files;
  readonly messages: readonly string[];
  /** Only for known gaps that synthesize: validation covers every environment either way, and one is faster to write. */
  readonly args?: readonly string[];
}

/** Writes the files into the copy, runs `script`, restores them; returns the run and the output digests around it. */
async function runWithFiles(
  files: Files,
  script = 'synth',
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ run: Run; before: string; after: string; leftovers: string[] }> {
  const originals = Object.keys(files).map((file) => {
    const path = join(project, file);
    return { path, text: existsSync(path) ? readFileSync(path) : undefined };
  });
  try {
    for (const [file, text] of Object.entries(files)) {
      const path = join(project, file);
      if (text !== null) writeFileSync(path, text);
      else if (existsSync(path)) unlinkSync(path);
      else throw new Error(`${file} does not exist, so deleting it breaks nothing: update the case`);
    }
    const before = outputDigest(project);
    const run = await runScript(project, script, args, env);
    return { run, before, after: outputDigest(project), leftovers: stagingFolders(project) };
  } finally {
    for (const { path, text } of originals) {
      if (text !== undefined) writeFileSync(path, text);
      else rmSync(path, { force: true });
    }
  }
}

const env = (name: string, field: string, rule: string, value: string) => `environments/${name}.ts: environment '${name}': '${field}' ${rule}, got ${value}`;
const pipe = (name: string, field: string, rule: string, value: string) =>
  `pipelines/${name}/pipeline.ts: pipeline '${name}': ${field === '' ? '' : `'${field}' `}${rule}, got ${value}`;

const NODE_GROUP_NAME = 'must be lower-case letters, digits and dashes, starting with a letter, at most 31 characters';
const BUCKET_NAME = 'must be an S3 bucket name: 3-63 lower-case letters, digits, dots and dashes, not shaped like an IP address';
const TOPIC_NAME = 'must be a Kafka topic name of lower-case letters and digits, separated by single dots or dashes';
const ONE_OWNER = 'also uses: each topic belongs to one pipeline';
const { lab, live } = FIXTURE_INPUTS;

const CASES: Case[] = [
  // Environments: wrong types, out-of-range numbers, empty and rejected names, overlapping ranges, unknown keys.
  { name: 'a number given as text', files: environment('live', { 'kafka.brokers': 'three' }), messages: [env('live', 'kafka.brokers', 'must be a number', '"three"')] },
  { name: 'a flag given as text', files: environment('live', { retainData: 'yes' }), messages: [env('live', 'retainData', 'must be a boolean', '"yes"')] },
  { name: 'zero availability zones', files: environment('lab', { 'network.azCount': 0 }), messages: [env('lab', 'network.azCount', 'must be at least 1', '0')] },
  { name: 'more NAT gateways than zones', files: environment('lab', { 'network.azCount': 2, 'network.natGateways': 3 }), messages: [env('lab', 'network.natGateways', 'must not exceed network.azCount (2): at most one NAT gateway per AZ', '3')] },
  { name: 'an empty owner tag', files: environment('live', { 'tags.owner': '' }), messages: [env('live', 'tags.owner', 'must be 1-256 characters of letters, digits, spaces and _.:/=+-@', '""')] },
  { name: 'a node group name EKS would reject', files: environment('lab', { 'cluster.nodeGroups.0.name': 'General_Nodes' }), messages: [env('lab', 'cluster.nodeGroups.0.name', NODE_GROUP_NAME, '"General_Nodes"')] },
  { name: 'an empty node group name', files: environment('trial', { 'cluster.nodeGroups.0.name': '' }), messages: [env('trial', 'cluster.nodeGroups.0.name', NODE_GROUP_NAME, '""')] },
  { name: 'a state bucket name S3 would reject', files: environment('live', { 'aws.stateBucket': 'Platform_TFState' }), messages: [env('live', 'aws.stateBucket', BUCKET_NAME, '"Platform_TFState"')] },
  { name: 'a VPC range that overlaps another environment', files: environment('trial', { 'network.vpcCidr': lab.network.vpcCidr }), messages: [env('trial', 'network.vpcCidr', `must not overlap environment 'lab' (${lab.network.vpcCidr}), so that the VPCs can be connected`, `"${lab.network.vpcCidr}"`)] },
  { name: 'a VPC range with host bits', files: environment('lab', { 'network.vpcCidr': '10.110.0.1/16' }), messages: [env('lab', 'network.vpcCidr', 'must not set host bits (did you mean 10.110.0.0/16?)', '"10.110.0.1/16"')] },
  { name: 'an unknown key', files: environment('lab', { 'network.natGatways': 1 }), messages: [env('lab', 'network.natGatways', 'is not a known field (known: vpcCidr, azCount, natGateways, interfaceEndpoints, flowLogRetentionDays)', '1')] },
  { name: "another environment's name", files: environment('lab', { name: 'live' }), messages: [env('lab', 'name', "must be 'lab', the name of its file", '"live"')] },
  { name: 'an EKS version without pinned add-ons', files: environment('live', { 'cluster.kubernetesVersion': '1.29' }), messages: [env('live', 'cluster.kubernetesVersion', 'must be one of "1.34"', '"1.29"')] },
  { name: 'a public endpoint open to the internet', files: environment('lab', { 'cluster.publicAccessCidrs': ['0.0.0.0/0'] }), messages: [env('lab', 'cluster.publicAccessCidrs.0', 'must be /8 or narrower: a public API endpoint open to the whole internet is not allowed', '"0.0.0.0/0"')] },
  { name: 'more HDFS replicas than datanodes', files: environment('trial', { 'hdfs.datanodes': 3, 'hdfs.dfsReplication': 4 }), messages: [env('trial', 'hdfs.dfsReplication', 'must not exceed hdfs.datanodes (3), or every block stays under-replicated', '4')] },
  { name: 'an even KRaft quorum', files: environment('trial', { 'kafka.controllers': 2 }), messages: [env('trial', 'kafka.controllers', 'must be 0 (brokers also act as KRaft controllers) or odd, so that the quorum has a majority', '2')] },
  {
    name: "a cluster admin from another environment's account",
    files: environment('live', { 'cluster.adminRoleArns': [live.aws.deployRoleArn, `arn:aws:iam::${lab.aws.accountId}:role/platform-deploy`] }),
    messages: [env('live', 'cluster.adminRoleArns.1', `must be a role in the environment's account ${live.aws.accountId}`, `"arn:aws:iam::${lab.aws.accountId}:role/platform-deploy"`)],
  },
  {
    name: "a deploy role from another environment's account",
    files: environment('live', { 'aws.deployRoleArn': lab.aws.deployRoleArn }),
    messages: [env('live', 'aws.deployRoleArn', `must be a role in the environment's account ${live.aws.accountId}`, `"${lab.aws.deployRoleArn}"`)],
  },
  { name: 'a malformed region', files: environment('lab', { 'aws.region': 'Frankfurt' }), messages: [env('lab', 'aws.region', 'must be an AWS region such as eu-central-1', '"Frankfurt"')] },
  { name: 'an unknown alert receiver', files: environment('lab', { 'monitoring.alertReceivers.critical': { type: 'email' } }), messages: [env('lab', 'monitoring.alertReceivers.critical.type', "must be { type: 'pagerduty' } or { type: 'slack', channel: '#...' }", '"email"')] },

  // Pipelines: names Kubernetes would reject, bad schedules, shared topics, unknown keys, missing files, SQL outside the subset.
  { name: 'a pipeline name Kubernetes would reject', files: pipeline('readings', { name: 'Readings' }), messages: [pipe('readings', 'name', 'must be 2-32 lower-case letters, digits and dashes, starting with a letter', '"Readings"')] },
  { name: 'a cron schedule with 6 fields', files: pipeline('ledger', { schedule: '0 30 3 * * *' }), messages: [pipe('ledger', 'schedule', 'must be a cron schedule with 5 fields (minute, hour, day of month, month, day of week), it has 6', '"0 30 3 * * *"')] },
  { name: 'a cron minute out of range', files: pipeline('ledger', { schedule: '61 3 * * *' }), messages: [pipe('ledger', 'schedule', 'must be a cron schedule: the minute 61 is outside 0-59', '"61 3 * * *"')] },
  {
    name: 'a topic another pipeline owns',
    files: pipeline('clicks', { sink: { type: 'kafka', topic: 'sensor-readings', key: ['window_start', 'site'] } }),
    messages: [
      pipe('clicks', 'sink.topic', `must not use a topic that pipeline 'readings' ${ONE_OWNER}`, '"sensor-readings"'),
      pipe('readings', 'source.topic', `must not use a topic that pipeline 'clicks' ${ONE_OWNER}`, '"sensor-readings"'),
    ],
  },
  { name: 'a topic name Kafka and Kubernetes would reject', files: pipeline('readings', { 'rejects.topic': 'Sensor Readings DLQ' }), messages: [pipe('readings', 'rejects.topic', TOPIC_NAME, '"Sensor Readings DLQ"')] },
  {
    name: 'an unknown key in a spec',
    files: pipeline('readings', { owner: 'team-a' }),
    messages: [pipe('readings', 'owner', 'is not a known field (known: name, description, kind, triggerSeconds, schedule, source, references, schema, quality, steps, window, state, sink, rejects, spark, topics, alerts)', '"team-a"')],
  },
  { name: 'a missing SQL file', files: { 'pipelines/ledger/totals.sql': null }, messages: [pipe('ledger', 'steps.0', 'must be a file in pipelines/ledger/', '"totals.sql"')] },
  {
    name: 'a step with a cast Spark does not know',
    files: { 'pipelines/ledger/totals.sql': ledgerTotals('round(sum(amount::double), 2)') },
    messages: [pipe('ledger', 'steps.0', "'::' (line 2) is a cast that Spark does not know: write CAST(x AS type) or TRY_CAST(x AS type)", '"totals.sql"')],
  },
  {
    name: 'a step with DuckDB-only QUALIFY',
    files: { 'pipelines/clicks/per-site.sql': 'SELECT window_start, site, count(*) AS clicks\nFROM enrich\nQUALIFY 1 = 1 GROUP BY window_start, site\n' },
    messages: [pipe('clicks', 'steps.1', 'QUALIFY (line 3) is DuckDB-only: filter on the window function in an outer query', '"per-site.sql"')],
  },
  { name: 'a missing pipeline.ts', files: { 'pipelines/readings/pipeline.ts': null }, messages: [pipe('readings', '', 'must exist: every folder under pipelines/ declares one pipeline', 'nothing')] },
  {
    name: 'a pipeline.ts that exports no spec',
    files: { 'pipelines/readings/pipeline.ts': pipelineFileText(FIXTURE_PIPELINE_INPUTS.readings).replace('export const pipeline =', 'export const spec =') },
    messages: [pipe('readings', '', "must export the spec: export const pipeline = { name: 'readings', ... } satisfies PipelineInput", '"export spec"')],
  },
  { name: 'zero partitions', files: pipeline('readings', { 'topics.partitions.live': 0 }), messages: [pipe('readings', 'topics.partitions.live', 'must be at least 1', '0')] },
  { name: 'an empty description', files: pipeline('clicks', { description: '' }), messages: [pipe('clicks', 'description', 'must say in a sentence what the pipeline does', '""')] },
  // Closed gaps: each was once accepted, or stopped with a stack trace instead of a message.
  {
    name: 'a flow-log retention CloudWatch does not offer',
    files: environment('lab', { 'network.flowLogRetentionDays': 10 }),
    args: ['--env', 'lab'],
    messages: [env('lab', 'network.flowLogRetentionDays', 'must be a retention CloudWatch Logs offers (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 days)', '10')],
  },
  { name: 'a state bucket named like an IP address, which S3 rejects', files: environment('live', { 'aws.stateBucket': '192.168.10.20' }), args: ['--env', 'lab'], messages: [env('live', 'aws.stateBucket', BUCKET_NAME, '"192.168.10.20"')] },
  {
    name: 'a syntax error in an environment file',
    files: { 'environments/trial.ts': "import type { EnvironmentInput } from './schema';\n\nexport const environment = {\n  name: 'trial',,\n} satisfies EnvironmentInput;\n" },
    messages: ["environments/trial.ts: environment 'trial': must be valid TypeScript: line 4, column 16: Expected identifier but found \",\", got \"name: 'trial',,\""],
  },
  {
    name: 'a syntax error in a pipeline.ts',
    files: { 'pipelines/readings/pipeline.ts': "import type { PipelineInput } from '../schema';\n\nexport const pipeline = {\n  name: 'readings',,\n} satisfies PipelineInput;\n" },
    messages: ["pipelines/readings/pipeline.ts: pipeline 'readings': must be valid TypeScript: line 4, column 19: Expected identifier but found \",\", got \"name: 'readings',,\""],
  },
  { name: 'a schedule that never fires (30 February)', files: pipeline('ledger', { schedule: '30 3 30 2 *' }), args: ['--env', 'lab'], messages: [pipe('ledger', 'schedule', 'must be a cron schedule that fires: day 30 never occurs in month 2', '"30 3 30 2 *"')] },
  { name: 'a topic name that is no valid Kubernetes object name', files: pipeline('readings', { 'rejects.topic': 'sensor-readings..dlq' }), args: ['--env', 'lab'], messages: [pipe('readings', 'rejects.topic', TOPIC_NAME, '"sensor-readings..dlq"')] },
  {
    name: 'a sink prefix another pipeline writes',
    files: pipeline('clicks', { sink: { type: 's3', bucket: 'curated', prefix: 'ledger/' } }),
    args: ['--env', 'lab'],
    messages: [
      pipe('clicks', 'sink.prefix', "must not overlap what pipeline 'ledger' writes (ledger/), or each would overwrite the other's files", '"ledger/"'),
      pipe('ledger', 'sink.prefix', "must not overlap what pipeline 'clicks' writes (ledger/), or each would overwrite the other's files", '"ledger/"'),
    ],
  },
  {
    name: 'dead letters written into the sink prefix',
    files: pipeline('ledger', { rejects: { type: 's3', bucket: 'curated', prefix: 'ledger/' } }),
    args: ['--env', 'lab'],
    messages: [pipe('ledger', 'rejects.prefix', 'must not overlap the sink (ledger/): dead letters would be mixed with, and overwritten with, the output', '"ledger/"')],
  },
  { name: 'a step with unbalanced parentheses', files: { 'pipelines/ledger/totals.sql': ledgerTotals('round(sum(amount, 2)') }, args: ['--env', 'lab'], messages: [pipe('ledger', 'steps.0', "'(' (line 2) is never closed", '"totals.sql"')] },
  { name: 'a key prefix S3 paths do not take', files: pipeline('ledger', { 'sink.prefix': 'Ledger Totals/' }), messages: [pipe('ledger', 'sink.prefix', "must be a key prefix such as 'sales/daily/': lower-case path segments, each ending in '/'", '"Ledger Totals/"')] },
];

/** Asserts the run stopped as it must: non-zero, each message, no stack trace, nothing written or left behind. */
function expectStopped(result: Awaited<ReturnType<typeof runWithFiles>>, messages: readonly string[], digestBefore: string): void {
  expect(result.run.status).not.toBe(0);
  for (const message of messages) expect(result.run.stderr).toContain(message);
  expect(result.run.stderr).toMatch(/^synth: \d+ configuration problems?:\n/);
  expect(result.run.stderr).not.toMatch(/\n\s+at /);
  expect(result.run.stderr.trimEnd().endsWith('Nothing was written.')).toBe(true);
  expect(result.run.stdout).toBe('');
  expect(result.after).toBe(digestBefore);
  expect(result.leftovers).toEqual([]);
}

describe('npm run synth with hostile input', () => {
  it('has at least 25 cases', () => expect(CASES.length).toBeGreaterThanOrEqual(25));

  it.for(CASES)('stops on $name with a precise message and writes nothing', { timeout: SLOW }, async (c) => {
    const result = await runWithFiles(c.files, 'synth', c.args);
    expect(result.before).toBe(baseline);
    expectStopped(result, c.messages, baseline);
  });
});

// A file that throws while loading, exports the wrong thing or sits where it should not: the user gets exactly one
// line per problem, with the file (and line and column where known) and what to do, never a stack trace.

/** An environment file that throws on line 3, at the `id` of an account that is not there. */
const THROWING_ENVIRONMENT =
  "import type { EnvironmentInput } from './schema';\n" +
  'const accounts: Record<string, { id: string }> = {};\n' +
  "export const environment = { name: 'qa', aws: { accountId: accounts.qa.id } } as unknown as EnvironmentInput;\n";
const THROWN = "environments/qa.ts:3:72: environment 'qa': must load without an error, got \"TypeError: Cannot read properties of undefined (reading 'id')\"";
const FILE_NAME_RULE =
  'has a file name that is no environment name: the name must be 1-12 lower-case letters, digits and dashes, starting with a letter and not ending with a dash ' +
  '(it becomes part of bucket, IAM role and cluster names)';
const LOOP = (chain: string, follows: string) =>
  `environments/${chain.split(' ')[0]}.ts: environment '${chain.split(' ')[0]}': 'follows' must not lead back to this environment (${chain}): the deploy order needs a first environment, got "${follows}"`;

/** One mistake a user can act on: the files, and the complete lines that synth prints between its first and last line. */
interface Actionable {
  readonly name: string;
  readonly files: Files;
  readonly lines: readonly string[];
}

const ACTIONABLE: Actionable[] = [
  { name: 'an environment file that throws while loading', files: { 'environments/qa.ts': THROWING_ENVIRONMENT }, lines: [THROWN] },
  {
    name: 'a pipeline.ts that throws while loading',
    files: {
      'pipelines/readings/pipeline.ts':
        "import type { PipelineInput } from '../schema';\n\n" +
        'const sizing: Record<string, { executors: number }> = {};\n' +
        "export const pipeline = { name: 'readings', spark: { live: { executorInstances: sizing.live.executors } } } as unknown as PipelineInput;\n",
    },
    lines: ["pipelines/readings/pipeline.ts:4:93: pipeline 'readings': must load without an error, got \"TypeError: Cannot read properties of undefined (reading 'executors')\""],
  },
  {
    name: 'an environment file that exports nothing',
    files: { 'environments/lab.ts': '' },
    lines: ["environments/lab.ts: environment 'lab': must export the environment: export const environment = { name: 'lab', ... } satisfies EnvironmentInput, got nothing"],
  },
  {
    name: 'an environment file that exports another name',
    files: { 'environments/lab.ts': environmentFileText(lab).replace('export const environment =', 'export const lab =') },
    lines: ["environments/lab.ts: environment 'lab': must export the environment: export const environment = { name: 'lab', ... } satisfies EnvironmentInput, got \"export lab\""],
  },
  {
    name: 'numbers that are not finite (NaN, Infinity, -Infinity)',
    files: environment('live', { 'kafka.brokers': Number.NaN, 'kafka.retentionHours': Number.POSITIVE_INFINITY, 'monitoring.consumerLagThreshold': Number.NEGATIVE_INFINITY }),
    lines: [
      env('live', 'kafka.brokers', 'must be a finite number', 'NaN'),
      env('live', 'kafka.retentionHours', 'must be a finite number', 'Infinity'),
      env('live', 'monitoring.consumerLagThreshold', 'must be a finite number', '-Infinity'),
    ],
  },
  {
    name: "a source topic that is another pipeline's dead-letter topic",
    files: pipeline('clicks', { 'source.topic': 'sensor-readings.dlq' }),
    lines: [
      pipe('clicks', 'source.topic', `must not use a topic that pipeline 'readings' ${ONE_OWNER}`, '"sensor-readings.dlq"'),
      pipe('readings', 'rejects.topic', `must not use a topic that pipeline 'clicks' ${ONE_OWNER}`, '"sensor-readings.dlq"'),
    ],
  },
  {
    name: "an HDFS sink inside another pipeline's path",
    files: pipeline('clicks', { sink: { type: 'hdfs', path: '/data/readings/clicks', partitionBy: ['window_start'] } }),
    lines: [
      pipe('clicks', 'sink.path', "must not overlap what pipeline 'readings' writes (/data/readings), or each would overwrite the other's files", '"/data/readings/clicks"'),
      pipe('readings', 'sink.path', "must not overlap what pipeline 'clicks' writes (/data/readings/clicks), or each would overwrite the other's files", '"/data/readings"'),
    ],
  },
  {
    name: 'an extra environment file that is invalid',
    files: { 'environments/qa.ts': environmentFileText(withValues(FIXTURE_INPUTS.trial, { name: 'qa', 'network.vpcCidr': '10.140.0.0/16', 'kafka.brokers': 0 })) },
    lines: [env('qa', 'kafka.brokers', 'must be at least 1', '0')],
  },
  {
    name: 'a stray file in environments/',
    files: { 'environments/README.md': '# Our environments\n' },
    lines: [
      "environments/README.md: environments/: must not be here: environments/ holds one <name>.ts file per environment (and the platform's modules cidr, load, naming, problem, rules, schema, validate), got \"README.md\"",
    ],
  },
  {
    name: 'environment names that are not allowed',
    files: { 'environments/EU_Lab.ts': environmentFileText(lab), 'environments/thirteenchars.ts': environmentFileText(lab) },
    lines: [`environments/EU_Lab.ts: environment 'EU_Lab': ${FILE_NAME_RULE}, got "EU_Lab"`, `environments/thirteenchars.ts: environment 'thirteenchars': ${FILE_NAME_RULE}, got "thirteenchars"`],
  },
  {
    name: "a 'follows' that names no environment",
    files: environment('trial', { follows: 'nowhere' }),
    lines: [env('trial', 'follows', 'must name an environment file in environments/ (lab, live), or be left out for an environment deployed first', '"nowhere"')],
  },
  {
    name: "'follows' in a loop",
    files: environment('lab', { follows: 'live' }),
    lines: [LOOP('lab follows live follows trial follows lab', 'live'), LOOP('live follows trial follows lab follows live', 'trial'), LOOP('trial follows lab follows live follows trial', 'lab')],
  },
];

/** The whole of stderr for these problems: a count, one line each, and that nothing was written. */
const report = (script: string, lines: readonly string[]) =>
  `${script}: ${lines.length} configuration problem${lines.length === 1 ? '' : 's'}:\n${lines.map((line) => `  - ${line}\n`).join('')}`;

describe('errors a user can act on', () => {
  it.for(ACTIONABLE)('reports $name in one line each, without a stack trace, and writes nothing', { timeout: SLOW }, async (c) => {
    const result = await runWithFiles(c.files);
    expect(result.run.stderr).toBe(`${report('synth', c.lines)}Nothing was written.\n`);
    expectStopped(result, c.lines, baseline);
  });

  it('adds the stack of what the file threw with DRIFTLESS_DEBUG=1, and only then', { timeout: SLOW }, async () => {
    const result = await runWithFiles({ 'environments/qa.ts': THROWING_ENVIRONMENT }, 'synth', [], childEnv({ DRIFTLESS_DEBUG: '1' }));
    expect(result.run.status).not.toBe(0);
    const stderr = result.run.stderr;
    expect(stderr.startsWith(`${report('synth', [THROWN])}environments/qa.ts: TypeError: Cannot read properties of undefined (reading 'id')\n    at `)).toBe(true);
    expect(stderr).toMatch(new RegExp(`\\n\\s+at .*${join(project, 'environments', 'qa.ts').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:72\\)?\\n`));
    expect(stderr.endsWith('\nNothing was written.\n')).toBe(true);
    expect(result.after).toBe(baseline);
    expect(result.leftovers).toEqual([]);
  });

  it('reports a throwing environment file in the same line from npm run validate and npm run publish-jobs -- --dry-run', { timeout: SLOW }, async () => {
    for (const [script, args] of [['validate', []], ['publish-jobs', ['--env', 'lab', '--dry-run']]] as const) {
      const { run } = await runWithFiles({ 'environments/qa.ts': THROWING_ENVIRONMENT }, script, args, childEnv({ DRIFTLESS_DEBUG: undefined }));
      expect(run.status, script).toBe(1);
      expect(run.stderr, script).toBe(report(script, [THROWN]));
      expect(run.stdout, script).toBe('');
    }
  });
});
