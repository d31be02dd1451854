/**
 * The AWS side on this machine: the environment's stacks applied with OpenTofu and the pinned providers to an AWS API
 * emulator (moto's server from the pinned Python packages, a process of its own beside the plane's S3 emulator, which
 * holds buckets of its own for the pipelines), through the synthesized Terraform JSON.
 *
 * What differs from a deploy to AWS, each in one place:
 * - the endpoint: `AWS_ENDPOINT_URL`, the SDKs' standard variable, which the AWS provider reads for every service;
 * - the credentials: moto's test credentials; the account: moto runs as the environment's account (`MOTO_ACCOUNT_ID`),
 *   so `allowed_account_ids`, ARNs and bucket-owner checks are AWS's;
 * - the state: a local file in the stack's working folder (`.local/<env>/aws/stacks/<stack>/`), by a backend override,
 *   so an emulator's state never mixes with the environment's real one;
 * - the providers: the versions the toolchain built (scripts/toolchain/iac.ts);
 * - what moto cannot create is left out and listed (emulator-stacks.ts).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Environment } from '../../environments/schema';
import { runCommand, tail, type CommandResult } from '../run-command';
import { UsageError } from '../command-line';
import type { TerraformRunner } from '../terraform-cli';
import { addVersionOverride, installedIac, type IacToolchain } from '../toolchain/iac';
import { cacheDir } from '../toolchain/toolchain';
import { planeDir } from './plane';
import { emulatorConfiguration, type LeftOut } from './emulator-stacks';
import { isRunning, startDetached, stopGroup, waitUntil } from './processes';
import { LOCAL_AWS_CREDENTIALS, s3Healthy } from './s3';
import { changedPaths, pathLabels } from '../value-diff';

/** The running emulator, as recorded in `.local/<env>/aws/emulator.json`. */
export interface AwsEmulator {
  readonly endpoint: string;
  readonly pid: number;
  readonly accountId: string;
  readonly region: string;
}

/** The emulator's folder of an environment's plane folder. */
export const awsDir = (planeDir: string): string => join(planeDir, 'aws');

const emulatorFile = (dir: string) => join(dir, 'emulator.json');

/** The emulator recorded in `dir`, if it still runs. */
export function readAwsEmulator(dir: string): AwsEmulator | undefined {
  if (!existsSync(emulatorFile(dir))) return undefined;
  const emulator = JSON.parse(readFileSync(emulatorFile(dir), 'utf8')) as AwsEmulator;
  return isRunning(emulator.pid) ? emulator : undefined;
}

/**
 * Starts the emulator unless it runs. moto keeps its state in memory: a new emulator starts empty, so the stacks'
 * states of an earlier one are removed with it.
 */
export async function startAwsEmulator(options: { readonly env: Environment; readonly python: string; readonly dir: string; readonly port: number; readonly log: (line: string) => void }): Promise<AwsEmulator> {
  const { env, dir, port } = options;
  const running = readAwsEmulator(dir);
  if (running !== undefined) return running;
  rmSync(join(dir, 'stacks'), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  options.log(`starting the AWS API emulator (moto) on 127.0.0.1:${port} as account ${env.aws.accountId}`);
  const logFile = join(dir, 'moto.log');
  const pid = startDetached(options.python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    cwd: dir,
    logFile,
    // AWS's managed policies (AmazonEKSClusterPolicy, ...) exist in every account; moto loads them only when asked.
    env: { ...process.env, MOTO_ACCOUNT_ID: env.aws.accountId, AWS_DEFAULT_REGION: env.aws.region, MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' },
  });
  await waitUntil('the AWS API emulator (moto)', () => s3Healthy(port), { pid, logFile, timeoutMs: 60_000 });
  const emulator: AwsEmulator = { endpoint: `http://127.0.0.1:${port}`, pid, accountId: env.aws.accountId, region: env.aws.region };
  writeFileSync(`${emulatorFile(dir)}.partial`, `${JSON.stringify(emulator, null, 2)}\n`);
  renameSync(`${emulatorFile(dir)}.partial`, emulatorFile(dir));
  return emulator;
}

/** Stops the emulator of `dir`; its states go with it (moto's data was in memory). */
export async function stopAwsEmulator(dir: string): Promise<boolean> {
  const emulator = readAwsEmulator(dir);
  rmSync(emulatorFile(dir), { force: true });
  rmSync(join(dir, 'stacks'), { recursive: true, force: true });
  if (emulator === undefined) return false;
  await stopGroup(emulator.pid);
  return true;
}

/** The variables every tofu command against the emulator gets: the toolchain's, the endpoint and test credentials. */
export function emulatorEnv(emulator: AwsEmulator, iac: IacToolchain): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Whatever points at a real account goes: a profile or session token would be sent to the emulator, or worse.
  for (const name of Object.keys(env)) if (/^(AWS|TF)_/.test(name) || /^(https?|no)_proxy$/i.test(name)) delete env[name];
  return {
    ...env,
    ...iac.env,
    TF_IN_AUTOMATION: '1',
    AWS_ENDPOINT_URL: emulator.endpoint,
    AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
    // S3 Control puts the account id in front of the endpoint's host (111111111111.127.0.0.1), a name no resolver
    // knows. Sent through moto as an HTTP proxy, it is never resolved, and moto serves it by its Host header; Go's
    // HTTP client never proxies a loopback address, so every other request still goes straight to the endpoint.
    HTTP_PROXY: emulator.endpoint,
  };
}

