import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countsLine, PlanFormatError, renderPlanMarkdown, summarizePlan, type PlanSummary } from './terraform-plan';
import { childEnv, fixtureProject, runScript, stubTerraform } from './test-projects';

const FIXTURES = join(__dirname, 'fixtures', 'plans');
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8'));
const summary = (name: string): PlanSummary => summarizePlan(fixture(name));
const byAction = (plan: PlanSummary) => plan.changes.map((change) => `${change.action} ${change.address}`);

describe('the plan summary', () => {
  it('counts a plan without changes as no changes', () => {
    const plan = summary('no-changes');
    expect(plan.changes).toEqual([]);
    expect(plan.destructive).toEqual([]);
    expect(countsLine(plan)).toBe('no changes (2 unchanged)');
  });

  it('groups create, update, delete and read by action, deletes first, and hides no-ops', () => {
    const plan = summary('create-update-delete');
    expect(byAction(plan)).toEqual([
      'delete aws_cloudwatch_log_group.old-flow-logs',
      'create aws_s3_bucket_versioning.raw_versioning_F8D9D827',
      'update aws_iam_role_policy.pipeline-readings-role_policy_02B93624',
      'read data.aws_eks_cluster.cluster',
    ]);
    expect(plan.counts).toMatchObject({ delete: 1, create: 1, update: 1, read: 1, 'no-op': 1, replace: 0 });
    expect(plan.destructive.map((change) => change.address)).toEqual(['aws_cloudwatch_log_group.old-flow-logs']);
    expect(plan.changes[0]?.reason).toBe('delete_because_no_resource_config');
    expect(plan.driftedOutside).toEqual(['aws_iam_role_policy.pipeline-readings-role_policy_02B93624']);
  });

  it('tells delete-then-create from create-then-delete replacements and keeps the forcing attributes and reasons', () => {
    const plan = summary('replace');
    const find = (address: string) => plan.changes.find((change) => change.address === address && change.deposed === undefined);
    expect(find('aws_s3_bucket.curated_bucket_852DE08A')).toMatchObject({
      action: 'replace',
      actions: ['delete', 'create'],
      order: 'delete-before-create',
      reason: 'replace_because_cannot_update',
      replacePaths: ['bucket'],
    });
    expect(find('aws_launch_template.general-launch-template')).toMatchObject({ action: 'replace', actions: ['create', 'delete'], order: 'create-before-delete', replacePaths: ['name'] });
    expect(find('aws_eks_node_group.general-nodes')?.replacePaths).toEqual(['launch_template[0].name']);
    expect(find('aws_nat_gateway.nat-0')).toMatchObject({ reason: 'replace_because_tainted', replacePaths: [] });
    expect(find('aws_eks_addon.addons["coredns"]')?.reason).toBe('replace_by_request');
    expect(plan.changes.find((change) => change.deposed === '6f1a2b3c')).toMatchObject({ action: 'delete', address: 'aws_launch_template.general-launch-template' });
    expect(plan.destructive).toHaveLength(6);
    expect(countsLine(plan)).toBe('1 to delete, 5 to replace');
  });

  it('keeps forget apart from delete, and lists moves and imports', () => {
    const plan = summary('forget-move-import');
    expect(byAction(plan)).toEqual([
      'update aws_cloudwatch_log_group.control-plane-logs',
      'forget aws_s3_bucket.legacy-exports',
      'create-then-forget aws_kms_alias.data-key-alias',
      'no-op aws_eks_access_entry.admin-0',
      'no-op aws_iam_role.pipeline-readings-role_1FE4919D',
    ]);
    expect(plan.destructive).toEqual([]);
    expect(plan.changes[0]?.importing).toBe(true);
    expect(plan.changes[4]?.previousAddress).toBe('aws_iam_role.readings-role');
    expect(plan.counts['no-op']).toBe(3);
  });

  it('reads what Terraform 1.11 itself wrote (terraform_data resources, every kind of action)', () => {
    const plan = summary('terraform-1.11-generated');
    expect(byAction(plan)).toEqual([
      'delete terraform_data.gone',
      'replace terraform_data.replace_cd',
      'replace terraform_data.replace_dc',
      'replace terraform_data.tainted',
      'create terraform_data.created',
      'update terraform_data.update',
      'forget terraform_data.forget_me',
      'read data.terraform_remote_state.other',
      'no-op terraform_data.new_name',
    ]);
    expect(plan.changes[1]).toMatchObject({ order: 'create-before-delete', replacePaths: ['triggers_replace'] });
  });

  it('refuses what is not a Terraform 1.x JSON plan', () => {
    expect(() => summarizePlan({ format_version: '2.0', resource_changes: [] })).toThrow(PlanFormatError);
    expect(() => summarizePlan({ format_version: '2.0' })).toThrow('format_version must be 1.x (terraform show -json of Terraform 1.x), got "2.0"');
    expect(() => summarizePlan([])).toThrow('a JSON plan is an object');
    expect(() => summarizePlan({ format_version: '1.2', resource_changes: [{ address: 'a.b', change: {} }] })).toThrow('every resource change needs an address and change.actions');
  });

  it('renders destructive changes of every stack first, under a warning, naming lost data', () => {
    const markdown = renderPlanMarkdown('trial', [
      { stack: 'trial-network', summary: summary('no-changes') },
      { stack: 'trial-data-lake', summary: summary('replace') },
      { stack: 'trial-cluster', summary: summary('create-update-delete') },
    ]);
    const warning = markdown.indexOf('## ⚠️ Deletes or replaces (7)');
    expect(warning).toBeGreaterThan(0);
    expect(warning).toBeLessThan(markdown.indexOf('## trial-network'));
    expect(markdown).toContain('- **trial-network**: no changes (2 unchanged)');
    expect(markdown).toContain(
      '- **replace** `aws_s3_bucket.curated_bucket_852DE08A` (delete, then create; forced by `bucket`; an argument cannot be updated in place) in trial-data-lake — **data**: the bucket and every object in it are deleted',
    );
    expect(markdown).toContain('- **replace** `aws_launch_template.general-launch-template` (create, then delete; forced by `name`; an argument cannot be updated in place) in trial-data-lake\n');
    expect(markdown).toContain('- **delete** `aws_cloudwatch_log_group.old-flow-logs` (no longer in the configuration) in trial-cluster');
    expect(markdown).toContain('Read (data sources):\n- `data.aws_eks_cluster.cluster` (its arguments are known only during apply)');
  });
});

