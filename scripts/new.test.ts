/**
 * `npm run new`: the pure parts on fixtures, then real runs in copies of the project: one holding the fixture
 * environments and pipelines (exact values), one as the project is (properties over every environment and pipeline
 * it has). Each scaffold must synthesize, keep every unique name unique and say what is left to decide; each refusal
 * is one line that writes nothing.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cidrsOverlap, parseIpv4Cidr, type Ipv4Cidr } from '../environments/cidr';
import { environmentNames, loadEnvironments } from '../environments/load';
import type { Environment, EnvironmentInput } from '../environments/schema';
import { RUNTIME_FOLDER } from '../pipelines/job-code';
import { loadPipelines, PIPELINES_DIR, type LoadedPipeline } from '../pipelines/load';
import { overlap, topicsOf, writtenLocations } from '../pipelines/rules';
import type { Pipeline } from '../pipelines/schema';
import { UsageError } from './command-line';
import { environmentFileText, FIXTURE_INPUTS, withValues } from './fixtures/environments';
import { FIXTURE_PIPELINES_DIR, fixturePipelines } from './fixtures/pipelines';
import { deriveEnvironment, editSpec, environmentSource, freeVpcCidr, pipelineChanges, propertySpan } from './new';
import { copyProject } from './project-copy';
import { fixtureProject, runScript, synthesize } from './test-projects';

const scratch = mkdtempSync(join(tmpdir(), 'driftless-new-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const scaffold = (project: string, ...args: string[]) => runScript(project, 'new', args);

/** One digest of every file of `project` (node_modules and Git aside): paths and contents. */
function treeDigest(project: string): string {
  const digest = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (dir === project && (entry === 'node_modules' || entry === '.git')) continue;
      if (statSync(path).isDirectory()) walk(path);
      else digest.update(`${relative(project, path)}\0`).update(readFileSync(path)).update('\0');
    }
  };
  walk(project);
  return digest.digest('hex');
}

/** Every file under `dir`, relative, sorted. */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((entry) => statSync(join(dir, entry)).isFile())
    .sort();

const pipelineFolders = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== RUNTIME_FOLDER)
    .map((entry) => entry.name)
    .sort();

/** The lines of a report, trimmed, with runs of spaces (the columns of a table) as one. */
const lines = (report: string): string[] => report.split('\n').map((line) => line.trim().replace(/ {2,}/g, ' '));

const cidr = (text: string) => parseIpv4Cidr(text) as Ipv4Cidr;

/** Runs `npx vitest run <folders>` in `project`; the exit status and the output. */
function vitestIn(project: string, ...folders: string[]): { status: number; output: string } {
  try {
    const env = { ...process.env, CI: '1', NO_COLOR: '1' };
    return { status: 0, output: execFileSync('npx', ['vitest', 'run', '--reporter=verbose', ...folders], { cwd: project, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env }) };
  } catch (error) {
    const failed = error as { status: number; stdout: string; stderr: string };
    return { status: failed.status, output: `${failed.stdout}${failed.stderr}` };
  }
}

/** The decisions an environment scaffold must leave to the user, by the words that name them. */
const ENVIRONMENT_DECISIONS = ['aws.accountId', 'cluster.adminRoleArns', 'aws.deployRoleArn', 'aws.stateBucket', 'production', 'retainData', 'follows', 'monitoring.alertReceivers', 'gitops.argoCdHostname', 'cluster.publicAccessCidrs', 'AWS_DEPLOY_ROLE', 'AWS_PLAN_ROLE_'];
const PIPELINE_DECISIONS = ['source:', 'steps', 'sizing:', 'alerts:', 'tests:'];