/** The state backend of a stack's working folder: a local file beside it, whatever the stack names. */
const BACKEND_OVERRIDE_FILE = 'driftless_emulator_override.tf.json';
const backendOverride = {
  '//': 'Written by npm run local -- deploy (scripts/local/aws.ts): the emulator\'s state stays in this folder.',
  terraform: { backend: { local: { path: 'terraform.tfstate' } } },
};

/**
 * Writes a stack's working folder for the emulator from its synthesized cdk.tf.json: the configuration without what
 * the emulator cannot create, the providers' version override and the state override. Returns what was left out.
 */
export function prepareStack(synthesizedJson: string, workDir: string, iac: IacToolchain): readonly LeftOut[] {
  const { json, leftOut } = emulatorConfiguration(JSON.parse(readFileSync(synthesizedJson, 'utf8')));
  mkdirSync(workDir, { recursive: true });
  writeFileSync(join(workDir, 'cdk.tf.json'), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(join(workDir, BACKEND_OVERRIDE_FILE), `${JSON.stringify(backendOverride, null, 2)}\n`);
  addVersionOverride(iac, workDir);
  return leftOut;
}

/** An environment's running emulator with the toolchain that deployed to it: what plan and drift `--local` run against. */
export interface LocalTarget {
  readonly emulator: AwsEmulator;
  readonly iac: IacToolchain;
  /** The emulator's folder, holding the stacks' working folders and states. */
  readonly dir: string;
  /** The toolchain's OpenTofu with the emulator's variables. */
  readonly runner: TerraformRunner;
}

/** The running emulator of `env`; a one-line error says how to start one when there is none. */
export function localTarget(env: string): LocalTarget {
  const dir = awsDir(planeDir(env));
  const emulator = readAwsEmulator(dir);
  if (emulator === undefined) throw new UsageError(`no AWS API emulator runs for '${env}': apply the stacks to one with 'npm run local -- deploy --env ${env}'`);
  const iac = installedIac(cacheDir());
  return { emulator, iac, dir, runner: { binary: iac.tofu, env: emulatorEnv(emulator, iac) } };
}

/** The working folder of a stack (`<env>-<stack>`) against the emulator. */
export const stackWorkDir = (dir: string, stack: string): string => join(dir, 'stacks', stack);

/** Runs tofu in a working folder with the emulator's variables. */
export function tofu(iac: IacToolchain, emulator: AwsEmulator, workDir: string, args: readonly string[]): Promise<CommandResult> {
  return runCommand(iac.tofu, [`-chdir=${workDir}`, ...args], { cwd: workDir, env: emulatorEnv(emulator, iac) });
}

/** What a deploy did to one stack. */
export interface StackDeploy {
  /** `<env>-<stack>`. */
  readonly stack: string;
  /** Resources in the stack's state after the apply (`tofu state list`, data sources excluded). */
  readonly created: readonly string[];
  readonly leftOut: readonly LeftOut[];
  /** The plan right after the apply: no changes, or the resources it would still change. */
  readonly replan: { readonly changes: false } | { readonly changes: true; readonly summary: readonly string[] };
}

/** A tofu step that failed against the emulator: the stack, the step and the end of its output. */
export class EmulatorDeployError extends Error {
  override name = 'EmulatorDeployError';
}

/**
 * Applies the stacks (`<env>-<stack>`, in the order given: the order they are applied in AWS) from their synthesized
 * folders to the emulator, then plans each again with `-detailed-exitcode`: right after an apply there must be nothing
 * left to change, or a nightly drift check would report drift that is not there.
 */
export async function deployStacks(options: {
  readonly stacks: readonly string[];
  /** The folder holding `<stack>/cdk.tf.json` (cdktf.out/stacks). */
  readonly synthesized: string;
  readonly dir: string;
  readonly iac: IacToolchain;
  readonly emulator: AwsEmulator;
  readonly log: (line: string) => void;
}): Promise<StackDeploy[]> {
  const { iac, emulator, log } = options;
  const applied: Array<{ stack: string; leftOut: readonly LeftOut[]; created: string[] }> = [];
  for (const stack of options.stacks) {
    const workDir = stackWorkDir(options.dir, stack);
    const leftOut = prepareStack(join(options.synthesized, stack, 'cdk.tf.json'), workDir, iac);
    await must(stack, 'init', await tofu(iac, emulator, workDir, ['init', '-input=false', '-no-color']));
    const started = Date.now();
    await must(stack, 'apply', await tofu(iac, emulator, workDir, ['apply', '-auto-approve', '-input=false', '-no-color']));
    const list = await must(stack, 'state list', await tofu(iac, emulator, workDir, ['state', 'list']));
    const created = list.stdout.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('data.'));
    log(`${stack}: applied ${created.length} resources in ${((Date.now() - started) / 1000).toFixed(0)} s; left out ${leftOut.length}`);
    applied.push({ stack, leftOut, created });
  }
  const results: StackDeploy[] = [];
  for (const { stack, leftOut, created } of applied) {
    results.push({ stack, created, leftOut, replan: await replan(iac, emulator, stackWorkDir(options.dir, stack), stack) });
  }
  return results;
}

