/**
 * `npm run drift -- --env <env>`: does the environment still match Git? Exit 0 in sync, 2 drifted, 1 error.
 *
 * Synthesizes the working tree in a copy of the project (the user's output stays as it is). Then, per stack
 * in the order they are applied: `terraform init` and `terraform plan -detailed-exitcode -refresh=true`
 * against the real state (0 no changes, 2 changes: drift, anything else an error; every stack is checked
 * even when one fails). Finally k8s/rendered/<env> as it is in the project (in CI, the commit: what Argo CD
 * syncs) is compared with the fresh synth, object by object. Markdown on stdout; errors also on stderr.
 *
 * `--local`: the stacks against the environment's AWS API emulator (`npm run local -- deploy`) and the state of that
 * deploy; each drifted resource is named with the attributes that changed, from the JSON plan.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { RENDERED_ROOT, STACKS, stackName } from '../environments/naming';
import type { EnvironmentName } from '../environments/schema';
import { ENV_OPTION, environmentOption, parseCommandLine, UsageError, runScript, type OptionSpec, type ScriptOutput } from './command-line';
import { diffKubernetes, objectLabel, readKubernetesTree, type KubernetesChange } from './output-diff';
import { driftLines, localTarget, prepareStack, stackWorkDir, type LocalTarget } from './local/aws';
import { copyProject, PROJECT_ROOT } from './project-copy';
import { runCommand, tail } from './run-command';
import { init, planSummaryLines, requireTerraform, terraform, TerraformError } from './terraform-cli';

const OPTIONS = {
  env: ENV_OPTION,
  local: { type: 'boolean', meaning: "against the AWS API emulator of 'npm run local -- deploy' instead of AWS" },
} as const satisfies Record<string, OptionSpec>;
const USAGE = 'usage: npm run drift -- --env <name> [--local] (an environment: a file in environments/)';

/** Exit codes of the command, a contract of the drift workflow. */
export const EXIT = { inSync: 0, error: 1, drifted: 2 } as const;

/** The outcome of one stack's plan. */
export type StackDrift =
  | { readonly stack: string; readonly state: 'in sync' }
  | { readonly stack: string; readonly state: 'drifted'; readonly summary: readonly string[] }
  | { readonly stack: string; readonly state: 'error'; readonly message: string };

/** How the committed rendered folder differs from a fresh synth. */
export interface ManifestDrift {
  /** Object changes from the committed tree to the fresh synth. */
  readonly objects: readonly KubernetesChange[];
  /** Files that differ although their objects do not (formatting), or that hold no object. */
  readonly files: readonly string[];
  /** Committed files that are not Kubernetes YAML. */
  readonly problems: readonly string[];
}

/** Output channels, so that tests can run the command in-process. */
export type Io = ScriptOutput;

/** Runs the command; returns the exit code. */
export async function main(args: readonly string[], io: Io): Promise<number> {
  let env: EnvironmentName;
  let emulator: LocalTarget | undefined;
  try {
    const values = parseCommandLine(args, OPTIONS);
    env = environmentOption(values);
    if (values['local']) emulator = localTarget(env);
    else requireTerraform();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`drift: ${error.message}`);
    if (error.showUsage) io.err(USAGE);
    return EXIT.error;
  }
  const scratch = mkdtempSync(join(tmpdir(), 'driftless-drift-'));
  try {
    const copy = join(scratch, 'project');
    copyProject(copy);
    const synth = await runCommand(process.execPath, ['--import', 'tsx', 'scripts/synth.ts', '--env', env], { cwd: copy });
    if (synth.code !== 0) {
      io.err(`drift: the synth of ${env} failed:\n${tail(synth.stderr || synth.stdout, 40)}`);
      return EXIT.error;
    }
    const stacks: StackDrift[] = [];
    for (const stack of STACKS) stacks.push(emulator ? await emulatorStackDrift(stackName(env, stack), copy, emulator) : await stackDrift(stackName(env, stack), copy));
    const manifests = manifestDrift(join(PROJECT_ROOT, RENDERED_ROOT, env), join(copy, RENDERED_ROOT, env));
    io.out(renderDriftMarkdown(env, stacks, manifests));
    for (const stack of stacks) if (stack.state === 'error') io.err(`drift: ${stack.message}`);
    if (stacks.some((stack) => stack.state === 'error')) return EXIT.error;
    const drifted = stacks.some((stack) => stack.state === 'drifted') || manifests.objects.length + manifests.files.length + manifests.problems.length > 0;
    return drifted ? EXIT.drifted : EXIT.inSync;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`drift: ${error.message}`);
    return EXIT.error;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** init and `plan -detailed-exitcode` of one stack of the synthesized copy. */