describe('npm run plan -- --env <env>', () => {
  // Runs in a copy with the fixture environments and pipelines (the script synthesizes into its project), with a stand-in terraform.
  const SLOW = { timeout: 120_000 };
  const scratch = mkdtempSync(join(tmpdir(), 'driftless-plan-test-'));
  const project = join(scratch, 'project');
  const stubs = stubTerraform(join(scratch, 'bin'));
  const plans = join(scratch, 'plans');
  const log = join(scratch, 'terraform.log');
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  beforeAll(() => {
    fixtureProject(project);
    mkdirSync(plans);
    copyFileSync(join(FIXTURES, 'no-changes.json'), join(plans, 'default.json'));
    copyFileSync(join(FIXTURES, 'replace.json'), join(plans, 'lab-data-lake.json'));
  });

  it('plans every stack in order and prints the summary, destructive changes first', SLOW, async () => {
    const run = await runScript(project, 'plan', ['--env', 'lab'], childEnv({ PATH: `${stubs}:${process.env.PATH}`, STUB_LOG: log, STUB_PLANS: plans }));
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    const dir = (stack: string) => `-chdir=${join(project, 'cdktf.out', 'stacks', stack)}`;
    expect(calls).toEqual(
      ['lab-network', 'lab-data-lake', 'lab-cluster', 'lab-bootstrap'].flatMap((stack) => [
        `${dir(stack)} init -input=false -no-color`,
        `${dir(stack)} plan -input=false -no-color -lock-timeout=5m -out=plan.tfplan`,
        `${dir(stack)} show -json -no-color plan.tfplan`,
      ]),
    );
    expect(run.stdout.startsWith('# Terraform plan: lab\n')).toBe(true);
    expect(run.stdout).toContain('- **lab-data-lake**: 1 to delete, 5 to replace');
    expect(run.stdout).toContain('- **lab-cluster**: no changes (2 unchanged)');
    expect(run.stdout.indexOf('## ⚠️ Deletes or replaces (6)')).toBeLessThan(run.stdout.indexOf('## lab-network'));
  });

  it('stops at a failing stack, names it with the end of terraform\'s output, and exits 1', SLOW, async () => {
    rmSync(log, { force: true });
    // TERRAFORM_BINARY instead of PATH this time.
    const env = childEnv({ TERRAFORM_BINARY: join(stubs, 'terraform'), STUB_LOG: log, STUB_PLANS: plans, STUB_FAIL_STACK: 'lab-cluster' });
    const run = await runScript(project, 'plan', ['--env', 'lab'], env);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('plan: lab-cluster: terraform plan failed (exit 1):\nError: reading EKS Cluster (driftless-lab): AccessDeniedException: not authorized\n');
    expect(run.stderr).toContain('plan: not planned: lab-bootstrap');
    expect(run.stdout).toContain('- **lab-data-lake**: 1 to delete, 5 to replace'); // what was planned before
    expect(readFileSync(log, 'utf8')).not.toContain('lab-bootstrap');
  });

  it('says how to get terraform when there is none, before synthesizing anything', SLOW, async () => {
    const empty = join(scratch, 'empty-bin');
    mkdirSync(empty);
    const manifest = join(project, 'cdktf.out', 'manifest.json');
    const synthesizedAt = statSync(manifest).mtimeMs;
    const run = await runScript(project, 'plan', ['--env', 'lab'], childEnv({ PATH: empty }));
    expect(run.status).toBe(1);
    expect(run.stderr).toBe("plan: terraform was not found (looked for 'terraform'): install Terraform >= 1.10, or set TERRAFORM_BINARY to its path\n");
    const missing = await runScript(project, 'plan', ['--env', 'lab'], childEnv({ TERRAFORM_BINARY: join(empty, 'terraform') }));
    expect(missing.stderr).toBe(`plan: terraform was not found (looked for '${join(empty, 'terraform')}'): install Terraform >= 1.10, or set TERRAFORM_BINARY to its path\n`);
    expect(statSync(manifest).mtimeMs).toBe(synthesizedAt);
  });

  it('rejects a missing, unknown or misspelt option in one line', SLOW, async () => {
    const [missing, unknown, misspelt] = await Promise.all([
      runScript(project, 'plan', []),
      runScript(project, 'plan', ['--env', 'qa']),
      runScript(project, 'plan', ['--environment', 'lab']),
    ]);
    expect(missing.stderr.split('\n')[0]).toBe("plan: option '--env' is required: the environment, the name of a file in environments/, got nothing");
    expect(unknown.stderr.split('\n')[0]).toBe("plan: option '--env' must be one of lab, live, trial (the files in environments/), got 'qa'");
    expect(misspelt.stderr.split('\n')[0]).toBe("plan: option '--environment' is not known: the options are --env, --local");
    for (const run of [missing, unknown, misspelt]) expect(run.status).toBe(1);
  });
});