/** `plan -detailed-exitcode` of an applied stack: exit 0 no changes, 2 changes (with the lines that say which). */
export async function replan(iac: IacToolchain, emulator: AwsEmulator, workDir: string, stack: string): Promise<StackDeploy['replan']> {
  const plan = await tofu(iac, emulator, workDir, ['plan', '-detailed-exitcode', '-input=false', '-no-color']);
  if (plan.code === 0) return { changes: false };
  if (plan.code === 2) return { changes: true, summary: planChangeLines(plan.stdout) };
  throw new EmulatorDeployError(`${stack}: tofu plan failed (exit ${plan.code ?? 'by a signal'}):\n${tailOf(plan)}`);
}

/** The resource headers and changed attributes of a human-readable plan: enough to name each perpetual diff. */
export function planChangeLines(output: string): string[] {
  return output
    .split('\n')
    .filter((line) => /^\s*# \S+ (will be|must be|has changed)/.test(line) || /^\s+[~+-] [\w"]+.* (=|->|\{)/.test(line) || /^Plan:/.test(line))
    .map((line) => line.trimEnd());
}

async function must(stack: string, step: string, result: CommandResult): Promise<CommandResult> {
  if (result.code === 0) return result;
  throw new EmulatorDeployError(`${stack}: tofu ${step} failed (exit ${result.code ?? 'by a signal'}):\n${tailOf(result)}`);
}

const tailOf = (result: CommandResult) => tail(result.stderr.trim() || result.stdout, 30);

/**
 * What a JSON plan (`tofu show -json`) says has drifted, one line per resource: the attributes changed outside
 * Terraform since the last apply (`resource_drift`), and those the plan would change back (`resource_changes`).
 */
export function driftLines(plan: unknown): string[] {
  const { resource_drift: outside = [], resource_changes: changes = [] } = plan as { resource_drift?: unknown[]; resource_changes?: unknown[] };
  const lines: string[] = [];
  const describe = (item: unknown, what: string) => {
    const { address, change } = item as { address: string; change: { actions: string[]; before: unknown; after: unknown } };
    if (change.actions.every((action) => action === 'no-op' || action === 'read')) return;
    const attributes = change.actions.includes('update') ? pathLabels(change.before, change.after, changedPaths(change.before, change.after)) : [];
    lines.push(`${address}: ${what}${attributes.length > 0 ? `: ${attributes.join(', ')}` : ''}`);
  };
  for (const item of outside) describe(item, 'changed outside Terraform');
  for (const item of changes) {
    const actions = (item as { change: { actions: string[] } }).change.actions;
    describe(item, actions.length === 1 ? `the plan would ${actions[0]} it` : `the plan would ${actions.join(' and ')} it`);
  }
  return lines;
}