async function stackDrift(stack: string, copy: string): Promise<StackDrift> {
  const dir = join(copy, 'cdktf.out', 'stacks', stack);
  try {
    await init(stack, dir, localStateArgs(copy, dir));
    const plan = await terraform(dir, ['plan', '-detailed-exitcode', '-refresh=true', '-input=false', '-lock-timeout=5m', '-no-color']);
    if (plan.code === 0) return { stack, state: 'in sync' };
    if (plan.code === 2) return { stack, state: 'drifted', summary: planSummaryLines(plan.stdout) };
    throw new TerraformError(stack, 'plan', plan);
  } catch (error) {
    if (!(error instanceof TerraformError)) throw error;
    return { stack, state: 'error', message: error.message };
  }
}

/**
 * A stack against the emulator, in the working folder the deploy used (its state is there), with the fresh
 * configuration: `plan -detailed-exitcode`, and from the JSON plan each drifted resource with its attributes.
 */
async function emulatorStackDrift(stack: string, copy: string, local: LocalTarget): Promise<StackDrift> {
  const workDir = stackWorkDir(local.dir, stack);
  try {
    if (!existsSync(join(workDir, 'terraform.tfstate'))) throw new UsageError(`${stack} was not applied to the emulator: run 'npm run local -- deploy'`);
    prepareStack(join(copy, 'cdktf.out', 'stacks', stack, 'cdk.tf.json'), workDir, local.iac);
    await init(stack, workDir, [], local.runner);
    const plan = await terraform(workDir, ['plan', '-detailed-exitcode', '-refresh=true', '-input=false', '-no-color', '-out=drift.tfplan'], local.runner);
    if (plan.code === 0) return { stack, state: 'in sync' };
    if (plan.code !== 2) throw new TerraformError(stack, 'plan', plan);
    const show = await terraform(workDir, ['show', '-json', '-no-color', 'drift.tfplan'], local.runner);
    if (show.code !== 0) throw new TerraformError(stack, 'show', show);
    return { stack, state: 'drifted', summary: driftLines(JSON.parse(show.stdout)) };
  } catch (error) {
    if (error instanceof TerraformError || error instanceof UsageError) return { stack, state: 'error', message: error.message };
    throw error;
  }
}

/**
 * A stack without a state bucket keeps its state in a local file named by a path relative to its folder,
 * which in the copy would point into the copy: point it at the project's file instead.
 */
function localStateArgs(copy: string, dir: string): string[] {
  const json = JSON.parse(readFileSync(join(dir, 'cdk.tf.json'), 'utf8')) as { terraform?: { backend?: { local?: { path?: unknown } } } };
  const path = json.terraform?.backend?.local?.path;
  if (typeof path !== 'string') return [];
  const inCopy = relative(copy, resolve(dir, path));
  if (inCopy.startsWith('..') || isAbsolute(inCopy)) return [];
  return [`-backend-config=path=${join(PROJECT_ROOT, inCopy)}`];
}

