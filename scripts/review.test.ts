import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentNames } from '../environments/load';
import { bucketName, deadLetterTopic, KAFKA_CLUSTER, NAMESPACES, RENDERED_ROOT } from '../environments/naming';
import { DATA_BUCKETS } from '../pipelines/schema';
import { dataRisks, retentionInWords } from './data-risk';
import { diffKubernetes, diffStack, objectLabel, readKubernetesTree, stackConfig, type KubernetesObject, type KubernetesTree } from './output-diff';
import { ALSO_A_DATA_RISK, readableDiff, renderMarkdown, type EnvironmentReview } from './review';
import { commitAll, git, runScript, synthesize, throwawayRepository } from './test-projects';

// One throwaway repository for every test here. Its pipelines are replaced by a fixture of this test's own,
// committed as the base revision; the next commit shortens the Kafka retention of one environment, renames a data
// bucket in every environment and moves the fixture's dead letters from a topic to that bucket. Nothing
// below depends on the values the example environments ship with, nor on the names of the environments or
// of the reference pipelines. Each review synthesizes both revisions (about 2 s), so the runs are shared
// and started together.
const SLOW = { timeout: 120_000 };
const scratch = mkdtempSync(join(tmpdir(), 'driftless-review-test-'));
const repo = join(scratch, 'repo');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const FIXTURE = 'review-fixture';
const SOURCE = `${FIXTURE}-in`;
const SINK = `${FIXTURE}-out`;
const DLQ = deadLetterTopic(SOURCE);
/** The bucket that the fixture reads a reference table from, renamed by the change. */
const PURPOSE = DATA_BUCKETS[0];
const REJECTS_BEFORE = `{ type: 'kafka', topic: '${DLQ}' }`;
const REJECTS_AFTER = `{ type: 's3', bucket: '${PURPOSE}', prefix: 'rejects/${FIXTURE}/' }`;

/** A streaming pipeline in the shape of pipelines/<name>/pipeline.ts, with Kafka topics in and out. */
const fixturePipeline = (environments: readonly string[], rejects: string): string => `import type { PipelineInput } from '../schema';

/** Written by scripts/review.test.ts: readings passed on as they are, dead letters where the test says. */
export const pipeline = {
  name: '${FIXTURE}',
  description: 'Readings from one topic passed on to another, for the review test.',
  kind: 'streaming',
  triggerSeconds: 30,
  source: { type: 'kafka', topic: '${SOURCE}', format: 'json' },
  references: [{ type: 's3', bucket: '${PURPOSE}', prefix: 'reference/${FIXTURE}/', format: 'csv', as: 'sites' }],
  schema: [
    { name: 'reading_id', type: 'string' },
    { name: 'reading', type: 'double' },
  ],
  quality: { required: ['reading_id', 'reading'], ranges: [] },
  steps: ['pass-on.sql'],
  state: { merge: {} },
  sink: { type: 'kafka', topic: '${SINK}' },
  rejects: ${rejects},
  topics: { partitions: ${JSON.stringify(Object.fromEntries(environments.map((env) => [env, 1])))} },
  alerts: { staleAfterMinutes: 10 },
} satisfies PipelineInput;
`;

/** An environment file of the repository, found by what it declares rather than by its name. */
interface EnvironmentFile {
  /** Relative to the repository. */
  readonly file: string;
  readonly name: string;
  /** What bucketName needs. */
  readonly scope: Parameters<typeof bucketName>[0];
}

/** The environment files under environments/ (as the platform finds them), in name order, with what each declares. */
async function environmentFiles(root: string): Promise<EnvironmentFile[]> {
  const files = environmentNames(join(root, 'environments')).map((name) => `${name}.ts`);
  return Promise.all(
    files.map(async (file) => {
      const { environment } = (await import(pathToFileURL(join(root, 'environments', file)).href)) as { environment: { name: string; aws: unknown } };
      const name = environment.name;
      return { file: `environments/${file}`, name, scope: { ...environment, name } as Parameters<typeof bucketName>[0] };
    }),
  );
}

