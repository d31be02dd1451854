import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyProject, PROJECT_ROOT } from './project-copy';
import { outputDigest, outputTree } from './test-projects';
import { environmentNames } from '../environments/load';

/** The environments in environments/, as the scripts list them in their errors. */
const KNOWN = environmentNames().join(', ');

// These tests run `npm run synth`'s script as a user would, in copies of the project in other folders.
const SLOW = { timeout: 120_000 };
const scratch = mkdtempSync(join(tmpdir(), 'driftless-synth-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function runSynth(project: string, args: string[] = [], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/synth.ts', ...args], {
    cwd: project,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm run synth', () => {
  // Different depths, a space in the path, other time zones and locales (tr_TR breaks naive case mapping).
  const first = join(scratch, 'a');
  const second = join(scratch, 'somewhere else', 'deeper', 'b');

  beforeAll(() => {
    copyProject(first);
    copyProject(second);
  });

  it('writes byte-identical output in any folder, time zone and locale', SLOW, () => {
    const a = runSynth(first, [], { TZ: 'UTC', LANG: 'C', LC_ALL: 'C' });
    const b = runSynth(second, [], { TZ: 'Pacific/Chatham', LANG: 'tr_TR.UTF-8', LC_ALL: 'tr_TR.UTF-8' });
    expect(a.stderr).toBe('');
    expect(a.status).toBe(0);
    expect(b.status).toBe(0);
    const treeA = outputTree(first);
    const treeB = outputTree(second);
    expect([...treeA.keys()]).toEqual([...treeB.keys()]);
    for (const [path, bytes] of treeA) expect(treeB.get(path)?.equals(bytes), path).toBe(true);

    expect([...treeA.keys()].filter((p) => p.endsWith('cdk.tf.json'))).toHaveLength(12);
    for (const env of ['dev', 'staging', 'prod']) {
      expect([...treeA.keys()].some((p) => p.startsWith(`k8s/rendered/${env}/`))).toBe(true);
    }
  });

  it('puts no absolute path of the machine into the output', SLOW, () => {
    // As folders (trailing slash), so that a construct path such as `dev-bootstrap/root-application` is no match.
    // Not the bare temp folder: paths inside containers (emptyDir mounts at /tmp) are legitimate output.
    const folders = [first, scratch, PROJECT_ROOT, process.env.HOME ?? '/root'].map((d) => `${d.replace(/\/$/, '')}/`);
    const machineDetails = [...folders, basename(scratch)];
    for (const [path, bytes] of outputTree(first)) {
      const text = bytes.toString('utf8');
      for (const detail of machineDetails) expect(text.includes(detail), `${path} contains ${detail}`).toBe(false);
    }
  });

  it('matches the committed k8s/rendered tree exactly (run npm run synth and commit if this fails)', SLOW, () => {
    const rendered = (tree: Map<string, Buffer>) => new Map([...tree].filter(([p]) => p.startsWith('k8s/rendered/')));
    const fresh = rendered(outputTree(first));
    const committed = rendered(outputTree(PROJECT_ROOT));
    expect([...committed.keys()]).toEqual([...fresh.keys()]);
    for (const [path, bytes] of fresh) expect(committed.get(path)?.equals(bytes), `${path} is stale`).toBe(true);
  });

  it('writes the delivery workflows as committed, leaving other workflow files alone (run npm run synth and commit if this fails)', SLOW, async () => {
    const { GENERATED_WORKFLOWS: generated } = await import('./delivery-workflows');
    const folder = join(first, '.github', 'workflows');
    // A team's own workflow stays, a generated one edited by hand is written again, one deleted comes back.
    writeFileSync(join(folder, 'team-own.yml'), 'name: team-own\n');
    writeFileSync(join(folder, generated[0]!), '# edited by hand\n');
    rmSync(join(folder, generated[1]!));
    const run = runSynth(first, ['--env', environmentNames()[0]!]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(readFileSync(join(folder, 'team-own.yml'), 'utf8')).toBe('name: team-own\n');
    rmSync(join(folder, 'team-own.yml'));
    const workflows = (root: string) => readdirSync(join(root, '.github', 'workflows')).sort().map((file) => [file, readFileSync(join(root, '.github', 'workflows', file), 'utf8')]);
    expect(workflows(first)).toEqual(workflows(PROJECT_ROOT));
  });

  it('leaves the output unchanged when one environment is synthesized again with --env', SLOW, () => {
    const before = outputDigest(second);
    const result = runSynth(second, ['--env', 'dev']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('synth: dev: 4 stacks');
    expect(outputDigest(second)).toBe(before);
  });
});

describe('npm run synth with bad input', () => {
  const project = join(scratch, 'bad-input');
  let baseline = '';

  beforeAll(() => {
    copyProject(project);
    expect(runSynth(project).status).toBe(0);
    baseline = outputDigest(project);
  }, 120_000);

  /** Applies `edit` to a file of the copy, runs synth, restores the file; returns the run. */
  function synthWithEdit(file: string, edit: (source: string) => string, args: string[] = []) {
    const path = join(project, file);
    const original = readFileSync(path, 'utf8');
    const edited = edit(original);
    expect(edited, `the edit of ${file} changed nothing`).not.toBe(original);
    writeFileSync(path, edited);
    try {
      return runSynth(project, args);
    } finally {
      writeFileSync(path, original);
    }
  }

  function expectRejected(run: ReturnType<typeof runSynth>, ...messages: string[]) {
    expect(run.status).not.toBe(0);
    for (const message of messages) expect(run.stderr).toContain(message);
    expect(run.stderr).toContain('Nothing was written.');
    expect(run.stdout).toBe('');
    expect(outputDigest(project)).toBe(baseline);
    expect(readdirSync(project).filter((entry) => entry.startsWith('.synth-'))).toEqual([]);
  }

  it('stops on negative brokers, naming environment, field, value and rule', SLOW, () => {
    const run = synthWithEdit('environments/prod.ts', (s) => s.replace('brokers: 3,', 'brokers: -3,'));
    expectRejected(run, "environments/prod.ts: environment 'prod': 'kafka.brokers' must be at least 1, got -3");
  });

  it('stops on a malformed CIDR', SLOW, () => {
    const run = synthWithEdit('environments/staging.ts', (s) => s.replace("'10.20.0.0/16'", "'10.20.0/16'"));
    expectRejected(run, "environments/staging.ts: environment 'staging': 'network.vpcCidr' must be an IPv4 CIDR such as 10.20.0.0/16, got \"10.20.0/16\"");
  });

  it('stops when min in-sync replicas reach the broker count', SLOW, () => {
    const run = synthWithEdit('environments/prod.ts', (s) => s.replace('minInSyncReplicas: 2,', 'minInSyncReplicas: 3,'));
    expectRejected(run, "environments/prod.ts: environment 'prod': 'kafka.minInSyncReplicas' must be below kafka.brokers (3)", 'got 3');
  });

  it('validates every environment even when synthesizing only one', SLOW, () => {
    const run = synthWithEdit('environments/prod.ts', (s) => s.replace('retainData: true', 'retainData: false'), ['--env', 'dev']);
    expectRejected(run, "environments/prod.ts: environment 'prod': 'retainData' must be true when production is true, so that no apply or sync can delete data, got false");
  });

  it('keeps the Terraform output when the Kubernetes side fails after it was synthesized', SLOW, () => {
    const run = synthWithEdit('k8s/charts/kafka-chart.ts', (s) =>
      s.replace('super(scope, id, props);', "super(scope, id, props);\n    if (props.env.name === 'prod') throw new Error('chart exploded');"),
    );
    expectRejected(run, 'chart exploded');
  });

  it('rejects an unknown option and an unknown environment', SLOW, () => {
    expectRejected(runSynth(project, ['--environment', 'dev']), "Unknown option '--environment'", 'usage: npm run synth');
    expectRejected(runSynth(project, ['--env', 'qa']), `option '--env' must be one of ${KNOWN} (the files in environments/), got 'qa'`);
  });
});

describe('a pipeline added as a folder', () => {
  const project = join(scratch, 'fourth-pipeline');
  const clickstream = `import type { PipelineInput } from '../schema';

export const pipeline = {
  name: 'clickstream',
  description: 'Clicks per user and minute.',
  kind: 'streaming',
  triggerSeconds: 30,
  source: { type: 'kafka', topic: 'clicks', format: 'json' },
  schema: [
    { name: 'user_id', type: 'string' },
    { name: 'clicked_at', type: 'timestamp' },
  ],
  quality: { required: ['user_id', 'clicked_at'], ranges: [] },
  steps: ['per-user.sql'],
  window: { column: 'clicked_at', unit: 'minute', watermarkMinutes: 1 },
  sink: { type: 's3', bucket: 'curated', prefix: 'clicks/', partitionBy: ['window_start'] },
  rejects: { type: 'kafka', topic: 'clicks.dlq' },
  topics: { partitions: { dev: 1, staging: 2, prod: 4 } },
  alerts: { staleAfterMinutes: 15 },
} satisfies PipelineInput;
`;

  beforeAll(() => {
    copyProject(project);
    mkdirSync(join(project, 'pipelines', 'clickstream'));
    writeFileSync(join(project, 'pipelines', 'clickstream', 'pipeline.ts'), clickstream);
    writeFileSync(join(project, 'pipelines', 'clickstream', 'per-user.sql'), 'SELECT window_start, user_id, count(*) AS clicks\nFROM source\nGROUP BY window_start, user_id\n');
  });

  it('appears in every derived output without any other change', SLOW, () => {
    const run = runSynth(project);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    for (const env of ['dev', 'staging', 'prod']) {
      const cluster = JSON.parse(readFileSync(join(project, 'cdktf.out', 'stacks', `${env}-cluster`, 'cdk.tf.json'), 'utf8'));
      const roles = Object.values(cluster.resource.aws_iam_role as Record<string, { name: string }>).map((r) => r.name);
      expect(roles).toContain(`driftless-${env}-pipeline-clickstream`);
      const policies = Object.values(cluster.resource.aws_iam_role_policy as Record<string, { policy: string }>).map((p) => p.policy);
      expect(policies.some((p) => p.includes(`driftless-${env}-curated-`) && p.includes('/clicks/*'))).toBe(true);
      const rendered = join(project, 'k8s', 'rendered', env);
      for (const file of [
        'pipelines/clickstream/kafkatopic-kafka-clicks.yaml',
        'pipelines/clickstream/kafkatopic-kafka-clicks.dlq.yaml',
        'pipelines/clickstream/kafkauser-kafka-clickstream.yaml',
        'pipelines/clickstream/sparkapplication-pipelines-clickstream.yaml',
        'pipelines/clickstream/prometheusrule-pipelines-clickstream-alerts.yaml',
        'pipelines/clickstream/externalsecret-pipelines-clickstream-kafka.yaml',
        'spark/serviceaccount-pipelines-spark-clickstream.yaml',
        'spark/rolebinding-pipelines-spark-clickstream.yaml',
      ]) {
        expect(existsSync(join(rendered, file)), `${env}/${file}`).toBe(true);
      }
      expect(readFileSync(join(rendered, 'spark', 'role-kafka-kafka-credentials.yaml'), 'utf8')).toContain('- clickstream');
    }
  });

  it.each([
    ['a bad cron schedule', (s: string) => s.replace("triggerSeconds: 30,", "schedule: '0 0 2 * * *',").replace("kind: 'streaming'", "kind: 'batch'"), "'schedule' must be a cron schedule with 5 fields"],
    ['a missing sink', (s: string) => s.replace("  sink: { type: 's3', bucket: 'curated', prefix: 'clicks/', partitionBy: ['window_start'] },\n", ''), "'sink' is required"],
    ['a topic another pipeline owns', (s: string) => s.replace("topic: 'clicks', format", "topic: 'orders', format"), "'source.topic' must not use a topic that pipeline 'order-events' also uses"],
    ['a malformed topic name', (s: string) => s.replace("topic: 'clicks.dlq'", "topic: 'Clicks DLQ'"), "'rejects.topic' must be a Kafka topic name"],
  ])('stops on %s with a precise message and writes nothing', SLOW, (_, edit, message) => {
    const file = join(project, 'pipelines', 'clickstream', 'pipeline.ts');
    const before = outputDigest(project);
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, edit(original));
    try {
      const run = runSynth(project);
      expect(run.status).not.toBe(0);
      expect(run.stderr).toContain('pipelines/clickstream/pipeline.ts: pipeline \'clickstream\': ');
      expect(run.stderr).toContain(message);
      expect(run.stderr).toContain('Nothing was written.');
      expect(outputDigest(project)).toBe(before);
    } finally {
      writeFileSync(file, original);
    }
  });
});
