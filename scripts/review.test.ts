import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readableDiff } from './review';
import { commitAll, git, runScript, throwawayRepository } from './test-projects';

// One throwaway repository for every test here: a commit of the project, then a commit with a change that
// renames a bucket, shortens prod's Kafka retention and drops a dead-letter topic. Each review synthesizes
// both revisions (about 2 s), so the runs are shared and started together.
const SLOW = { timeout: 120_000 };
const scratch = mkdtempSync(join(tmpdir(), 'driftless-review-test-'));
const repo = join(scratch, 'repo');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function edit(file: string, from: string | RegExp, to: string): void {
  const path = join(repo, file);
  const before = readFileSync(path, 'utf8');
  const after = before.replace(from, to);
  if (after === before) throw new Error(`the edit of ${file} changed nothing: is '${String(from)}' still there?`);
  writeFileSync(path, after);
}

type Run = Awaited<ReturnType<typeof runScript>>;
let markdown: Run;
let json: Run;

beforeAll(async () => {
  throwawayRepository(repo);
  edit('environments/prod.ts', 'retentionHours: 168,', 'retentionHours: 72,');
  // The curated bucket gets another name in every environment.
  edit('environments/naming.ts', '${PROJECT}-${env.name}-${purpose}-', "${PROJECT}-${env.name}-${purpose === 'curated' ? 'refined' : purpose}-");
  // order-events sends its rejects to S3 instead of the orders.dlq topic.
  edit('pipelines/order-events/pipeline.ts', "rejects: { type: 'kafka', topic: 'orders.dlq' },", "rejects: { type: 's3', bucket: 'curated', prefix: 'rejects/order-events/' },");
  commitAll(repo, 'shorter retention, renamed bucket, no dead-letter topic');
  [markdown, json] = await Promise.all([runScript(repo, 'review', ['--base', 'HEAD~1']), runScript(repo, 'review', ['--base', 'HEAD~1', '--json'])]);
}, 180_000);

/** The Markdown of one environment's section. */
function section(report: string, env: string): string {
  const start = report.indexOf(`\n## ${env}\n`);
  expect(start, `no section for ${env}`).toBeGreaterThanOrEqual(0);
  const end = report.indexOf('\n## ', start + 1);
  return report.slice(start, end < 0 ? undefined : end);
}

/** The list items under `title:` in a part of the report (up to the next blank line). */
function items(text: string, title: string): string[] {
  const start = text.indexOf(`\n${title}:\n`);
  if (start < 0) return [];
  const block = text.slice(start + title.length + 3).split('\n\n')[0] ?? '';
  return block.split('\n').filter((line) => line.startsWith('- '));
}

const BUCKET = 'aws_s3_bucket.curated_bucket_852DE08A';
const BUCKET_CONTROLS = [
  'aws_s3_bucket_lifecycle_configuration.curated_lifecycle_DCF67FF5',
  'aws_s3_bucket_logging.curated_access-logging_9A47059D',
  'aws_s3_bucket_ownership_controls.curated_ownership_D78C7243',
  'aws_s3_bucket_policy.curated_policy_DB4E400B',
  'aws_s3_bucket_public_access_block.curated_public-access_D7A9A3C8',
  'aws_s3_bucket_server_side_encryption_configuration.curated_encryption_98405486',
  'aws_s3_bucket_versioning.curated_versioning_81A3B284',
];
// The roles of the pipelines that use the curated bucket: their policies name it.
const POLICIES = ['aws_iam_role_policy.pipeline-daily-sales-role_policy_54923B73', 'aws_iam_role_policy.pipeline-order-events-role_policy_A422329A'];