/** Replaces the one match of `pattern` in a file of the repository. */
function edit(file: string, pattern: RegExp, to: (match: string) => string): void {
  const path = join(repo, file);
  const before = readFileSync(path, 'utf8');
  const matches = before.match(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`)) ?? [];
  if (matches.length !== 1) throw new Error(`${file} should contain ${pattern} once, it contains it ${matches.length} times`);
  writeFileSync(path, before.replace(pattern, to));
}

const RETENTION_HOURS = /\bretentionHours:\s*(\d+)/;
const hoursIn = (file: string): number => Number(RETENTION_HOURS.exec(readFileSync(join(repo, file), 'utf8'))?.[1]);

type Resources = ReadonlyMap<string, Record<string, unknown>>;

/** What the base revision holds for one environment, from which each test computes what the report must say. */
interface Base {
  readonly env: EnvironmentFile;
  /** Every stack of the environment: resource address → arguments. */
  readonly stacks: ReadonlyMap<string, Resources>;
  readonly rendered: KubernetesTree;
  readonly oldBucketName: string;
  /** The address of the renamed bucket, in `<env>-data-lake`. */
  readonly bucket: string;
}

type Run = Awaited<ReturnType<typeof runScript>>;
let markdown: Run;
let json: Run;
let environments: EnvironmentFile[];
/** The environment whose retention the change shortens, and its retention before and after, in hours. */
let shortened: EnvironmentFile;
let hoursBefore: number;
let hoursAfter: number;
let bases: Base[];

beforeAll(async () => {
  throwawayRepository(repo);
  // The base: the fixture instead of whatever pipelines the project has.
  for (const entry of readdirSync(join(repo, 'pipelines'))) {
    if (existsSync(join(repo, 'pipelines', entry, 'pipeline.ts'))) rmSync(join(repo, 'pipelines', entry), { recursive: true });
  }
  environments = await environmentFiles(repo);
  expect(environments.length, 'no file under environments/ declares an environment').toBeGreaterThan(0);
  mkdirSync(join(repo, 'pipelines', FIXTURE));
  writeFileSync(join(repo, 'pipelines', FIXTURE, 'pipeline.ts'), fixturePipeline(environments.map((env) => env.name), REJECTS_BEFORE));
  writeFileSync(join(repo, 'pipelines', FIXTURE, 'pass-on.sql'), '-- Every valid reading, unchanged.\nSELECT reading_id, reading FROM source\n');
  shortened = environments[0]!;
  // A retention of one hour cannot be shortened: the base gets two then.
  if (hoursIn(shortened.file) < 2) edit(shortened.file, RETENTION_HOURS, () => 'retentionHours: 2');
  hoursBefore = hoursIn(shortened.file);
  hoursAfter = Math.floor(hoursBefore / 2);
  synthesize(repo);
  bases = environments.map((env) => baseOf(env));
  commitAll(repo, 'fixture pipeline instead of the project pipelines');

  // Second commit: the change under review.
  edit(shortened.file, RETENTION_HOURS, () => `retentionHours: ${hoursAfter}`);
  edit('environments/naming.ts', /\bexport const bucketName =/, () => 'const shippedBucketName =');
  writeFileSync(
    join(repo, 'environments', 'naming.ts'),
    `${readFileSync(join(repo, 'environments', 'naming.ts'), 'utf8')}\n` +
      `export const bucketName = (...args: Parameters<typeof shippedBucketName>): string =>\n` +
      `  args[1] === '${PURPOSE}' ? \`\${shippedBucketName(...args)}-2\` : shippedBucketName(...args);\n`,
  );
  edit(`pipelines/${FIXTURE}/pipeline.ts`, /rejects: .*,$/m, () => `rejects: ${REJECTS_AFTER},`);
  commitAll(repo, 'shorter retention, renamed bucket, no dead-letter topic');
  [markdown, json] = await Promise.all([runScript(repo, 'review', ['--base', 'HEAD~1']), runScript(repo, 'review', ['--base', 'HEAD~1', '--json'])]);
}, 180_000);

