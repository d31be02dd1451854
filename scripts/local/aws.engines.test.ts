/**
 * The AWS side with the real tools: every stack of every environment validated by OpenTofu with the providers the
 * toolchain built; the first environment applied to the AWS API emulator with `npm run local -- deploy`, planned again
 * with no changes, and drift made behind Terraform's back found by `npm run drift -- --local` on that real state.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import { STACKS, stackName } from '../../environments/naming';
import { throwawayRepository } from '../test-projects';
import { runCommand } from '../run-command';
import { addVersionOverride, installedIac } from '../toolchain/iac';
import { cacheDir, installedToolchain } from '../toolchain/toolchain';
import { awsDir, readAwsEmulator, stackWorkDir, stopAwsEmulator, tofu, type AwsEmulator } from './aws';
import { emulatorConfiguration, leftOutBecause } from './emulator-stacks';
import { freePortBase, planeDir } from './plane';

const environments = await loadEnvironments();
const iac = installedIac(cacheDir());
const toolchain = await installedToolchain();
const scratch = mkdtempSync(join(tmpdir(), 'driftless-aws-'));
const project = join(scratch, 'project');
const localRoot = join(scratch, 'local');
let portBase = 0;

/** Runs one of the project's scripts in the copy, against the copy's emulator folder and the shared cache. */
function script(name: string, args: readonly string[]) {
  return runCommand(process.execPath, ['--import', 'tsx', `scripts/${name}.ts`, ...args], {
    cwd: project,
    env: { ...process.env, DRIFTLESS_CACHE: cacheDir(), DRIFTLESS_LOCAL_DIR: localRoot, DRIFTLESS_LOCAL_PORT_BASE: String(portBase) },
  });
}

const synthesized = (stack: string) => join(project, 'cdktf.out', 'stacks', stack);

beforeAll(async () => {
  // A repository of its own: drift copies the project by what Git tracks, and compares its committed k8s/rendered.
  throwawayRepository(project);
  portBase = await freePortBase();
  const synth = await script('synth', []);
  expect(synth.code, synth.stderr).toBe(0);
}, 300_000);

afterAll(async () => {
  for (const env of environments) await stopAwsEmulator(awsDir(planeDir(env.name, localRoot)));
  if (process.env['DRIFTLESS_KEEP_ENGINES'] !== '1') rmSync(scratch, { recursive: true, force: true });
});