describe('freeVpcCidr', () => {
  it('takes the first range of the same size above the source that overlaps no VPC', () => {
    expect(freeVpcCidr('10.110.0.0/16', ['10.110.0.0/16', '10.111.0.0/16', '10.113.0.0/16'])).toBe('10.112.0.0/16');
    expect(freeVpcCidr('10.110.16.0/20', ['10.110.16.0/20', '10.110.0.0/20', '10.110.34.0/24'])).toBe('10.110.48.0/20');
  });

  it('searches below the source, then 172.16.0.0/12, then 192.168.0.0/16, once the ranges above are taken', () => {
    expect(freeVpcCidr('10.255.0.0/16', ['10.255.0.0/16', '10.0.0.0/16'])).toBe('10.1.0.0/16');
    expect(freeVpcCidr('10.110.0.0/16', ['10.0.0.0/8'])).toBe('172.16.0.0/16');
    expect(freeVpcCidr('10.110.0.0/16', ['10.0.0.0/8', '172.16.0.0/12'])).toBe('192.168.0.0/16');
    expect(freeVpcCidr('172.20.0.0/16', ['172.20.0.0/16'])).toBe('172.21.0.0/16');
    expect(freeVpcCidr('100.64.0.0/16', ['100.64.0.0/16'])).toBe('10.0.0.0/16');
  });

  it('finds none when every private range overlaps a VPC', () => {
    expect(freeVpcCidr('10.110.0.0/16', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'])).toBeUndefined();
  });
});

describe('deriveEnvironment', () => {
  const taken = Object.values(FIXTURE_INPUTS).map((input) => input.network.vpcCidr);

  it.each(Object.keys(FIXTURE_INPUTS) as Array<keyof typeof FIXTURE_INPUTS>)('changes the name, the VPC range and the names in strings of %s, and keeps the rest', (from) => {
    const source = FIXTURE_INPUTS[from] as EnvironmentInput;
    const { input, changes } = deriveEnvironment(source, 'fresh', taken);
    expect(input.name).toBe('fresh');
    expect(cidr(input.network.vpcCidr).prefixLength).toBe(cidr(source.network.vpcCidr).prefixLength);
    expect(taken.filter((other) => cidrsOverlap(cidr(other), cidr(input.network.vpcCidr)))).toEqual([]);
    const channels = (['critical', 'warning'] as const).flatMap((severity) => {
      const receiver = source.monitoring.alertReceivers[severity];
      return receiver.type === 'slack' ? [{ field: `monitoring.alertReceivers.${severity}.channel`, value: receiver.channel.replace(from, 'fresh'), was: receiver.channel }] : [];
    });
    // The fixtures' hostnames hold their environment's name as a label (argocd.<name>.example.org).
    const hostname = { field: 'gitops.argoCdHostname', value: source.gitops.argoCdHostname.replace(`.${from}.`, '.fresh.'), was: source.gitops.argoCdHostname };
    const renamed = [...channels, hostname];
    expect(hostname.value).not.toBe(hostname.was);
    expect(changes).toEqual([{ field: 'name', value: 'fresh', was: from }, { field: 'network.vpcCidr', value: input.network.vpcCidr, was: source.network.vpcCidr }, ...renamed]);
    const back = withValues(input, { name: from, 'network.vpcCidr': source.network.vpcCidr, ...Object.fromEntries(renamed.map((c) => [c.field, c.was])) });
    expect(back).toEqual(source);
  });

  it('gives each fixture environment the range after its own', () => {
    expect(Object.values(FIXTURE_INPUTS).map((source) => deriveEnvironment(source, 'fresh', taken).input.network.vpcCidr)).toEqual(['10.111.0.0/16', '10.121.0.0/16', '10.131.0.0/16']);
  });

  it("replaces the source's name only where it is a whole word, and never in the account's fields or follows", () => {
    const source = withValues(FIXTURE_INPUTS.trial, {
      'tags.owner': 'trial-team',
      'tags.costCentre': 'trials',
      'gitops.revision': 'release/trial',
      'aws.stateBucket': 'trial-state',
      'aws.deployRoleArn': 'arn:aws:iam::555555555555:role/trial-deploy',
      'cluster.adminRoleArns': ['arn:aws:iam::555555555555:role/trial-deploy'],
    }) as EnvironmentInput;
    const { input } = deriveEnvironment(source, 'fresh', taken);
    expect([input.tags.owner, input.tags.costCentre, input.gitops.revision]).toEqual(['fresh-team', 'trials', 'release/fresh']);
    expect([input.aws.stateBucket, input.aws.deployRoleArn, input.cluster.adminRoleArns, input.follows]).toEqual(['trial-state', 'arn:aws:iam::555555555555:role/trial-deploy', ['arn:aws:iam::555555555555:role/trial-deploy'], 'lab']);
  });

  it("stops, naming 'network.vpcCidr', when no range of the source's size is free", () => {
    expect(() => deriveEnvironment(FIXTURE_INPUTS.lab, 'fresh', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'])).toThrow(UsageError);
    expect(() => deriveEnvironment(FIXTURE_INPUTS.lab, 'fresh', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'])).toThrow(
      "cannot choose 'network.vpcCidr': every /16 in 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 overlaps an environment's VPC",
    );
  });
});

describe('environmentSource', () => {
  it('writes an environment laid out as the hand-written fixture environments are', () => {
    const written = readFileSync(join(__dirname, 'fixtures', 'environments.ts'), 'utf8');
    for (const [name, input] of Object.entries(FIXTURE_INPUTS)) {
      const literal = new RegExp(`^const ${name} = (\\{\\n[\\s\\S]*?\\n\\}) satisfies EnvironmentInput;$`, 'm').exec(written)?.[1];
      expect(literal, name).toBeDefined();
      expect(environmentSource(input, 'origin')).toBe(
        `import type { EnvironmentInput } from './schema';\n\n/** Scaffolded from origin by \`npm run new\`: say here what this environment is for. */\nexport const environment = ${literal} satisfies EnvironmentInput;\n`,
      );
    }
  });

  it('quotes what needs quoting and leaves out absent fields', () => {
    const text = environmentSource({ ...FIXTURE_INPUTS.lab, tags: { owner: "o'neil \\ team", costCentre: 'CC-1' }, follows: undefined } as EnvironmentInput, 'lab');
    expect(text).toContain("tags: { owner: 'o\\'neil \\\\ team', costCentre: 'CC-1' },");
    expect(text).not.toContain('follows');
  });
});

describe('pipelineChanges', () => {
  it('gives the copy topics, places and a description of its own, by one scheme for every shape', async () => {
    const byName = Object.fromEntries((await fixturePipelines()).map((pipeline) => [pipeline.name, pipelineChanges(pipeline, 'fresh')]));
    const description = (pipeline: string) => ({ field: 'description', value: expect.stringMatching(new RegExp(`^Copy of ${pipeline}: Fixture: `)), was: expect.any(String) });
    expect(byName).toEqual({
      clicks: [
        { field: 'name', value: 'fresh', was: 'clicks' },
        description('clicks'),
        { field: 'source.topic', value: 'fresh', was: 'clicks' },
        { field: 'sink.topic', value: 'fresh-out', was: 'click-counts' },
        { field: 'rejects.topic', value: 'fresh.dlq', was: 'clicks.dlq' },
      ],
      ledger: [
        { field: 'name', value: 'fresh', was: 'ledger' },
        description('ledger'),
        { field: 'sink.prefix', value: 'fresh/', was: 'ledger/' },
        { field: 'rejects.prefix', value: 'errors/fresh/', was: 'errors/ledger/' },
      ],
      readings: [
        { field: 'name', value: 'fresh', was: 'readings' },
        description('readings'),
        { field: 'source.topic', value: 'fresh', was: 'sensor-readings' },
        { field: 'sink.path', value: '/data/fresh', was: '/data/readings' },
        { field: 'rejects.topic', value: 'fresh.dlq', was: 'sensor-readings.dlq' },
      ],
    });
  });
});

describe('editSpec', () => {
  const file = 'pipelines/alpha/pipeline.ts';
  // Decoys before and inside the spec: comments and strings holding keys, braces and quotes.
  const text = [
    "import type { PipelineInput } from '../schema';",
    '',
    "const note = { name: 'not-the-spec' }; // { topic: 'x' }",
    '',
    '/** A spec written by hand. */',
    'export const pipeline = {',
    "  // name: 'commented-out',",
    '  name: "alpha",',
    "  description: `Alpha's ${'events'}, } counted`,",
    '  source: {',
    "    type: 'kafka', /* topic: 'decoy', } */ topic: 'alpha-in',",
    "    format: 'json',",
    '  },',
    "  sink: { type: 's3', bucket: 'curated', prefix: 'alpha/' }, // sink: { prefix: 'x/' }",
    "  rejects: { type: 'kafka', topic: 'alpha-in.dlq' },",
    '} satisfies PipelineInput;',
    '',
  ].join('\n');
  const changes = [
    { field: 'name', value: 'beta', was: 'alpha' },
    { field: 'description', value: "Copy of alpha: Alpha's events", was: "Alpha's events, } counted" },
    { field: 'source.topic', value: 'beta', was: 'alpha-in' },
    { field: 'sink.prefix', value: 'beta/', was: 'alpha/' },
    { field: 'rejects.topic', value: 'beta.dlq', was: 'alpha-in.dlq' },
  ];

  it("replaces exactly the values of the spec's fields, in their quotes, and keeps comments and layout", () => {
    expect(editSpec(text, changes, file)).toBe(
      text
        .replace('name: "alpha"', 'name: "beta"')
        .replace("description: `Alpha's ${'events'}, } counted`", "description: 'Copy of alpha: Alpha\\'s events'")
        .replace("topic: 'alpha-in',", "topic: 'beta',")
        .replace("prefix: 'alpha/' }", "prefix: 'beta/' }")
        .replace("topic: 'alpha-in.dlq'", "topic: 'beta.dlq'"),
    );
  });

  it('finds a nested value and nothing that is not written out', () => {
    const span = propertySpan(text, ['source', 'topic'])!;
    expect(text.slice(span.start, span.end)).toBe("'alpha-in'");
    expect(propertySpan(text, ['source', 'missing'])).toBeUndefined();
    expect(propertySpan('export const other = {};', ['name'])).toBeUndefined();
  });

  it('refuses a field that is not written out in the object literal, naming it', () => {
    const shared = text.replace(/ {2}source: \{[\s\S]*?\n {2}\},/, '  source: SHARED_SOURCE,');
    expect(() => editSpec(shared, changes, file)).toThrow(
      "cannot change 'source.topic' in pipelines/alpha/pipeline.ts: it is not written out in 'export const pipeline = { ... }'; copy the folder by hand and set it",
    );
  });

  it('edits each fixture pipeline so that editing back gives its text again', async () => {
    for (const pipeline of await fixturePipelines()) {
      const original = readFileSync(join(FIXTURE_PIPELINES_DIR, pipeline.name, 'pipeline.ts'), 'utf8');
      const forward = pipelineChanges(pipeline, 'fresh');
      const edited = editSpec(original, forward, file);
      expect(edited).not.toBe(original);
      expect(editSpec(edited, forward.map((c) => ({ field: c.field, value: c.was, was: c.value })), file)).toBe(original);
    }
  });
});

describe('npm run new, in a project of the fixture environments and pipelines', () => {
  const project = join(scratch, 'fixtures');
  beforeAll(() => {
    fixtureProject(project);
    writeReadingsLogicTest(project);
  });

  it('refuses a wrong command line, an invalid or existing name and an unknown source in one line, writing nothing', async () => {
    const usage = 'npm run new -- environment|pipeline <name> --from <existing>';
    const cases: Array<[string[], string]> = [
      [[], `argument <kind> is required: environment or pipeline (${usage}), got nothing`],
      [['database', 'x', '--from', 'lab'], `argument <kind> must be environment or pipeline (${usage}), got 'database'`],
      [['environment', '--from', 'lab'], `argument <name> is required: the name of the new environment (${usage}), got nothing`],
      [['environment', 'fresh'], "option '--from' is required: the environment or pipeline to copy, got nothing"],
      [['environment', 'fresh', '--from'], "option '--from' needs a value (the environment or pipeline to copy), got nothing"],
      [['environment', 'fresh', '--from', 'lab', '--force'], "option '--force' is not known: the options are --from"],
      [['environment', 'fresh', 'more', '--from', 'lab'], `unexpected argument 'more': the command takes a kind and a name (${usage})`],
      [['environment', 'Fresh', '--from', 'lab'], "argument <name> must be 1-12 lower-case letters, digits and dashes, starting with a letter and not ending with a dash (it becomes part of bucket, IAM role and cluster names), got 'Fresh'"],
      [['environment', 'much-too-long', '--from', 'lab'], "argument <name> must be 1-12 lower-case letters, digits and dashes, starting with a letter and not ending with a dash (it becomes part of bucket, IAM role and cluster names), got 'much-too-long'"],
      [['environment', 'schema', '--from', 'lab'], "argument <name> must not be the name of a platform module in environments/ (cidr, load, naming, problem, rules, schema, validate), got 'schema'"],
      [['environment', 'trial', '--from', 'lab'], "argument <name> must not name an existing environment (environments/trial.ts exists), got 'trial'"],
      [['environment', 'fresh', '--from', 'nowhere'], "option '--from' must name an environment, one of lab, live, trial (the files in environments/), got 'nowhere'"],
      [['pipeline', 'x', '--from', 'clicks'], "argument <name> must be 2-32 lower-case letters, digits and dashes, starting with a letter, got 'x'"],
      [['pipeline', 'new\nline', '--from', 'clicks'], "argument <name> must be 2-32 lower-case letters, digits and dashes, starting with a letter, got 'new\\nline'"],
      [['pipeline', 'runtime', '--from', 'clicks'], "argument <name> must not be 'runtime' (pipelines/runtime/ holds the runtime every pipeline shares), got 'runtime'"],
      [['pipeline', 'ledger', '--from', 'clicks'], "argument <name> must not name an existing pipeline (pipelines/ledger/ exists), got 'ledger'"],
      [['pipeline', 'fresh', '--from', 'nowhere'], "option '--from' must name a pipeline, one of clicks, ledger, readings (the folders in pipelines/), got 'nowhere'"],
      [['pipeline', 'fresh', '--from', 'runtime'], "option '--from' must name a pipeline, one of clicks, ledger, readings (the folders in pipelines/), got 'runtime'"],
      // Names whose topics or places another pipeline owns: the field that clashes is named.
      [
        ['pipeline', 'sensor-readings', '--from', 'readings'],
        "pipeline 'sensor-readings' would not validate, so nothing was written (choose another name, or copy the folder by hand): pipelines/sensor-readings/pipeline.ts: pipeline 'sensor-readings': 'source.topic' must not use a topic that pipeline 'readings' also uses: each topic belongs to one pipeline, got \"sensor-readings\" (and 3 more problems)",
      ],
      [
        ['pipeline', 'errors', '--from', 'ledger'],
        "pipeline 'errors' would not validate, so nothing was written (choose another name, or copy the folder by hand): pipelines/errors/pipeline.ts: pipeline 'errors': 'rejects.prefix' must not overlap the sink (errors/): dead letters would be mixed with, and overwritten with, the output, got \"errors/errors/\"",
      ],
    ];
    const before = treeDigest(project);
    const results = await Promise.all(cases.map(([args]) => scaffold(project, ...args)));
    expect(results.map((result) => ({ status: result.status, stdout: result.stdout, stderr: result.stderr }))).toEqual(
      cases.map(([, message]) => ({ status: 1, stdout: '', stderr: `new: ${message}\n` })),
    );
    expect(treeDigest(project)).toBe(before);
  }, 120_000);

  it('refuses to copy from a project that does not validate, saying which file is wrong', async () => {
    const trial = join(project, 'environments', 'trial.ts');
    const ledger = join(project, 'pipelines', 'ledger', 'pipeline.ts');
    const [trialText, ledgerText] = [readFileSync(trial, 'utf8'), readFileSync(ledger, 'utf8')];
    try {
      writeFileSync(trial, environmentFileText(withValues(FIXTURE_INPUTS.trial, { 'kafka.brokers': 0 })));
      let before = treeDigest(project);
      const environment = await scaffold(project, 'environment', 'fresh', '--from', 'lab');
      const pipeline = await scaffold(project, 'pipeline', 'fresh', '--from', 'clicks');
      const message = "new: environments/ does not validate, so npm run synth fails too; fix that first: environments/trial.ts: environment 'trial': 'kafka.brokers' must be at least 1, got 0";
      expect([environment.status, environment.stdout, environment.stderr]).toEqual([1, '', expect.stringMatching(new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[^\\n]*\\n$`))]);
      expect([pipeline.status, pipeline.stderr]).toEqual([1, environment.stderr]);
      expect(treeDigest(project)).toBe(before);

      writeFileSync(trial, trialText);
      writeFileSync(ledger, ledgerText.replace("schedule: '30 3 * * *'", "schedule: '30 25 * * *'"));
      before = treeDigest(project);
      const broken = await scaffold(project, 'pipeline', 'fresh', '--from', 'ledger');
      expect([broken.status, broken.stdout]).toEqual([1, '']);
      expect(broken.stderr).toMatch(/^new: pipelines\/ does not validate, so npm run synth fails too; fix that first: pipelines\/ledger\/pipeline\.ts: pipeline 'ledger': 'schedule' [^\n]*\n$/);
      expect(treeDigest(project)).toBe(before);
    } finally {
      writeFileSync(trial, trialText);
      writeFileSync(ledger, ledgerText);
    }
  }, 60_000);

  it('scaffolds an environment from each one, each with a VPC range of its own, and says what is left to decide', async () => {
    const taken = Object.values(FIXTURE_INPUTS).map((input) => input.network.vpcCidr);
    for (const [from, source] of Object.entries(FIXTURE_INPUTS)) {
      const name = `${from}-copy`;
      const result = await scaffold(project, 'environment', name, '--from', from);
      expect([result.status, result.stderr], result.stderr).toEqual([0, '']);
      const { input } = deriveEnvironment(source, name, taken);
      taken.push(input.network.vpcCidr);
      expect(readFileSync(join(project, 'environments', `${name}.ts`), 'utf8')).toBe(environmentSource(input, from));
      expect(result.stdout).toContain(`Created environments/${name}.ts from environments/${from}.ts, with:\n  name `);
      expect(lines(result.stdout)).toContain(`network.vpcCidr '${input.network.vpcCidr}' (was '${source.network.vpcCidr}'; the first free range of that size)`);
      expect(result.stdout).toContain('\nStill to decide (copied from');
      for (const decision of ENVIRONMENT_DECISIONS) expect(result.stdout, decision).toContain(decision);
    }
    expect(taken.slice(3)).toEqual(['10.111.0.0/16', '10.121.0.0/16', '10.131.0.0/16']);
    const live = await scaffold(project, 'environment', 'live-two', '--from', 'live');
    // live's range and the one after it are taken now: the next one up.
    expect(readFileSync(join(project, 'environments', 'live-two.ts'), 'utf8')).toContain("vpcCidr: '10.132.0.0/16'");
    expect(live.stdout).toContain("  - pipelines sized for live but not for live-two, which runs them on its defaults: pipelines/readings/pipeline.ts (spark.live, topics.partitions.live).");
    expect(lines(live.stdout)).toContain("follows 'trial', as in live: live-two is deployed after trial, beside live");
    expect(live.stdout).toContain('AWS_PLAN_ROLE_LIVE_TWO');
  }, 120_000);

  it('scaffolds a pipeline from each one, every file copied and every topic and written place its own', async () => {
    for (const from of ['clicks', 'ledger', 'readings']) {
      const name = `${from}-copy`;
      const result = await scaffold(project, 'pipeline', name, '--from', from);
      expect([result.status, result.stderr], result.stderr).toEqual([0, '']);
      const [copied, original] = [join(project, 'pipelines', name), join(project, 'pipelines', from)];
      expect(filesUnder(copied)).toEqual(filesUnder(original));
      for (const file of filesUnder(original).filter((f) => f !== 'pipeline.ts')) expect(readFileSync(join(copied, file)), file).toEqual(readFileSync(join(original, file)));
      expect(result.stdout).toContain(`Created pipelines/${name}/ from pipelines/${from}/ (${filesUnder(original).join(', ')}), with, in pipeline.ts:`);
      expect(result.stdout).toContain('\nStill to decide (copied from');
      for (const decision of PIPELINE_DECISIONS) expect(result.stdout, decision).toContain(decision);
    }
    const clicks = readFileSync(join(project, 'pipelines', 'clicks-copy', 'pipeline.ts'), 'utf8');
    expect(clicks).toContain("  source: { type: 'kafka', topic: 'clicks-copy', format: 'json' },\n");
    expect(clicks).toContain("  sink: { type: 'kafka', topic: 'clicks-copy-out', key: ['window_start', 'site'] },\n  rejects: { type: 'kafka', topic: 'clicks-copy.dlq' },\n");
    expect(clicks).toContain('/** Fixture: a windowed stream (Kafka → Kafka) joined with a reference table, with a dead-letter topic. */');
    const ledger = readFileSync(join(project, 'pipelines', 'ledger-copy', 'pipeline.ts'), 'utf8');
    expect(ledger).toContain("  sink: { type: 's3', bucket: 'curated', prefix: 'ledger-copy/', partitionBy: ['booked_on'] },\n  rejects: { type: 's3', bucket: 'curated', prefix: 'errors/ledger-copy/' },\n");
    expect(ledger).toContain("source: { type: 's3', bucket: 'raw', prefix: 'ledger/', format: 'csv', file: 'ledger_{yyyymmdd}.csv' }");
    const readings = readFileSync(join(project, 'pipelines', 'readings-copy', 'pipeline.ts'), 'utf8');
    expect(readings).toContain("  sink: { type: 'hdfs', path: '/data/readings-copy', partitionBy: ['sensor', 'year'] },\n  rejects: { type: 'kafka', topic: 'readings-copy.dlq' },\n");
  }, 120_000);

  it('leaves a project that synthesizes, whose copied logic tests pass without the folder they were copied from', async () => {
    synthesize(project);
    const environments = await loadEnvironments(join(project, 'environments'));
    const names = environments.map((env) => env.name);
    expect([...names].sort()).toEqual(['lab', 'lab-copy', 'live', 'live-copy', 'live-two', 'trial', 'trial-copy']);
    for (const name of names) expect(existsSync(join(project, 'k8s', 'rendered', name, 'apps')), name).toBe(true);
    const pipelines = await loadPipelines(join(project, 'pipelines'), names, join(project, 'pipelines', RUNTIME_FOLDER));
    expect(pipelines.map((p) => p.name)).toEqual(['clicks', 'clicks-copy', 'ledger', 'ledger-copy', 'readings', 'readings-copy']);
    expectDisjoint(environments, pipelines);
    for (const name of ['clicks-copy', 'ledger-copy', 'readings-copy']) expect(existsSync(join(project, 'k8s', 'rendered', 'lab', 'pipelines', name)), name).toBe(true);

    rmSync(join(project, 'pipelines', 'readings'), { recursive: true });
    const tests = vitestIn(project, 'pipelines/readings-copy');
    expect(tests.status, tests.output).toBe(0);
    expect(tests.output).toMatch(/Tests\s+(\S+\s+)?1 passed/);
    expect(tests.output).toContain('readings-copy logic');
  }, 180_000);
});

describe('npm run new, in a copy of this project, from every environment and pipeline it has', () => {
  it('scaffolds copies that synthesize, share no unique name and pass the copied tests', async () => {
    const project = join(scratch, 'project');
    copyProject(project);
    const environments = await loadEnvironments();
    const folders = pipelineFolders(PIPELINES_DIR);
    const fresh = (prefix: string, index: number, taken: readonly string[]) => {
      let name = `${prefix}${index}`;
      while (taken.includes(name)) name = `${name}x`;
      return name;
    };
    const envCopies = environments.map((env, index) => ({ from: env, name: fresh('scaffold', index, environments.map((e) => e.name)) }));
    for (const { from, name } of envCopies) {
      const result = await scaffold(project, 'environment', name, '--from', from.name);
      expect([result.status, result.stderr], `${from.name}: ${result.stderr}`).toEqual([0, '']);
      expect(existsSync(join(project, 'environments', `${name}.ts`))).toBe(true);
      for (const decision of ENVIRONMENT_DECISIONS) expect(result.stdout, decision).toContain(decision);
    }
    const pipelineCopies = folders.map((from, index) => ({ from, name: fresh('scaffold-', index, folders) }));
    for (const { from, name } of pipelineCopies) {
      const result = await scaffold(project, 'pipeline', name, '--from', from);
      expect([result.status, result.stderr], `${from}: ${result.stderr}`).toEqual([0, '']);
      for (const decision of PIPELINE_DECISIONS) expect(result.stdout, decision).toContain(decision);
    }

    synthesize(project);
    const loaded = await loadEnvironments(join(project, 'environments'));
    const pipelines = await loadPipelines(join(project, 'pipelines'), loaded.map((env) => env.name), join(project, 'pipelines', RUNTIME_FOLDER));
    expectDisjoint(loaded, pipelines);
    for (const { from, name } of envCopies) {
      const copy = loaded.find((env) => env.name === name)!;
      expect(cidr(copy.network.vpcCidr).prefixLength).toBe(cidr(from.network.vpcCidr).prefixLength);
      expect(copy.network.vpcCidr).not.toBe(from.network.vpcCidr);
      expect([copy.aws, copy.follows, copy.production, copy.retainData, copy.cluster.adminRoleArns]).toEqual([from.aws, from.follows, from.production, from.retainData, from.cluster.adminRoleArns]);
      // Back to the source: its name where the copy's stands as a word, its range, and nothing else differs.
      const back = JSON.parse(JSON.stringify(copy).replace(new RegExp(`(?<![a-z0-9])${name}(?![a-z0-9])`, 'g'), from.name)) as Environment;
      expect({ ...back, network: { ...back.network, vpcCidr: from.network.vpcCidr } }).toEqual(from);
      expect(existsSync(join(project, 'k8s', 'rendered', name, 'apps')), name).toBe(true);
    }
    const original = await loadPipelines();
    for (const { from, name } of pipelineCopies) {
      const source = original.find((p) => p.name === from)!;
      const copy = pipelines.find((p) => p.name === name)!;
      const changed = pipelineChanges(source, name).map((c) => c.field);
      const unchanged = (spec: Pipeline) => withValues({ ...spec, code: undefined }, Object.fromEntries(changed.map((field) => [field, undefined])));
      expect(unchanged(copy)).toEqual(unchanged(source));
      expect(copy.description).toBe(`Copy of ${from}: ${source.description}`);
      expect(filesUnder(join(project, 'pipelines', name))).toEqual(filesUnder(join(PIPELINES_DIR, from)));
    }
    const tested = pipelineCopies.filter(({ name }) => filesUnder(join(project, 'pipelines', name)).some((file) => file.endsWith('.test.ts')));
    if (tested.length > 0) {
      const tests = vitestIn(project, ...tested.map(({ name }) => `pipelines/${name}/`));
      expect(tests.status, tests.output).toBe(0);
      for (const { name } of tested) expect(tests.output).toContain(`pipelines/${name}/`);
    }
  }, 300_000);
});

/** No two environments' VPCs overlap, no topic has two pipelines, no two pipelines write to overlapping places. */
function expectDisjoint(environments: readonly Environment[], pipelines: readonly LoadedPipeline[]): void {
  for (const [index, env] of environments.entries()) {
    for (const other of environments.slice(index + 1)) expect(cidrsOverlap(cidr(env.network.vpcCidr), cidr(other.network.vpcCidr)), `${env.name} and ${other.name}`).toBe(false);
  }
  const topics = pipelines.flatMap((pipeline) => topicsOf(pipeline));
  expect(new Set(topics).size).toBe(topics.length);
  const places = pipelines.flatMap((pipeline) => writtenLocations(pipeline).map((place) => ({ pipeline: pipeline.name, place })));
  for (const [index, a] of places.entries()) {
    for (const b of places.slice(index + 1)) if (a.pipeline !== b.pipeline) expect(overlap(a.place, b.place), `${a.pipeline} ${a.place.prefix} and ${b.pipeline} ${b.place.prefix}`).toBe(false);
  }
}

/** Gives the fixture pipeline `readings` a logic test of its own, written as pipeline folders write theirs: relative to its folder. */
function writeReadingsLogicTest(project: string): void {
  mkdirSync(join(project, 'pipelines', 'readings', 'fixtures'));
  writeFileSync(
    join(project, 'pipelines', 'readings', 'fixtures', 'sensors.jsonl'),
    ['{"sensor":"a","read_at":"2024-01-01T00:00:00Z","reading":1.5}', '{"sensor":"a","read_at":"2024-06-01T00:00:00Z","reading":2.5}', '{"sensor":"b","read_at":"2023-12-31T23:00:00Z","reading":150.5}', ''].join('\n'),
  );
  writeFileSync(
    join(project, 'pipelines', 'readings', 'logic.test.ts'),
    `import { describe, expect, it } from 'vitest';
import { Pipeline } from '../schema';
import { fixture, runPipeline } from '../sql-harness';
import { pipeline as spec } from './pipeline';

const pipeline = Pipeline.parse(spec);

describe(\`\${pipeline.name} logic\`, () => {
  it('averages the readings per sensor and year and rejects those out of range', async () => {
    const { output, rejects } = await runPipeline(pipeline, { records: fixture(__dirname, 'sensors.jsonl') });
    expect(output).toEqual([{ sensor: 'a', year: 2024, mean_reading: 2, readings: 2 }]);
    expect(rejects).toEqual([{ record: '{"sensor":"b","read_at":"2023-12-31T23:00:00Z","reading":150.5}', reason: 'reading above 150' }]);
  });
});
`,
  );
}