function baseOf(env: EnvironmentFile): Base {
  const stacksDir = join(repo, 'cdktf.out', 'stacks');
  const stacks = new Map(
    readdirSync(stacksDir)
      .filter((stack) => stack.startsWith(`${env.name}-`))
      .map((stack) => [stack, stackConfig(JSON.parse(readFileSync(join(stacksDir, stack, 'cdk.tf.json'), 'utf8')))] as const),
  );
  const oldBucketName = bucketName(env.scope, PURPOSE);
  const bucket = [...(stacks.get(`${env.name}-data-lake`) ?? new Map<string, Record<string, unknown>>())].find(
    ([address, args]) => address.startsWith('aws_s3_bucket.') && args.bucket === oldBucketName,
  )?.[0];
  if (bucket === undefined) throw new Error(`no aws_s3_bucket named ${oldBucketName} in ${env.name}-data-lake`);
  return { env, stacks, rendered: readKubernetesTree(join(repo, RENDERED_ROOT, env.name)), oldBucketName, bucket };
}

/** The Terraform changes that renaming the bucket must cause in one environment, as `<action> <address>` by stack. */
function expectedTerraform(base: Base): Map<string, string[]> {
  const expected = new Map<string, string[]>();
  for (const [stack, resources] of base.stacks) {
    const changes = [...resources].flatMap(([address, args]) => {
      const text = JSON.stringify(args);
      if (address === base.bucket) return [`replace ${address}`];
      // What attaches to the bucket by reference: its `bucket` argument forces replacement too.
      if (text.includes(`\${${base.bucket}.`)) return [`replace ${address}`];
      // What names it (policies): changed in place.
      if (text.includes(base.oldBucketName)) return [`update ${address}`];
      return [];
    });
    if (changes.length > 0) expected.set(stack, changes.sort());
  }
  return expected;
}

const label = (kind: string, namespace: string, name: string): string => objectLabel({ kind, namespace, name });
const TOPIC = (topic: string) => label('KafkaTopic', NAMESPACES.kafka, topic);
const KAFKA = label('Kafka', NAMESPACES.kafka, KAFKA_CLUSTER);

/** The base object with this label. */
function objectOf(base: Base, objectLabel: string): KubernetesObject {
  const found = [...base.rendered.objects.values()].filter((object) => label(object.kind, object.namespace, object.name) === objectLabel);
  expect(found, `one ${objectLabel} in the base of ${base.env.name}`).toHaveLength(1);
  return found[0]!;
}

/** The Kubernetes objects that the change must change in one environment, as labels. */
function expectedChangedObjects(base: Base): string[] {
  const namingBucket = [...base.rendered.objects.values()].filter((object) => JSON.stringify(object.value).includes(base.oldBucketName));
  return [
    ...new Set([
      label('KafkaUser', NAMESPACES.kafka, FIXTURE), // its ACLs lose the dead-letter topic
      label('SparkApplication', NAMESPACES.pipelines, FIXTURE), // its job spec names the rejects and the bucket
      ...namingBucket.map((object) => label(object.kind, object.namespace, object.name)),
      ...(base.env === shortened ? [KAFKA, TOPIC(SOURCE), TOPIC(SINK)] : []),
    ]),
  ].sort();
}

const preventsDestroy = (base: Base): boolean =>
  (base.stacks.get(`${base.env.name}-data-lake`)?.get(base.bucket)?.lifecycle as { prevent_destroy?: unknown } | undefined)?.prevent_destroy === true;

/**
 * The data risks of one environment as the report lists them: Terraform first, then Kubernetes by file. A line
 * that ends in '; ' is the beginning of the report's line, which goes on to say what Argo CD does.
 */
function expectedRisks(base: Base): string[] {
  const guard = preventsDestroy(base) ? '; it has lifecycle.prevent_destroy, so terraform refuses this plan until that is lifted' : '';
  const dlq = objectOf(base, TOPIC(DLQ));
  const retention = (key: string, unit: number) => {
    const [before, after] = [hoursBefore * unit, hoursAfter * unit];
    return `${before} (${retentionInWords(key, before)}) → ${after} (${retentionInWords(key, after)}): records older than the new retention are deleted`;
  };
  const shrinks: Array<[string, string]> =
    base.env === shortened
      ? [
          [objectOf(base, KAFKA).file, `- **shrink** \`${KAFKA}\` (${objectOf(base, KAFKA).file}): \`spec.kafka.config["log.retention.hours"]\` ${retention('log.retention.hours', 1)}`],
          ...[SOURCE, SINK].map((topic): [string, string] => {
            const { file } = objectOf(base, TOPIC(topic));
            return [file, `- **shrink** \`${TOPIC(topic)}\` (${file}): \`spec.config["retention.ms"]\` ${retention('retention.ms', 3_600_000)}`];
          }),
        ]
      : [];
  const kubernetes: Array<[string, string]> = [[dlq.file, `- **remove** \`${TOPIC(DLQ)}\` (${dlq.file}): deleting the topic deletes its records; `], ...shrinks];
  return [
    `- **replace** \`${base.bucket}\` (${base.env.name}-data-lake): the bucket and every object in it are deleted; a new, empty bucket takes its place (forced by \`bucket\`)${guard}`,
    ...kubernetes.sort(([a], [b]) => a.localeCompare(b)).map(([, line]) => line),
  ];
}

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