/** Compares the committed rendered folder of an environment with a freshly synthesized one. */
export function manifestDrift(committedDir: string, freshDir: string): ManifestDrift {
  const committed = readKubernetesTree(committedDir);
  const fresh = readKubernetesTree(freshDir);
  const objects = diffKubernetes(committed.objects, fresh.objects);
  const explained = new Set(objects.map((change) => change.file));
  for (const change of objects) {
    const before = committed.objects.get(change.id)?.file;
    if (before !== undefined) explained.add(before);
  }
  const files = [...new Set([...committed.files.keys(), ...fresh.files.keys()])]
    .filter((file) => committed.files.get(file) !== fresh.files.get(file) && !explained.has(file))
    .sort();
  return { objects, files, problems: committed.problems };
}

const OBJECT_GROUPS = [
  ['change', 'Differs from a fresh synth'],
  ['add', 'Missing from Git (the code produces it)'],
  ['remove', 'In Git, but the code no longer produces it'],
] as const;

/** The Markdown report: per stack its state, then the manifests that differ. */
export function renderDriftMarkdown(env: string, stacks: readonly StackDrift[], manifests: ManifestDrift): string {
  const driftedStacks = stacks.filter((stack) => stack.state === 'drifted').map((stack) => stack.stack);
  const failed = stacks.filter((stack) => stack.state === 'error').map((stack) => stack.stack);
  const manifestCount = manifests.objects.length + manifests.files.length + manifests.problems.length;
  const verdict =
    failed.length > 0 ? `error in ${failed.join(', ')}` : driftedStacks.length > 0 || manifestCount > 0 ? 'drifted' : 'in sync';
  const lines = [
    `# Drift: ${env}`,
    '',
    `**${env}**: ${verdict} · Terraform: ${driftedStacks.length === 0 ? 'no stack drifted' : `${driftedStacks.join(', ')} drifted`}` +
      ` · Kubernetes: ${manifestCount === 0 ? 'k8s/rendered matches a fresh synth' : `${manifestCount} ${manifestCount === 1 ? 'difference' : 'differences'}`}`,
    '',
    '## Terraform (plan -detailed-exitcode per stack)',
    '',
  ];
  for (const stack of stacks) {
    if (stack.state === 'in sync') lines.push(`- ${stack.stack}: in sync`);
    else if (stack.state === 'drifted') {
      lines.push(`- ${stack.stack}: **drifted**`);
      if (stack.summary.length > 0) lines.push('  ```', ...stack.summary.map((line) => `  ${line}`), '  ```');
    } else {
      lines.push(`- ${stack.stack}: **error**`, '  ```', ...stack.message.split('\n').map((line) => `  ${line}`), '  ```');
    }
  }
  lines.push('', `## Kubernetes (${RENDERED_ROOT}/${env} against a fresh synth)`, '');
  if (manifestCount === 0) lines.push('In sync.');
  for (const [action, title] of OBJECT_GROUPS) {
    const group = manifests.objects.filter((change) => change.action === action);
    if (group.length === 0) continue;
    lines.push(`${title}:`);
    for (const change of group) {
      const paths = change.paths.length === 0 ? '' : `: ${change.paths.slice(0, 12).map((path) => `\`${path}\``).join(', ')}`;
      lines.push(`- \`${objectLabel(change)}\` (\`${change.file}\`)${paths}`);
      if (change.diff.length > 0) lines.push('  ```diff', ...change.diff.slice(0, 40).map((line) => `  ${line}`), '  ```');
    }
    lines.push('');
  }
  if (manifests.files.length > 0) lines.push('Files that differ in formatting only, or hold no object:', ...manifests.files.map((file) => `- \`${file}\``), '');
  if (manifests.problems.length > 0) lines.push('Committed files that are not Kubernetes YAML:', ...manifests.problems.map((problem) => `- ${problem}`), '');
  if (manifestCount > 0) lines.push(`Run \`npm run synth -- --env ${env}\` and commit ${RENDERED_ROOT}/${env}: Argo CD syncs what is committed.`);
  return `${lines.join('\n').trimEnd()}\n`;
}

if (typeof require !== 'undefined' && require.main === module) runScript('drift', main);