describe('npm run review -- --base <ref>', () => {
  it('runs offline and exits 0, leaving no worktree behind', SLOW, () => {
    expect(markdown.stderr).toBe('');
    expect(markdown.status).toBe(0);
    expect(json.status).toBe(0);
    expect(git(repo, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);
    expect(markdown.stdout).toContain('`npm run plan -- --env <env>` gives Terraform\'s exact answer');
  });

  it('lists what destroys or shrinks prod data first, under a warning', SLOW, () => {
    const prod = section(markdown.stdout, 'prod');
    const warning = prod.indexOf('### ⚠️ Destroys or shrinks data in prod');
    expect(warning).toBeGreaterThan(0);
    expect(warning).toBeLessThan(prod.indexOf('### Terraform'));
    expect(warning).toBeLessThan(prod.indexOf('### Kubernetes'));
    const lines = prod.slice(warning).split('\n\n')[1]?.split('\n') ?? [];
    expect(lines[0]).toMatch(new RegExp(`^- \\*\\*replace\\*\\* \`${BUCKET}\` \\(prod-data-lake\\): the bucket and every object in it are deleted`));
    expect(lines[0]).toContain('(forced by `bucket`)');
    expect(lines[0]).toContain('lifecycle.prevent_destroy');
    expect(lines).toContainEqual(expect.stringMatching(/^- \*\*remove\*\* `KafkaTopic kafka\/orders\.dlq` \(pipelines\/order-events\/kafkatopic-kafka-orders\.dlq\.yaml\): deleting the topic deletes its records/));
    expect(lines).toContainEqual('- **shrink** `Kafka kafka/events` (kafka/kafka-kafka-events.yaml): `spec.kafka.config["log.retention.hours"]` 168 → 72: records older than the new retention are deleted');
    // The topics' retention follows the environment's.
    expect(lines).toContainEqual(expect.stringContaining('**shrink** `KafkaTopic kafka/orders` (pipelines/order-events/kafkatopic-kafka-orders.yaml): `spec.config["retention.ms"]` 604800000 → 259200000'));
    expect(lines).toHaveLength(7);
  });

  it('names the replaced bucket, its controls and the changed policies, with the attributes', SLOW, () => {
    const prod = section(markdown.stdout, 'prod');
    const dataLake = prod.slice(prod.indexOf('#### prod-data-lake'), prod.indexOf('### Kubernetes'));
    const replaced = items(dataLake, 'Replaced');
    expect(replaced.map((line) => /^- `([^`]+)`/.exec(line)?.[1])).toEqual([BUCKET, ...BUCKET_CONTROLS].sort());
    expect(replaced).toContainEqual(`- \`${BUCKET}\`: forced by \`bucket\` — lifecycle.prevent_destroy: terraform refuses this until it is lifted`);
    // The controls point at the bucket by reference: replaced with it, since `bucket` forces their replacement too.
    expect(replaced).toContainEqual(`- \`aws_s3_bucket_versioning.curated_versioning_81A3B284\`: forced by \`bucket\` (known after \`${BUCKET}\` is replaced)`);
    expect(replaced).toContainEqual(expect.stringMatching(/^- `aws_s3_bucket_logging\.curated_access-logging_9A47059D`: forced by `bucket` .*; also `target_prefix`$/));
    expect(replaced).toContainEqual(expect.stringMatching(/^- `aws_s3_bucket_policy\.curated_policy_DB4E400B`: .*also `policy › Statement\[0\]\.Resource\[0\]`, `policy › Statement\[0\]\.Resource\[1\]`$/));
    expect(items(dataLake, 'Changed')).toEqual([]);
    expect(items(dataLake, 'Destroyed')).toEqual([]);

    const cluster = prod.slice(prod.indexOf('#### prod-cluster'), prod.indexOf('#### prod-data-lake'));
    const changed = items(cluster, 'Changed');
    expect(changed.map((line) => /^- `([^`]+)`/.exec(line)?.[1])).toEqual(POLICIES);
    expect(changed[1]).toContain('`policy › Statement[0].Resource`');
    expect(prod).toContain('**prod**: Terraform 0 added, 2 changed, 8 replaced, 0 destroyed · Kubernetes 0 added, 8 changed, 1 removed · 7 changes destroy or shrink data');
  });

  it('shows the Kubernetes objects: the Kafka retention as a compact YAML diff, the removed topic', SLOW, () => {
    const prod = section(markdown.stdout, 'prod');
    const kubernetes = prod.slice(prod.indexOf('### Kubernetes'));
    expect(items(kubernetes, 'Removed')).toEqual(['- `KafkaTopic kafka/orders.dlq` (kafka.strimzi.io/v1, `pipelines/order-events/kafkatopic-kafka-orders.dlq.yaml`)']);
    const changed = items(kubernetes, 'Changed').map((line) => /^- `([^`]+)`/.exec(line)?.[1]);
    expect(changed).toEqual([
      'Kafka kafka/events',
      'ScheduledSparkApplication pipelines/daily-sales',
      'KafkaTopic kafka/order-summary',
      'KafkaTopic kafka/orders',
      'KafkaUser kafka/order-events',
      'SparkApplication pipelines/order-events',
      'KafkaTopic kafka/temperature.dlq',
      'KafkaTopic kafka/temperature',
    ]);
    expect(kubernetes).toContain('- `Kafka kafka/events` (kafka.strimzi.io/v1, `kafka/kafka-kafka-events.yaml`): `spec.kafka.config["log.retention.hours"]`');
    const kafkaDiff = /```diff\n([^]*?)\n {2}```/.exec(kubernetes.slice(kubernetes.indexOf('`Kafka kafka/events`')))?.[1] ?? '';
    expect(kafkaDiff.split('\n').filter((line) => /^ {2}[-+]/.test(line))).toEqual(['  -      log.retention.hours: 168', '  +      log.retention.hours: 72']);
    expect(kafkaDiff.split('\n').length).toBeLessThan(10); // only the changed lines and a little context
    // A job spec passed as one JSON argument is compared inside, and its long line shortened to what changed.
    expect(kubernetes).toContain('`SparkApplication pipelines/order-events` (sparkoperator.k8s.io/v1beta2, `pipelines/order-events/sparkapplication-pipelines-order-events.yaml`): `spec.arguments[1] › references[0].uri`, `spec.arguments[1] › rejects.topic`, `spec.arguments[1] › rejects.type`, `spec.arguments[1] › rejects.uri`');
    // The ACLs of the removed topic go with it.
    expect(kubernetes).toContain('  -          - Write\n  -          - Describe\n  -        resource:\n  -          name: orders.dlq');
  });

  it('reports the other environments too: the bucket everywhere, prod-only retention only in prod', SLOW, () => {
    const dev = section(markdown.stdout, 'dev');
    expect(dev).toContain('**dev**: Terraform 0 added, 2 changed, 8 replaced, 0 destroyed · Kubernetes 0 added, 3 changed, 1 removed · 2 changes destroy or shrink data');
    expect(dev).not.toContain('log.retention.hours');
    expect(dev).toContain('- **replace** `aws_s3_bucket.curated_bucket_852DE08A` (dev-data-lake)');
    expect(dev).not.toContain('prevent_destroy'); // dev does not retain data
    expect(markdown.stdout.indexOf('\n## dev\n')).toBeLessThan(markdown.stdout.indexOf('\n## staging\n'));
    expect(markdown.stdout.indexOf('\n## staging\n')).toBeLessThan(markdown.stdout.indexOf('\n## prod\n'));
  });

  it('emits the same content as JSON with --json', SLOW, () => {
    const report = JSON.parse(json.stdout) as {
      base: string;
      baseCommit: string;
      environments: Array<{
        env: string;
        summary: unknown;
        dataRisks: Array<{ side: string; action: string; subject: string }>;
        terraform: Array<{ stack: string; address: string; action: string; forcedBy: string[]; changes: Array<{ path: string; via?: string }> }>;
        kubernetes: Array<{ action: string; kind: string; name: string; paths: string[]; diff: string[] }>;
      }>;
    };
    expect(report.base).toBe('HEAD~1');
    expect(report.baseCommit).toBe(git(repo, 'rev-parse', 'HEAD~1').trim());
    expect(report.environments.map((env) => env.env)).toEqual(['dev', 'staging', 'prod']);
    const prod = report.environments[2]!;
    expect(prod.summary).toEqual({ terraform: { added: 0, changed: 2, replaced: 8, destroyed: 0 }, kubernetes: { added: 0, changed: 8, removed: 1 }, dataRisks: 7 });
    expect(prod.dataRisks[0]).toMatchObject({ side: 'terraform', action: 'replace', subject: BUCKET });
    const bucket = prod.terraform.find((change) => change.address === BUCKET);
    expect(bucket).toMatchObject({ stack: 'prod-data-lake', action: 'replace', forcedBy: ['bucket'], changes: [{ path: 'bucket' }], preventDestroy: true });
    const versioning = prod.terraform.find((change) => change.address === BUCKET_CONTROLS[6]);
    expect(versioning).toMatchObject({ action: 'replace', forcedBy: ['bucket'], changes: [{ path: 'bucket', via: BUCKET }] });
    const kafka = prod.kubernetes.find((change) => change.kind === 'Kafka');
    expect(kafka).toMatchObject({ action: 'change', name: 'events', paths: ['spec.kafka.config["log.retention.hours"]'] });
    expect(kafka?.diff).toContain('-      log.retention.hours: 168');
    expect(prod.kubernetes.filter((change) => change.action === 'remove').map((change) => `${change.kind} ${change.name}`)).toEqual(['KafkaTopic orders.dlq']);
    // Everything in the JSON is in the Markdown.
    for (const change of prod.terraform) expect(section(markdown.stdout, 'prod')).toContain(`\`${change.address}\``);
  });

  it('fails with a clear message when --base names no commit', SLOW, async () => {
    const run = await runScript(repo, 'review', ['--base', 'no-such-branch']);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe("review: option '--base' must name a commit of this repository (a branch, tag, SHA or HEAD~1), got 'no-such-branch'\n");
  });

  it('rejects a missing or unknown option in one line that names it', SLOW, async () => {
    const [missing, valueless, unknown] = await Promise.all([
      runScript(repo, 'review', []),
      runScript(repo, 'review', ['--base', '--json']),
      runScript(repo, 'review', ['--base', 'HEAD', '--format', 'md']),
    ]);
    for (const run of [missing, valueless, unknown]) {
      expect(run.status).toBe(1);
      expect(run.stdout).toBe('');
    }
    expect(missing.stderr.split('\n')[0]).toBe("review: option '--base' is required: the git ref to compare the working tree with, such as origin/main or HEAD~1, got nothing");
    expect(valueless.stderr.split('\n')[0]).toBe("review: option '--base' needs a value (the git ref to compare the working tree with, such as origin/main or HEAD~1), got '--json'");
    expect(unknown.stderr.split('\n')[0]).toBe("review: option '--format' is not known: the options are --base, --json");
  });

  it('fails and shows the synth error when one side does not synthesize', SLOW, async () => {
    const file = join(repo, 'environments', 'prod.ts');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace('brokers: 3,', 'brokers: -3,'));
    try {
      const run = await runScript(repo, 'review', ['--base', 'HEAD']);
      expect(run.status).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('review: the synth of the working tree failed:');
      expect(run.stderr).toContain("environments/prod.ts: environment 'prod': 'kafka.brokers' must be at least 1, got -3");
    } finally {
      writeFileSync(file, original);
    }
    expect(git(repo, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);
  });
});

describe('long lines in a YAML diff', () => {
  it('are shortened to the part that changed, with a little around it', () => {
    const common = 'x'.repeat(200);
    const [removed, added] = readableDiff([`-  - "${common}curated${common}"`, `+  - "${common}blue${common}"`]);
    expect(removed).toBe(`-…${'x'.repeat(50)}curated${'x'.repeat(50)}…`);
    expect(added).toBe(`+…${'x'.repeat(50)}blue${'x'.repeat(50)}…`);
    expect(readableDiff([' short', '-a', '+b'])).toEqual([' short', '-a', '+b']);
  });
});