/** The part of a section from `from` up to `to` (or the end). */
function part(text: string, from: string, to?: string): string {
  const start = text.indexOf(from);
  expect(start, `no '${from}'`).toBeGreaterThanOrEqual(0);
  const end = to === undefined ? -1 : text.indexOf(to, start + from.length);
  return text.slice(start, end < 0 ? undefined : end);
}

const subjectOf = (line: string): string | undefined => /^- `([^`]+)`/.exec(line)?.[1];

describe('npm run review -- --base <ref>', () => {
  it('runs offline and exits 0, leaving no worktree behind', SLOW, () => {
    expect(markdown.stderr).toBe('');
    expect(markdown.status).toBe(0);
    expect(json.status).toBe(0);
    expect(git(repo, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);
    expect(markdown.stdout).toContain('`npm run plan -- --env <env>` gives Terraform\'s exact answer');
  });

  it('lists what destroys or shrinks data first, under a warning, with retentions in words', SLOW, () => {
    expect(hoursAfter).toBeLessThan(hoursBefore);
    for (const base of bases) {
      const text = section(markdown.stdout, base.env.name);
      const warning = text.indexOf(`### ⚠️ Destroys or shrinks data in ${base.env.name}`);
      expect(warning).toBeGreaterThan(0);
      expect(warning).toBeLessThan(text.indexOf('### Terraform'));
      expect(warning).toBeLessThan(text.indexOf('### Kubernetes'));
      const lines = text.slice(warning).split('\n\n')[1]?.split('\n') ?? [];
      const expected = expectedRisks(base);
      expect(lines.map((line, index) => (expected[index]?.endsWith('; ') ? line.slice(0, expected[index]?.length) : line))).toEqual(expected);
    }
  });

  it('names the replaced bucket, what attaches to it and what names it, in every environment', SLOW, () => {
    const report = JSON.parse(json.stdout) as { environments: Array<{ env: string; terraform: Array<{ stack: string; address: string; action: string }> }> };
    for (const base of bases) {
      const terraform = report.environments.find((env) => env.env === base.env.name)?.terraform ?? [];
      const byStack = new Map<string, string[]>();
      for (const change of terraform) byStack.set(change.stack, [...(byStack.get(change.stack) ?? []), `${change.action} ${change.address}`].sort());
      expect(byStack).toEqual(expectedTerraform(base));
    }
  });

  it('lists the replaced bucket with its guard, marked as a data risk, and the controls that go with it unmarked', SLOW, () => {
    for (const base of bases) {
      const text = section(markdown.stdout, base.env.name);
      const dataLake = part(text, `#### ${base.env.name}-data-lake`, '\n#### ');
      const replaced = items(dataLake, 'Replaced');
      const controls = (expectedTerraform(base).get(`${base.env.name}-data-lake`) ?? []).map((change) => change.replace(/^replace /, '')).filter((address) => address !== base.bucket);
      expect(controls.length).toBeGreaterThan(0);
      expect(replaced.map(subjectOf).sort()).toEqual([base.bucket, ...controls].sort());
      const guard = preventsDestroy(base) ? ' — lifecycle.prevent_destroy: terraform refuses this until it is lifted' : '';
      expect(replaced).toContainEqual(`- \`${base.bucket}\`: forced by \`bucket\`${guard}${ALSO_A_DATA_RISK}`);
      for (const control of controls) {
        const line = replaced.find((item) => subjectOf(item) === control) ?? '';
        expect(line.startsWith(`- \`${control}\`: forced by \`bucket\` (known after \`${base.bucket}\` is replaced)`), line).toBe(true);
        expect(line).not.toContain(ALSO_A_DATA_RISK);
      }
      // A data risk is marked once where it is listed again, and nothing else is marked.
      expect(text.split(ALSO_A_DATA_RISK).length - 1).toBe(expectedRisks(base).length);
    }
  });

  it('shows the Kubernetes objects: the retention as a compact YAML diff in words, the removed topic marked', SLOW, () => {
    for (const base of bases) {
      const kubernetes = part(section(markdown.stdout, base.env.name), '### Kubernetes');
      const dlq = objectOf(base, TOPIC(DLQ));
      expect(items(kubernetes, 'Removed')).toEqual([`- \`${TOPIC(DLQ)}\` (${dlq.apiVersion}, \`${dlq.file}\`)${ALSO_A_DATA_RISK}`]);
      expect(items(kubernetes, 'Added')).toEqual([]);
      const changed = items(kubernetes, 'Changed');
      expect(changed.map(subjectOf).sort()).toEqual(expectedChangedObjects(base));
      const spark = objectOf(base, label('SparkApplication', NAMESPACES.pipelines, FIXTURE));
      // A job spec passed as one JSON argument is compared inside.
      expect(changed).toContainEqual(
        `- \`${label('SparkApplication', NAMESPACES.pipelines, FIXTURE)}\` (${spark.apiVersion}, \`${spark.file}\`): \`spec.arguments[1] › references[0].uri\`, \`spec.arguments[1] › rejects.topic\`, \`spec.arguments[1] › rejects.type\`, \`spec.arguments[1] › rejects.uri\``,
      );
      // The ACLs of the removed topic go with it.
      expect(kubernetes).toContain(`  -          - Write\n  -          - Describe\n  -        resource:\n  -          name: ${DLQ}`);
      if (base.env !== shortened) {
        expect(kubernetes).not.toContain('retention');
        continue;
      }
      const kafka = objectOf(base, KAFKA);
      expect(changed).toContainEqual(`- \`${KAFKA}\` (${kafka.apiVersion}, \`${kafka.file}\`): \`spec.kafka.config["log.retention.hours"]\`${ALSO_A_DATA_RISK}`);
      const kafkaDiff = /```diff\n([^]*?)\n {2}```/.exec(kubernetes.slice(kubernetes.indexOf(`\`${KAFKA}\``)))?.[1] ?? '';
      expect(kafkaDiff.split('\n').filter((line) => /^ {2}[-+]/.test(line))).toEqual([
        `  -      log.retention.hours: ${hoursBefore} # ${retentionInWords('log.retention.hours', hoursBefore)}`,
        `  +      log.retention.hours: ${hoursAfter} # ${retentionInWords('log.retention.hours', hoursAfter)}`,
      ]);
      expect(kafkaDiff.split('\n').length).toBeLessThan(10); // only the changed lines and a little context
      for (const topic of [SOURCE, SINK]) {
        const object = objectOf(base, TOPIC(topic));
        expect(changed).toContainEqual(`- \`${TOPIC(topic)}\` (${object.apiVersion}, \`${object.file}\`): \`spec.config["retention.ms"]\`${ALSO_A_DATA_RISK}`);
      }
      expect(kubernetes).toContain(`  +    retention.ms: ${hoursAfter * 3_600_000} # ${retentionInWords('retention.ms', hoursAfter * 3_600_000)}`);
    }
  });

  it('has a section for every environment, with a summary line that adds up', SLOW, () => {
    for (const base of bases) {
      const terraform = [...expectedTerraform(base).values()].flat();
      const count = (action: string) => terraform.filter((change) => change.startsWith(`${action} `)).length;
      const changed = expectedChangedObjects(base).length;
      const risks = expectedRisks(base).length;
      expect(section(markdown.stdout, base.env.name)).toContain(
        `**${base.env.name}**: Terraform 0 added, ${count('update')} changed, ${count('replace')} replaced, 0 destroyed · Kubernetes 0 added, ${changed} changed, 1 removed · ${risks} changes destroy or shrink data`,
      );
    }
  });

  it('emits the same content as JSON with --json', SLOW, () => {
    const report = JSON.parse(json.stdout) as {
      base: string;
      baseCommit: string;
      environments: Array<{
        env: string;
        summary: unknown;
        dataRisks: Array<{ side: string; action: string; subject: string; where: string; detail: string }>;
        terraform: Array<{ stack: string; address: string; action: string; forcedBy: string[]; changes: Array<{ path: string; via?: string }>; preventDestroy: boolean }>;
        kubernetes: Array<{ action: string; kind: string; name: string; paths: string[]; diff: string[] }>;
      }>;
    };
    expect(report.base).toBe('HEAD~1');
    expect(report.baseCommit).toBe(git(repo, 'rev-parse', 'HEAD~1').trim());
    expect([...report.environments.map((env) => env.env)].sort()).toEqual(environments.map((env) => env.name).sort());
    // The Markdown has the environments in the same order.
    const sections = [...markdown.stdout.matchAll(/^## (.+)$/gm)].map((match) => match[1]);
    expect(sections).toEqual(report.environments.map((env) => env.env));
    for (const base of bases) {
      const env = report.environments.find((item) => item.env === base.env.name)!;
      const terraform = [...expectedTerraform(base).values()].flat();
      const count = (action: string) => terraform.filter((change) => change.startsWith(`${action} `)).length;
      expect(env.summary).toEqual({
        terraform: { added: 0, changed: count('update'), replaced: count('replace'), destroyed: 0 },
        kubernetes: { added: 0, changed: expectedChangedObjects(base).length, removed: 1 },
        dataRisks: expectedRisks(base).length,
      });
      expect(env.dataRisks[0]).toMatchObject({ side: 'terraform', action: 'replace', subject: base.bucket, where: `${base.env.name}-data-lake` });
      const bucket = env.terraform.find((change) => change.address === base.bucket);
      expect(bucket).toMatchObject({ action: 'replace', forcedBy: ['bucket'], changes: [{ path: 'bucket' }], preventDestroy: preventsDestroy(base) });
      const versioning = env.terraform.find((change) => change.address.startsWith('aws_s3_bucket_versioning.') && change.action === 'replace');
      expect(versioning).toMatchObject({ forcedBy: ['bucket'], changes: [{ path: 'bucket', via: base.bucket }] });
      expect(env.kubernetes.filter((change) => change.action === 'remove').map((change) => `${change.kind} ${change.name}`)).toEqual([`KafkaTopic ${DLQ}`]);
      if (base.env === shortened) {
        const kafka = env.kubernetes.find((change) => change.kind === 'Kafka');
        expect(kafka).toMatchObject({ action: 'change', name: KAFKA_CLUSTER, paths: ['spec.kafka.config["log.retention.hours"]'] });
        // The JSON keeps the diff as it is: the words are for the Markdown reader.
        expect(kafka?.diff).toContain(`-      log.retention.hours: ${hoursBefore}`);
        expect(env.dataRisks.map((risk) => risk.detail)).toContainEqual(expect.stringContaining(`${hoursBefore} (${retentionInWords('log.retention.hours', hoursBefore)}) → `));
      }
      // Everything in the JSON is in the Markdown.
      for (const change of env.terraform) expect(section(markdown.stdout, base.env.name)).toContain(`\`${change.address}\``);
    }
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
    const file = join(repo, shortened.file);
    const original = readFileSync(file, 'utf8');
    try {
      edit(shortened.file, /\bbrokers:\s*\d+/, () => 'brokers: -3');
      const run = await runScript(repo, 'review', ['--base', 'HEAD']);
      expect(run.status).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('review: the synth of the working tree failed:');
      expect(run.stderr).toContain(`${shortened.file}: environment '${shortened.name}': 'kafka.brokers' must be at least 1, got -3`);
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

describe('the Markdown of a review', () => {
  const object = (kind: string, name: string, spec: Record<string, unknown>): KubernetesObject => ({
    id: `kafka.strimzi.io/v1/${kind}/kafka/${name}`,
    apiVersion: 'kafka.strimzi.io/v1',
    kind,
    namespace: 'kafka',
    name,
    file: `pipelines/clicks/${kind.toLowerCase()}-${name}.yaml`,
    value: { apiVersion: 'kafka.strimzi.io/v1', kind, metadata: { name, namespace: 'kafka' }, spec },
  });
  const topic = (name: string, retention: number) => object('KafkaTopic', name, { config: { 'retention.ms': retention }, partitions: 3 });
  // A user named like the topic: the same label but for the kind, and no data risk.
  const user = (acl: string) => object('KafkaUser', 'clicks', { acls: [acl] });
  const tree = (objects: readonly KubernetesObject[]) => new Map(objects.map((o) => [o.id, o]));
  const bucketStack = (name: string) =>
    stackConfig({
      resource: {
        aws_s3_bucket: { raw: { bucket: name, lifecycle: { prevent_destroy: true } } },
        aws_s3_bucket_versioning: { raw_versioning: { bucket: '${aws_s3_bucket.raw.id}' } },
        aws_iam_role_policy: { reader: { name: 'reader', role: 'r', policy: `{"Resource":"arn:aws:s3:::${name}"}` } },
      },
    });
  const diff = {
    env: 'blue',
    terraform: diffStack('blue-data-lake', bucketStack('raw-a'), bucketStack('raw-b')),
    kubernetes: diffKubernetes(
      tree([topic('clicks', 604_800_000), topic('clicks.dlq', 604_800_000), user('Write clicks.dlq')]),
      tree([topic('clicks', 90_000_000), user('Read clicks')]),
    ),
  };
  const review: EnvironmentReview = {
    ...diff,
    risks: dataRisks(diff),
    summary: { terraform: { added: 0, changed: 1, replaced: 2, destroyed: 0 }, kubernetes: { added: 0, changed: 2, removed: 1 }, dataRisks: 3 },
  };
  const text = renderMarkdown('main', 'c0ffee0c0ffee0c0ffee', [review]);

  it('shows retentions in words beside the raw values, among the risks and in the YAML diff', () => {
    expect(text).toContain(
      '- **shrink** `KafkaTopic kafka/clicks` (pipelines/clicks/kafkatopic-clicks.yaml): `spec.config["retention.ms"]` 604800000 (7 days) → 90000000 (25 hours): records older than the new retention are deleted',
    );
    expect(text).toContain('  -    retention.ms: 604800000 # 7 days\n  +    retention.ms: 90000000 # 25 hours\n');
    expect(text).toContain('  -    - Write clicks.dlq\n  +    - Read clicks\n'); // other lines as they are
  });

  it('marks each change that is also a data risk where it is listed again, and only those', () => {
    expect(items(text, 'Replaced')).toEqual([
      '- `aws_s3_bucket.raw`: forced by `bucket` — lifecycle.prevent_destroy: terraform refuses this until it is lifted (⚠️ also listed under data risks above)',
      '- `aws_s3_bucket_versioning.raw_versioning`: forced by `bucket` (known after `aws_s3_bucket.raw` is replaced)',
    ]);
    expect(items(text, 'Changed').filter((line) => line.startsWith('- `aws_'))).toEqual(['- `aws_iam_role_policy.reader`: `policy › Resource`']);
    const kubernetes = text.slice(text.indexOf('### Kubernetes'));
    expect(items(kubernetes, 'Removed')).toEqual([
      '- `KafkaTopic kafka/clicks.dlq` (kafka.strimzi.io/v1, `pipelines/clicks/kafkatopic-clicks.dlq.yaml`) (⚠️ also listed under data risks above)',
    ]);
    expect(items(kubernetes, 'Changed')).toEqual([
      '- `KafkaTopic kafka/clicks` (kafka.strimzi.io/v1, `pipelines/clicks/kafkatopic-clicks.yaml`): `spec.config["retention.ms"]` (⚠️ also listed under data risks above)',
      '- `KafkaUser kafka/clicks` (kafka.strimzi.io/v1, `pipelines/clicks/kafkauser-clicks.yaml`): `spec.acls[0]`',
    ]);
    expect(review.risks.map((risk) => risk.subject)).toEqual(['aws_s3_bucket.raw', 'KafkaTopic kafka/clicks.dlq', 'KafkaTopic kafka/clicks']);
    expect(text.split(ALSO_A_DATA_RISK)).toHaveLength(review.risks.length + 1);
  });
});
