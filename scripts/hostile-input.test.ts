import { mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyProject, PROJECT_ROOT } from './project-copy';
import { outputDigest, runScript } from './test-projects';

// Broken environment values and pipeline specs, one file edited at a time in a copy of the project: `npm run synth`
// must stop with a precise message (file, subject, field, value, rule), exit non-zero and leave cdktf.out/ and
// k8s/rendered/ byte-identical, with no staging folder left behind.

const SLOW = 120_000;
const scratch = mkdtempSync(join(tmpdir(), 'driftless-hostile-input-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Run = Awaited<ReturnType<typeof runScript>>;

const runSynth = (project: string, args: readonly string[] = []): Promise<Run> => runScript(project, 'synth', args, process.env);

const stagingFolders = (project: string) => readdirSync(project).filter((entry) => entry.startsWith('.synth-'));

// One copy, synthesized once; each case edits one file, runs synth and restores the file.
const project = join(scratch, 'project');
let baseline = '';

beforeAll(async () => {
  copyProject(project);
  const run = await runSynth(project);
  expect(run.status, run.stderr).toBe(0);
  baseline = outputDigest(project);
}, SLOW);

/** One broken input: a file of the project, the text to replace in it (none: the file is deleted) and what synth must say. */
interface Case {
  readonly name: string;
  readonly file: string;
  readonly from?: string;
  readonly to?: string;
  readonly messages: readonly string[];
  /** Only for known gaps that synthesize: validation covers every environment either way, and one is faster to write. */
  readonly args?: readonly string[];
}

/** Breaks the file in the copy, runs synth, restores the file; returns the run and the output digests around it. */
async function synthWithBrokenInput(c: Case): Promise<{ run: Run; before: string; after: string; leftovers: string[] }> {
  const path = join(project, c.file);
  const original = readFileSync(path);
  try {
    if (c.from === undefined) {
      unlinkSync(path);
    } else {
      const text = original.toString('utf8');
      if (!text.includes(c.from)) throw new Error(`${c.file} does not contain ${JSON.stringify(c.from)}: update the case`);
      writeFileSync(path, text.replace(c.from, c.to ?? ''));
    }
    const before = outputDigest(project);
    const run = await runSynth(project, c.args);
    return { run, before, after: outputDigest(project), leftovers: stagingFolders(project) };
  } finally {
    writeFileSync(path, original);
  }
}

const env = (name: string, field: string, rule: string, value: string) => `environments/${name}.ts: environment '${name}': '${field}' ${rule}, got ${value}`;
const pipe = (name: string, field: string, rule: string, value: string) =>
  `pipelines/${name}/pipeline.ts: pipeline '${name}': ${field === '' ? '' : `'${field}' `}${rule}, got ${value}`;

const CASES: Case[] = [
  // Environments: wrong types, out-of-range numbers, empty and rejected names, overlapping ranges, unknown keys.
  { name: 'a number given as text', file: 'environments/prod.ts', from: 'brokers: 3,', to: "brokers: 'three' as unknown as number,", messages: [env('prod', 'kafka.brokers', 'must be a number', '"three"')] },
  { name: 'a flag given as text', file: 'environments/prod.ts', from: 'retainData: true,', to: "retainData: 'yes' as unknown as boolean,", messages: [env('prod', 'retainData', 'must be a boolean', '"yes"')] },
  { name: 'zero availability zones', file: 'environments/dev.ts', from: 'azCount: 2,', to: 'azCount: 0,', messages: [env('dev', 'network.azCount', 'must be at least 1', '0')] },
  { name: 'more NAT gateways than zones', file: 'environments/dev.ts', from: 'natGateways: 1,', to: 'natGateways: 3,', messages: [env('dev', 'network.natGateways', 'must not exceed network.azCount (2): at most one NAT gateway per AZ', '3')] },
  { name: 'an empty owner tag', file: 'environments/prod.ts', from: "owner: 'data-platform'", to: "owner: ''", messages: [env('prod', 'tags.owner', 'must be 1-256 characters of letters, digits, spaces and _.:/=+-@', '""')] },
  { name: 'a node group name EKS would reject', file: 'environments/dev.ts', from: "name: 'general'", to: "name: 'General_Nodes'", messages: [env('dev', 'cluster.nodeGroups.0.name', 'must be lower-case letters, digits and dashes, starting with a letter, at most 31 characters', '"General_Nodes"')] },
  { name: 'an empty node group name', file: 'environments/staging.ts', from: "name: 'general'", to: "name: ''", messages: [env('staging', 'cluster.nodeGroups.0.name', 'must be lower-case letters, digits and dashes, starting with a letter, at most 31 characters', '""')] },
  { name: 'a state bucket name S3 would reject', file: 'environments/prod.ts', from: "stateBucket: 'driftless-tfstate-333333333333'", to: "stateBucket: 'Driftless_TFState'", messages: [env('prod', 'aws.stateBucket', 'must be an S3 bucket name: 3-63 lower-case letters, digits, dots and dashes, not shaped like an IP address', '"Driftless_TFState"')] },
  { name: 'a VPC range that overlaps another environment', file: 'environments/staging.ts', from: "vpcCidr: '10.20.0.0/16'", to: "vpcCidr: '10.10.0.0/16'", messages: [env('staging', 'network.vpcCidr', "must not overlap environment 'dev' (10.10.0.0/16), so that the VPCs can be connected", '"10.10.0.0/16"')] },
  { name: 'a VPC range with host bits', file: 'environments/dev.ts', from: "vpcCidr: '10.10.0.0/16'", to: "vpcCidr: '10.10.0.1/16'", messages: [env('dev', 'network.vpcCidr', 'must not set host bits (did you mean 10.10.0.0/16?)', '"10.10.0.1/16"')] },
  { name: 'an unknown key', file: 'environments/dev.ts', from: 'natGateways: 1,', to: 'natGateways: 1, natGatways: 1,', messages: [env('dev', 'network.natGatways', 'is not a known field (known: vpcCidr, azCount, natGateways, interfaceEndpoints, flowLogRetentionDays)', '1')] },
  { name: "another environment's name", file: 'environments/dev.ts', from: "name: 'dev',", to: "name: 'prod',", messages: [env('dev', 'name', "must be 'dev', the name of its file", '"prod"')] },
  { name: 'an EKS version without pinned add-ons', file: 'environments/prod.ts', from: "kubernetesVersion: '1.34'", to: "kubernetesVersion: '1.29'", messages: [env('prod', 'cluster.kubernetesVersion', 'must be one of "1.34"', '"1.29"')] },
  { name: 'a public endpoint open to the internet', file: 'environments/dev.ts', from: "publicAccessCidrs: ['203.0.113.0/24']", to: "publicAccessCidrs: ['0.0.0.0/0']", messages: [env('dev', 'cluster.publicAccessCidrs.0', 'must be /8 or narrower: a public API endpoint open to the whole internet is not allowed', '"0.0.0.0/0"')] },
  { name: 'more HDFS replicas than datanodes', file: 'environments/staging.ts', from: 'dfsReplication: 3', to: 'dfsReplication: 4', messages: [env('staging', 'hdfs.dfsReplication', 'must not exceed hdfs.datanodes (3), or every block stays under-replicated', '4')] },
  { name: 'an even KRaft quorum', file: 'environments/staging.ts', from: 'controllers: 3,', to: 'controllers: 2,', messages: [env('staging', 'kafka.controllers', 'must be 0 (brokers also act as KRaft controllers) or odd, so that the quorum has a majority', '2')] },
  { name: "a cluster admin from another environment's account", file: 'environments/prod.ts', from: 'arn:aws:iam::333333333333:role/driftless-deploy', to: 'arn:aws:iam::111111111111:role/driftless-deploy', messages: [env('prod', 'cluster.adminRoleArns.0', "must be a role in the environment's account 333333333333", '"arn:aws:iam::111111111111:role/driftless-deploy"')] },
  { name: 'a malformed region', file: 'environments/dev.ts', from: "region: 'eu-central-1'", to: "region: 'Frankfurt'", messages: [env('dev', 'aws.region', 'must be an AWS region such as eu-central-1', '"Frankfurt"')] },
  { name: 'an unknown alert receiver', file: 'environments/dev.ts', from: "critical: { type: 'slack', channel: '#data-platform-dev' }", to: "critical: { type: 'email' } as never", messages: [env('dev', 'monitoring.alertReceivers.critical.type', "must be { type: 'pagerduty' } or { type: 'slack', channel: '#...' }", '"email"')] },

  // Pipelines: names Kubernetes would reject, bad schedules, shared topics, unknown keys, missing files, SQL outside the subset.
  { name: 'a pipeline name Kubernetes would reject', file: 'pipelines/temperature/pipeline.ts', from: "name: 'temperature',", to: "name: 'Temperature',", messages: [pipe('temperature', 'name', 'must be 2-32 lower-case letters, digits and dashes, starting with a letter', '"Temperature"')] },
  { name: 'a cron schedule with 6 fields', file: 'pipelines/daily-sales/pipeline.ts', from: "schedule: '0 2 * * *',", to: "schedule: '0 0 2 * * *',", messages: [pipe('daily-sales', 'schedule', 'must be a cron schedule with 5 fields (minute, hour, day of month, month, day of week), it has 6', '"0 0 2 * * *"')] },
  { name: 'a cron minute out of range', file: 'pipelines/daily-sales/pipeline.ts', from: "schedule: '0 2 * * *',", to: "schedule: '61 2 * * *',", messages: [pipe('daily-sales', 'schedule', 'must be a cron schedule: the minute 61 is outside 0-59', '"61 2 * * *"')] },
  { name: 'a topic another pipeline owns', file: 'pipelines/order-events/pipeline.ts', from: "sink: { type: 'kafka', topic: 'order-summary' },", to: "sink: { type: 'kafka', topic: 'temperature' },", messages: [
    pipe('order-events', 'sink.topic', "must not use a topic that pipeline 'temperature' also uses: each topic belongs to one pipeline", '"temperature"'),
    pipe('temperature', 'source.topic', "must not use a topic that pipeline 'order-events' also uses: each topic belongs to one pipeline", '"temperature"'),
  ] },
  { name: 'a topic name Kafka and Kubernetes would reject', file: 'pipelines/temperature/pipeline.ts', from: "topic: 'temperature.dlq'", to: "topic: 'Temperature DLQ'", messages: [pipe('temperature', 'rejects.topic', 'must be a Kafka topic name of lower-case letters and digits, separated by single dots or dashes', '"Temperature DLQ"')] },
  { name: 'an unknown key in a spec', file: 'pipelines/temperature/pipeline.ts', from: "kind: 'streaming',", to: "kind: 'streaming', owner: 'team-a',", messages: [pipe('temperature', 'owner', 'is not a known field (known: name, description, kind, triggerSeconds, schedule, source, references, schema, quality, steps, window, sink, rejects, spark, topics, alerts)', '"team-a"')] },
  { name: 'a missing SQL file', file: 'pipelines/daily-sales/daily-totals.sql', messages: [pipe('daily-sales', 'steps.1', 'must be a file in pipelines/daily-sales/', '"daily-totals.sql"')] },
  { name: 'a step with a cast Spark does not know', file: 'pipelines/daily-sales/daily-totals.sql', from: 'round(sum(amount), 2)', to: 'round(sum(amount::double), 2)', messages: [pipe('daily-sales', 'steps.1', "'::' (line 3) is a cast that Spark does not know: write CAST(x AS type) or TRY_CAST(x AS type)", '"daily-totals.sql"')] },
  { name: 'a step with DuckDB-only QUALIFY', file: 'pipelines/order-events/summarize.sql', from: 'GROUP BY', to: 'QUALIFY 1 = 1 GROUP BY', messages: [pipe('order-events', 'steps.1', 'QUALIFY (line 5) is DuckDB-only: filter on the window function in an outer query', '"summarize.sql"')] },
  { name: 'a missing pipeline.ts', file: 'pipelines/temperature/pipeline.ts', messages: [pipe('temperature', '', 'must exist: every folder under pipelines/ declares one pipeline', 'nothing')] },
  { name: 'a pipeline.ts that exports no spec', file: 'pipelines/temperature/pipeline.ts', from: 'export const pipeline =', to: 'export const spec =', messages: [pipe('temperature', '', "must export the spec: export const pipeline = { name: 'temperature', ... } satisfies PipelineInput", '"export spec"')] },
  { name: 'zero partitions', file: 'pipelines/temperature/pipeline.ts', from: 'partitions: { prod: 12 }', to: 'partitions: { prod: 0 }', messages: [pipe('temperature', 'topics.partitions.prod', 'must be at least 1', '0')] },
  { name: 'an empty description', file: 'pipelines/order-events/pipeline.ts', from: "description: 'Orders and amounts per city in 1-minute event-time windows, from the orders topic to order-summary.',", to: "description: '',", messages: [pipe('order-events', 'description', 'must say in a sentence what the pipeline does', '""')] },
  // Closed gaps: each was once accepted, or stopped with a stack trace instead of a message.
  { name: 'a flow-log retention CloudWatch does not offer', file: 'environments/dev.ts', from: 'flowLogRetentionDays: 14', to: 'flowLogRetentionDays: 10', args: ['--env', 'dev'], messages: [env('dev', 'network.flowLogRetentionDays', 'must be a retention CloudWatch Logs offers (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 days)', '10')] },
  { name: 'a state bucket named like an IP address, which S3 rejects', file: 'environments/prod.ts', from: "stateBucket: 'driftless-tfstate-333333333333'", to: "stateBucket: '192.168.10.20'", args: ['--env', 'dev'], messages: [env('prod', 'aws.stateBucket', 'must be an S3 bucket name: 3-63 lower-case letters, digits, dots and dashes, not shaped like an IP address', '"192.168.10.20"')] },
  { name: 'a syntax error in an environment file', file: 'environments/staging.ts', from: 'azCount: 3,', to: 'azCount: 3,,', messages: ["environments/staging.ts: environment 'staging': must be valid TypeScript: line 9, column 49: Expected identifier but found \",\""] },
  { name: 'a syntax error in a pipeline.ts', file: 'pipelines/temperature/pipeline.ts', from: "kind: 'streaming',", to: "kind: 'streaming',,", messages: ["pipelines/temperature/pipeline.ts: pipeline 'temperature': must be valid TypeScript: line"] },
  { name: 'a schedule that never fires (30 February)', file: 'pipelines/daily-sales/pipeline.ts', from: "schedule: '0 2 * * *',", to: "schedule: '0 2 30 2 *',", args: ['--env', 'dev'], messages: [pipe('daily-sales', 'schedule', 'must be a cron schedule that fires: day 30 never occurs in month 2', '"0 2 30 2 *"')] },
  { name: 'a topic name that is no valid Kubernetes object name', file: 'pipelines/temperature/pipeline.ts', from: "topic: 'temperature.dlq'", to: "topic: 'temperature..dlq'", args: ['--env', 'dev'], messages: [pipe('temperature', 'rejects.topic', 'must be a Kafka topic name of lower-case letters and digits, separated by single dots or dashes', '"temperature..dlq"')] },
  { name: 'a sink prefix another pipeline writes', file: 'pipelines/order-events/pipeline.ts', from: "sink: { type: 'kafka', topic: 'order-summary' },", to: "sink: { type: 's3', bucket: 'curated', prefix: 'daily-sales/' },", args: ['--env', 'dev'], messages: [
    pipe('order-events', 'sink.prefix', "must not overlap what pipeline 'daily-sales' writes (daily-sales/), or each would overwrite the other's files", '"daily-sales/"'),
    pipe('daily-sales', 'sink.prefix', "must not overlap what pipeline 'order-events' writes (daily-sales/), or each would overwrite the other's files", '"daily-sales/"'),
  ] },
  { name: 'dead letters written into the sink prefix', file: 'pipelines/daily-sales/pipeline.ts', from: "rejects: { type: 's3', bucket: 'curated', prefix: 'errors/daily-sales/' },", to: "rejects: { type: 's3', bucket: 'curated', prefix: 'daily-sales/' },", args: ['--env', 'dev'], messages: [pipe('daily-sales', 'rejects.prefix', 'must not overlap the sink (daily-sales/): dead letters would be mixed with, and overwritten with, the output', '"daily-sales/"')] },
  { name: 'a step with unbalanced parentheses', file: 'pipelines/daily-sales/daily-totals.sql', from: 'round(sum(amount), 2)', to: 'round(sum(amount, 2)', args: ['--env', 'dev'], messages: [pipe('daily-sales', 'steps.1', "'(' (line 3) is never closed", '"daily-totals.sql"')] },
  { name: 'a key prefix S3 paths do not take', file: 'pipelines/daily-sales/pipeline.ts', from: "prefix: 'daily-sales/'", to: "prefix: 'Daily Sales/'", messages: [pipe('daily-sales', 'sink.prefix', "must be a key prefix such as 'sales/daily/': lower-case path segments, each ending in '/'", '"Daily Sales/"')] },
];

/** Asserts the run stopped as it must: non-zero, each message, no stack trace, nothing written or left behind. */
function expectStopped(result: Awaited<ReturnType<typeof synthWithBrokenInput>>, c: Case, digestBefore: string): void {
  expect(result.run.status).not.toBe(0);
  for (const message of c.messages) expect(result.run.stderr).toContain(message);
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
    const result = await synthWithBrokenInput(c);
    expect(result.before).toBe(baseline);
    expectStopped(result, c, baseline);
  });
});