describe('every stack of every environment, validated by OpenTofu with the built providers', () => {
  for (const env of environments) {
    for (const kind of STACKS) {
      const stack = stackName(env.name, kind);
      it(`${stack} is valid`, async () => {
        const work = mkdtempSync(join(scratch, `validate-${stack}-`));
        copyFileSync(join(synthesized(stack), 'cdk.tf.json'), join(work, 'cdk.tf.json'));
        addVersionOverride(iac, work);
        const run = (args: string[]) => runCommand(iac.tofu, [`-chdir=${work}`, ...args], { cwd: work, env: { ...process.env, ...iac.env } });
        const init = await run(['init', '-backend=false', '-input=false', '-no-color']);
        expect(init.code, init.stderr || init.stdout).toBe(0);
        const validate = await run(['validate', '-json', '-no-color']);
        const result = JSON.parse(validate.stdout) as { valid: boolean; diagnostics: Array<{ severity: string; summary: string; detail?: string; address?: string }> };
        const problems = result.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.address ?? ''} ${d.summary}: ${d.detail ?? ''}`);
        expect(problems).toEqual([]);
        expect(result.valid).toBe(true);
      }, 120_000);
    }
  }
});

describe('the first environment on the AWS API emulator', () => {
  const env = environments[0]!;
  const dir = () => awsDir(planeDir(env.name, localRoot));
  let emulator: AwsEmulator;
  const work = (kind: (typeof STACKS)[number]) => stackWorkDir(dir(), stackName(env.name, kind));
  /** The state's resources of a type in a stack: `tofu show -json`. */
  async function stateResources(kind: (typeof STACKS)[number], type: string): Promise<Array<{ address: string; values: Record<string, any> }>> {
    const show = await tofu(iac, emulator, work(kind), ['show', '-json', '-no-color']);
    expect(show.code, show.stderr).toBe(0);
    const state = JSON.parse(show.stdout) as { values?: { root_module?: { resources?: Array<{ address: string; type: string; mode: string; values: Record<string, any> }> } } };
    return (state.values?.root_module?.resources ?? []).filter((r) => r.mode === 'managed' && r.type === type);
  }
  /** Changes something through the AWS API, as someone in the console would (boto3, from the toolchain). */
  async function behindTerraformsBack(code: string): Promise<void> {
    const python = [
      'import boto3, os',
      `client = lambda service: boto3.client(service, endpoint_url=${JSON.stringify(emulator.endpoint)}, region_name=${JSON.stringify(env.aws.region)}, aws_access_key_id="test", aws_secret_access_key="test")`,
      code,
    ].join('\n');
    const run = await runCommand(toolchain.python, ['-c', python], { cwd: scratch });
    expect(run.code, run.stderr).toBe(0);
  }
  const drift = () => script('drift', ['--env', env.name, '--local']);
  async function reapply(kind: (typeof STACKS)[number]): Promise<void> {
    const apply = await tofu(iac, emulator, work(kind), ['apply', '-auto-approve', '-input=false', '-no-color']);
    expect(apply.code, apply.stderr || apply.stdout).toBe(0);
  }

  it('applies every stack with `local deploy`, leaving out only what the emulator cannot create, and a plan right after shows no changes', async () => {
    const deploy = await script('local', ['deploy', '--env', env.name]);
    expect(deploy.code, `${deploy.stdout}\n${deploy.stderr}`).toBe(0);
    emulator = readAwsEmulator(dir())!;
    expect(emulator).toBeDefined();
    for (const kind of STACKS) {
      const stack = stackName(env.name, kind);
      expect(deploy.stdout).toContain(`${stack}: `);
      expect(deploy.stdout).toMatch(new RegExp(`${stack}: \\d+ resources; plan after apply: no changes`));
      // Everything the emulator can create is in the state: the synthesized resources minus the listed ones.
      const { json, leftOut } = emulatorConfiguration(JSON.parse(readFileSync(join(synthesized(stack), 'cdk.tf.json'), 'utf8')));
      const expected = Object.entries((json as { resource?: Record<string, Record<string, unknown>> }).resource ?? {}).flatMap(([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`));
      const list = await tofu(iac, emulator, work(kind), ['state', 'list']);
      const inState = list.stdout.split('\n').filter((line) => line !== '' && !line.startsWith('data.'));
      expect(inState.sort()).toEqual(expected.sort());
      // Each left out by its type's listed reason, or because it refers to something left out.
      for (const item of leftOut) {
        const listed = leftOutBecause(item.address.split('.')[0]!);
        if (listed === undefined) expect(item.reason, item.address).toMatch(/^refers to \S+, which is left out$/);
        else expect(item.reason, item.address).toBe(listed);
        expect(deploy.stdout).toContain(item.address.split('.')[0]!);
      }
      // And a plan of the same working folder, run here and not by the deploy, changes nothing.
      const plan = await tofu(iac, emulator, work(kind), ['plan', '-detailed-exitcode', '-input=false', '-no-color']);
      expect(plan.code, plan.stdout).toBe(0);
    }
  }, 1_800_000);

  it('drift is in sync right after the deploy (exit 0)', async () => {
    const run = await drift();
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
  }, 600_000);

  const cases: Array<{ what: string; kind: (typeof STACKS)[number]; type: string; change: (resource: { address: string; values: Record<string, any> }) => string; attribute: RegExp }> = [
    {
      what: 'bucket versioning suspended',
      kind: 'data-lake',
      type: 'aws_s3_bucket_versioning',
      change: (r) => `client("s3").put_bucket_versioning(Bucket=${JSON.stringify(r.values['bucket'])}, VersioningConfiguration={"Status": "Suspended"})`,
      attribute: /versioning_configuration\[0\]\.status/,
    },
    {
      what: 'a tag removed',
      kind: 'network',
      type: 'aws_vpc',
      change: (r) => `client("ec2").delete_tags(Resources=[${JSON.stringify(r.values['id'])}], Tags=[{"Key": "environment"}])`,
      attribute: /tags_all\.environment/,
    },
    {
      what: 'an ingress rule added to a security group',
      kind: 'network',
      type: 'aws_default_security_group',
      change: (r) =>
        `client("ec2").authorize_security_group_ingress(GroupId=${JSON.stringify(r.values['id'])}, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])`,
      attribute: /ingress/,
    },
    {
      what: "a KMS key's rotation turned off",
      kind: 'data-lake',
      type: 'aws_kms_key',
      change: (r) => `client("kms").disable_key_rotation(KeyId=${JSON.stringify(r.values['key_id'])})`,
      attribute: /enable_key_rotation/,
    },
  ];
  for (const { what, kind, type, change, attribute } of cases) {
    it(`finds ${what}: exit 2 naming the resource and attribute, and exit 0 after a re-apply`, async () => {
      const [resource] = await stateResources(kind, type);
      expect(resource, `no ${type} in ${stackName(env.name, kind)}`).toBeDefined();
      await behindTerraformsBack(change(resource!));
      const drifted = await drift();
      expect(drifted.code, `${drifted.stdout}\n${drifted.stderr}`).toBe(2);
      const line = drifted.stdout.split('\n').find((l) => l.includes(`${resource!.address}: changed outside Terraform`));
      expect(line, drifted.stdout).toBeDefined();
      expect(line).toMatch(attribute);
      expect(drifted.stdout).toContain(`${stackName(env.name, kind)}: **drifted**`);
      await reapply(kind);
      const again = await drift();
      expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
    }, 900_000);
  }

  it('plans against the emulator as against AWS: `npm run plan -- --local` summarizes real plans', async () => {
    const [resource] = await stateResources('data-lake', 'aws_kms_key');
    await behindTerraformsBack(`client("kms").disable_key_rotation(KeyId=${JSON.stringify(resource!.values['key_id'])})`);
    const plan = await script('plan', ['--env', env.name, '--local']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(`${stackName(env.name, 'data-lake')}`);
    expect(plan.stdout).toContain(resource!.address);
    expect(plan.stdout).toMatch(/update/);
    await reapply('data-lake');
  }, 600_000);
});
