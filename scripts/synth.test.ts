import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentFileText, FIXTURE_INPUTS, withValues } from './fixtures/environments';
import { FIXTURE_PIPELINE_INPUTS, pipelineFileText } from './fixtures/pipelines';
import { copyProject, PROJECT_ROOT } from './project-copy';
import { fixtureProject, outputDigest, outputTree } from './test-projects';
import { environmentNames } from '../environments/load';
import { STACKS } from '../environments/naming';

// These tests run `npm run synth`'s script as a user would, in copies of the project in other folders: the project
// as it is (properties over whatever environments and pipelines it has), and copies holding the fixture
// environments (lab, trial, live) and pipelines (clicks, ledger, readings) where a test needs exact values.
const SLOW = { timeout: 120_000 };
const scratch = mkdtempSync(join(tmpdir(), 'driftless-synth-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const FIXTURE_ENVIRONMENTS = Object.keys(FIXTURE_INPUTS);
const FIXTURE_PIPELINES = Object.keys(FIXTURE_PIPELINE_INPUTS);

function runSynth(project: string, args: string[] = [], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/synth.ts', ...args], {
    cwd: project,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

// Different depths, a space in the path, other time zones and locales (tr_TR breaks naive case mapping).
const SOMEWHERE = { TZ: 'UTC', LANG: 'C', LC_ALL: 'C' };
const ELSEWHERE = { TZ: 'Pacific/Chatham', LANG: 'tr_TR.UTF-8', LC_ALL: 'tr_TR.UTF-8' };

/** Synthesizes both copies, one somewhere and one elsewhere, and expects byte-identical trees; returns the first. */
function expectSameOutputAnywhere(first: string, second: string): Map<string, Buffer> {
  const a = runSynth(first, [], SOMEWHERE);
  const b = runSynth(second, [], ELSEWHERE);
  expect(a.stderr).toBe('');
  expect(a.status).toBe(0);
  expect(b.status).toBe(0);
  const treeA = outputTree(first);
  const treeB = outputTree(second);
  expect([...treeA.keys()]).toEqual([...treeB.keys()]);
  for (const [path, bytes] of treeA) expect(treeB.get(path)?.equals(bytes), path).toBe(true);
  return treeA;
}

/** Expects no absolute path of this machine anywhere in the synth output of `project`. */
function expectNoMachinePaths(project: string): void {
  // As folders (trailing slash), so that a construct path such as `lab-bootstrap/root-application` is no match.
  // Not the bare temp folder: paths inside containers (emptyDir mounts at /tmp) are legitimate output.
  const folders = [project, scratch, PROJECT_ROOT, process.env.HOME ?? '/root'].map((d) => `${d.replace(/\/$/, '')}/`);
  const machineDetails = [...folders, basename(scratch)];
  for (const [path, bytes] of outputTree(project)) {
    const text = bytes.toString('utf8');
    for (const detail of machineDetails) expect(text.includes(detail), `${path} contains ${detail}`).toBe(false);
  }
}

/** The stacks that cdktf.out/manifest.json of `project` lists. */
const manifestStacks = (project: string): string[] =>
  Object.keys((JSON.parse(readFileSync(join(project, 'cdktf.out', 'manifest.json'), 'utf8')) as { stacks: object }).stacks).sort();

/** The synth output paths of one environment: its stack folders and its rendered folder. */
const outputOf = (env: string) => (path: string) =>
  path.startsWith(`k8s/rendered/${env}/`) || STACKS.some((stack) => path.startsWith(`cdktf.out/stacks/${env}-${stack}/`));

/** Output of some environment, not what all of them share (cdktf.out/manifest.json, the delivery workflows). */
const environmentOutput = (path: string) => path.startsWith('cdktf.out/stacks/') || path.startsWith('k8s/rendered/');

/** The environments in the nightly drift matrix the synth wrote into `project`. */
const driftMatrix = (project: string): string[] =>
  [...readFileSync(join(project, '.github', 'workflows', 'drift.yml'), 'utf8').matchAll(/^ +- environment: (\S+)$/gm)].map((m) => m[1]!).sort();

describe('npm run synth', () => {
  const first = join(scratch, 'a');
  const second = join(scratch, 'somewhere else', 'deeper', 'b');

  beforeAll(() => {
    copyProject(first);
    copyProject(second);
  });

  it('writes byte-identical output in any folder, time zone and locale', SLOW, () => {
    const tree = expectSameOutputAnywhere(first, second);
    const environments = environmentNames(join(first, 'environments'));
    expect([...tree.keys()].filter((p) => p.endsWith('cdk.tf.json'))).toHaveLength(environments.length * STACKS.length);
    for (const env of environments) {
      expect([...tree.keys()].some((p) => p.startsWith(`k8s/rendered/${env}/`)), env).toBe(true);
    }
  });

  it('puts no absolute path of the machine into the output', SLOW, () => {
    expectNoMachinePaths(first);
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
    const [env] = environmentNames(join(second, 'environments'));
    const before = outputDigest(second);
    const result = runSynth(second, ['--env', env!]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`synth: ${env}: 4 stacks`);
    expect(outputDigest(second)).toBe(before);
  });
});

// Copies of the project with the fixture environments and pipelines, shared by the tests below: `fixtures` is
// synthesized once and only ever broken with what its tests restore (and a fourth pipeline added at the end);
// `fixturesElsewhere` is the one whose environments come and go.
const fixtures = join(scratch, 'fixtures');
const fixturesElsewhere = join(scratch, 'fixtures somewhere else', 'deeper', 'b');

/** The fixture copy at `dir`, made on first use; synthesized if asked and not yet. */
function fixtureCopy(dir: string, synthesized: boolean): string {
  if (!existsSync(dir)) fixtureProject(dir);
  if (synthesized && !existsSync(join(dir, 'cdktf.out'))) {
    const run = runSynth(dir);
    expect(run.status, run.stderr).toBe(0);
  }
  return dir;
}

describe('npm run synth on fixture environments and pipelines', () => {
  beforeAll(() => {
    fixtureCopy(fixtures, false);
    fixtureCopy(fixturesElsewhere, false);
  });

  it('writes byte-identical output in any folder, time zone and locale, for exactly the environments and pipelines there are', SLOW, () => {
    const tree = expectSameOutputAnywhere(fixtures, fixturesElsewhere);
    const paths = [...tree.keys()];
    expect(paths.filter((p) => p.endsWith('cdk.tf.json')).sort()).toEqual(
      FIXTURE_ENVIRONMENTS.flatMap((env) => STACKS.map((stack) => `cdktf.out/stacks/${env}-${stack}/cdk.tf.json`)).sort(),
    );
    expect([...new Set(paths.filter((p) => p.startsWith('k8s/rendered/')).map((p) => p.split('/')[2]))].sort()).toEqual([...FIXTURE_ENVIRONMENTS].sort());
    for (const env of FIXTURE_ENVIRONMENTS) {
      const pipelines = new Set(paths.filter((p) => p.startsWith(`k8s/rendered/${env}/pipelines/`)).map((p) => p.split('/')[4]));
      expect([...pipelines].sort(), env).toEqual(FIXTURE_PIPELINES);
    }
    expect(manifestStacks(fixtures)).toEqual(FIXTURE_ENVIRONMENTS.flatMap((env) => STACKS.map((stack) => `${env}-${stack}`)).sort());
  });

  it('puts no absolute path of the machine into the output', SLOW, () => {
    expectNoMachinePaths(fixturesElsewhere);
  });
});

describe('environments added and removed', () => {
  // `eu` is a prefix of `eu-live`: the stack folder eu-live-network must never be taken for one of eu's.
  const project = fixturesElsewhere;
  const file = (env: string) => join(project, 'environments', `${env}.ts`);
  const eu = withValues(FIXTURE_INPUTS.lab, { name: 'eu', 'network.vpcCidr': '10.140.0.0/16' });
  const euLive = withValues(FIXTURE_INPUTS.lab, { name: 'eu-live', 'network.vpcCidr': '10.150.0.0/16' });
  let fixturesOnly = new Map<string, Buffer>();
  let withBoth = new Map<string, Buffer>();

  beforeAll(() => {
    fixtureCopy(project, true);
    fixturesOnly = outputTree(project);
  }, 120_000);

  it('synthesizes an extra environment file, also one whose name has a dash, and changes no other environment', SLOW, () => {
    writeFileSync(file('eu'), environmentFileText(eu));
    writeFileSync(file('eu-live'), environmentFileText(euLive));
    const run = runSynth(project);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^synth: eu, eu-live, lab, trial, live: 20 stacks in cdktf\.out\/stacks, /);
    withBoth = outputTree(project);
    for (const [env, cidr] of [['eu', '10.140.0.0/16'], ['eu-live', '10.150.0.0/16']]) {
      for (const stack of STACKS) expect(withBoth.has(`cdktf.out/stacks/${env}-${stack}/cdk.tf.json`), `${env}-${stack}`).toBe(true);
      expect(withBoth.get(`cdktf.out/stacks/${env}-network/cdk.tf.json`)?.toString()).toContain(`"cidr_block": "${cidr}"`);
      expect([...withBoth.keys()].some((p) => p.startsWith(`k8s/rendered/${env}/pipelines/`)), env).toBe(true);
    }
    for (const [path, bytes] of fixturesOnly) {
      if (environmentOutput(path)) expect(withBoth.get(path)?.equals(bytes), path).toBe(true);
    }
    expect(manifestStacks(project)).toEqual([...STACKS.flatMap((s) => [`eu-${s}`, `eu-live-${s}`]), ...FIXTURE_ENVIRONMENTS.flatMap((e) => STACKS.map((s) => `${e}-${s}`))].sort());
    expect(driftMatrix(project)).toEqual(['eu', 'eu-live', ...FIXTURE_ENVIRONMENTS].sort());
  });

  it('synthesizes one environment with --env without touching another whose name it prefixes or extends', SLOW, () => {
    const digest = outputDigest(project);
    for (const env of ['eu', 'eu-live']) {
      const run = runSynth(project, ['--env', env]);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toContain(`synth: ${env}: 4 stacks`);
      expect(outputDigest(project), env).toBe(digest);
    }
  });

  it("never removes another environment's output with --env, not even one whose file was deleted", SLOW, () => {
    // The workflows follow the environment files with any synth; the environments' output is what --env must keep.
    const environmentsOutput = () => [...outputTree(project)].filter(([path]) => environmentOutput(path));
    const before = environmentsOutput();
    rmSync(file('eu'));
    const run = runSynth(project, ['--env', 'eu-live']);
    expect(run.status, run.stderr).toBe(0);
    expect(environmentsOutput()).toEqual(before);
    expect(before.filter(([path]) => outputOf('eu')(path))).not.toEqual([]);
    expect(manifestStacks(project)).toEqual([...STACKS.flatMap((s) => [`eu-${s}`, `eu-live-${s}`]), ...FIXTURE_ENVIRONMENTS.flatMap((e) => STACKS.map((s) => `${e}-${s}`))].sort());
    expect(driftMatrix(project)).toEqual(['eu-live', ...FIXTURE_ENVIRONMENTS].sort());
  });

  it('removes the output of an environment whose file was deleted on a full synth, and only that', SLOW, () => {
    expect(existsSync(file('eu'))).toBe(false);
    const run = runSynth(project);
    expect(run.status, run.stderr).toBe(0);
    const after = outputTree(project);
    const kept = [...withBoth.keys()].filter((path) => !outputOf('eu')(path));
    expect([...after.keys()]).toEqual(kept);
    for (const path of kept) if (environmentOutput(path)) expect(after.get(path)?.equals(withBoth.get(path)!), path).toBe(true);
    expect(driftMatrix(project)).toEqual(['eu-live', ...FIXTURE_ENVIRONMENTS].sort());
    expect(existsSync(join(project, 'k8s', 'rendered', 'eu'))).toBe(false);
    expect(readdirSync(join(project, 'cdktf.out', 'stacks')).filter((stack) => STACKS.some((s) => stack === `eu-${s}`))).toEqual([]);
    expect(manifestStacks(project)).toEqual([...STACKS.map((s) => `eu-live-${s}`), ...FIXTURE_ENVIRONMENTS.flatMap((e) => STACKS.map((s) => `${e}-${s}`))].sort());
  });
});

describe('npm run synth with bad input', () => {
  const project = fixtures;
  let baseline = '';

  beforeAll(() => {
    fixtureCopy(project, true);
    baseline = outputDigest(project);
  }, 120_000);

  /** Writes `text` (or `edit` of the present text) into a file of the copy, runs synth, restores the file; returns the run. */
  function synthWith(file: string, text: string | ((original: string) => string), args: string[] = []) {
    const path = join(project, file);
    const original = readFileSync(path, 'utf8');
    const changed = typeof text === 'string' ? text : text(original);
    expect(changed, `the change of ${file} changed nothing`).not.toBe(original);
    writeFileSync(path, changed);
    try {
      return runSynth(project, args);
    } finally {
      writeFileSync(path, original);
    }
  }

  const environment = (name: keyof typeof FIXTURE_INPUTS, changes: Record<string, unknown>): [string, string] => [
    `environments/${name}.ts`,
    environmentFileText(withValues(FIXTURE_INPUTS[name], changes)),
  ];

  function expectRejected(run: ReturnType<typeof runSynth>, ...messages: string[]) {
    expect(run.status).not.toBe(0);
    for (const message of messages) expect(run.stderr).toContain(message);
    expect(run.stderr).toContain('Nothing was written.');
    expect(run.stdout).toBe('');
    expect(outputDigest(project)).toBe(baseline);
    expect(readdirSync(project).filter((entry) => entry.startsWith('.synth-'))).toEqual([]);
  }

  it('stops on negative brokers, naming environment, field, value and rule', SLOW, () => {
    const run = synthWith(...environment('live', { 'kafka.brokers': -3 }));
    expectRejected(run, "environments/live.ts: environment 'live': 'kafka.brokers' must be at least 1, got -3");
  });

  it('stops when a NodePool cannot hold what is placed on it, naming the field, the value and the need', SLOW, () => {
    const run = synthWith(...environment('trial', { 'cluster.nodePools.stable.cpuLimit': 2 }));
    expectRejected(run, "environments/trial.ts: environment 'trial': 'cluster.nodePools.stable.cpuLimit' must be at least ", 'or pods stay Pending, got 2');
  });

  it('stops on a malformed CIDR', SLOW, () => {
    const run = synthWith(...environment('trial', { 'network.vpcCidr': '10.120.0/16' }));
    expectRejected(run, "environments/trial.ts: environment 'trial': 'network.vpcCidr' must be an IPv4 CIDR such as 10.20.0.0/16, got \"10.120.0/16\"");
  });

  it('stops when min in-sync replicas reach the broker count', SLOW, () => {
    const run = synthWith(...environment('live', { 'kafka.brokers': 3, 'kafka.minInSyncReplicas': 3 }));
    expectRejected(run, "environments/live.ts: environment 'live': 'kafka.minInSyncReplicas' must be below kafka.brokers (3)", 'got 3');
  });

  it('validates every environment even when synthesizing only one', SLOW, () => {
    const run = synthWith(...environment('live', { retainData: false }), ['--env', 'lab']);
    expectRejected(run, "environments/live.ts: environment 'live': 'retainData' must be true when production is true, so that no apply or sync can delete data, got false");
  });

  it('keeps the Terraform output when the Kubernetes side fails after it was synthesized', SLOW, () => {
    const run = synthWith('k8s/charts/kafka-chart.ts', (s) =>
      s.replace('super(scope, id, props);', "super(scope, id, props);\n    if (props.env.name === 'live') throw new Error('chart exploded');"),
    );
    expectRejected(run, 'chart exploded');
  });

  it('rejects an unknown option and an unknown environment', SLOW, () => {
    expectRejected(runSynth(project, ['--environment', 'lab']), "Unknown option '--environment'", 'usage: npm run synth');
    expectRejected(runSynth(project, ['--env', 'qa']), "option '--env' must be one of lab, live, trial (the files in environments/), got 'qa'");
  });
});

describe('a pipeline added as a folder', () => {
  const project = fixtures;
  const folder = join(project, 'pipelines', 'sessions');
  const sessions = {
    name: 'sessions',
    description: 'Page views per user and minute.',
    kind: 'streaming',
    triggerSeconds: 30,
    source: { type: 'kafka', topic: 'page-views', format: 'json' },
    schema: [
      { name: 'user_id', type: 'string' },
      { name: 'viewed_at', type: 'timestamp' },
    ],
    quality: { required: ['user_id', 'viewed_at'], ranges: [] },
    steps: ['per-user.sql'],
    window: { column: 'viewed_at', unit: 'minute', watermarkMinutes: 1 },
    sink: { type: 's3', bucket: 'curated', prefix: 'sessions/', partitionBy: ['window_start'] },
    rejects: { type: 'kafka', topic: 'page-views.dlq' },
    topics: { partitions: { lab: 1, trial: 2, live: 4 } },
    alerts: { staleAfterMinutes: 15 },
  };

  beforeAll(() => {
    fixtureCopy(project, false);
    mkdirSync(folder);
    writeFileSync(join(folder, 'pipeline.ts'), pipelineFileText(sessions));
    writeFileSync(join(folder, 'per-user.sql'), 'SELECT window_start, user_id, count(*) AS views\nFROM source\nGROUP BY window_start, user_id\n');
  });

  it('appears in every derived output without any other change', SLOW, () => {
    const run = runSynth(project);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    for (const env of FIXTURE_ENVIRONMENTS) {
      const cluster = JSON.parse(readFileSync(join(project, 'cdktf.out', 'stacks', `${env}-cluster`, 'cdk.tf.json'), 'utf8'));
      const roles = Object.values(cluster.resource.aws_iam_role as Record<string, { name: string }>).map((r) => r.name);
      expect(roles).toContain(`driftless-${env}-pipeline-sessions`);
      const policies = Object.values(cluster.resource.aws_iam_role_policy as Record<string, { policy: string }>).map((p) => p.policy);
      expect(policies.some((p) => p.includes(`driftless-${env}-curated-`) && p.includes('/sessions/*'))).toBe(true);
      const rendered = join(project, 'k8s', 'rendered', env);
      for (const file of [
        'pipelines/sessions/kafkatopic-kafka-page-views.yaml',
        'pipelines/sessions/kafkatopic-kafka-page-views.dlq.yaml',
        'pipelines/sessions/kafkauser-kafka-sessions.yaml',
        'pipelines/sessions/sparkapplication-pipelines-sessions.yaml',
        'pipelines/sessions/prometheusrule-pipelines-sessions-alerts.yaml',
        'pipelines/sessions/externalsecret-pipelines-sessions-kafka.yaml',
        'spark/serviceaccount-pipelines-spark-sessions.yaml',
        'spark/rolebinding-pipelines-spark-sessions.yaml',
      ]) {
        expect(existsSync(join(rendered, file)), `${env}/${file}`).toBe(true);
      }
      expect(readFileSync(join(rendered, 'spark', 'role-kafka-kafka-credentials.yaml'), 'utf8')).toContain('- sessions');
      const partitions = sessions.topics.partitions[env as keyof typeof sessions.topics.partitions];
      expect(readFileSync(join(rendered, 'pipelines', 'sessions', 'kafkatopic-kafka-page-views.yaml'), 'utf8')).toContain(`partitions: ${partitions}\n`);
    }
  });

  it.each([
    ['a bad cron schedule', { kind: 'batch', triggerSeconds: undefined, schedule: '0 0 2 * * *' }, "'schedule' must be a cron schedule with 5 fields"],
    ['a missing sink', { sink: undefined }, "'sink' is required"],
    ['a topic another pipeline owns', { 'source.topic': 'sensor-readings' }, "'source.topic' must not use a topic that pipeline 'readings' also uses"],
    ['a malformed topic name', { 'rejects.topic': 'Page Views DLQ' }, "'rejects.topic' must be a Kafka topic name"],
  ])('stops on %s with a precise message and writes nothing', SLOW, (_, changes, message) => {
    const file = join(folder, 'pipeline.ts');
    const before = outputDigest(project);
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, pipelineFileText(withValues(sessions, changes)));
    try {
      const run = runSynth(project);
      expect(run.status).not.toBe(0);
      expect(run.stderr).toContain("pipelines/sessions/pipeline.ts: pipeline 'sessions': ");
      expect(run.stderr).toContain(message);
      expect(run.stderr).toContain('Nothing was written.');
      expect(outputDigest(project)).toBe(before);
    } finally {
      writeFileSync(file, original);
    }
  });
});
