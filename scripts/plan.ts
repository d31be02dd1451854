/**
 * `npm run plan -- --env <env>`: the Terraform plan of every stack of an environment, as Markdown.
 *
 * Synthesizes the environment (as `npm run synth -- --env <env>` does), then per stack in the order they are
 * applied (network, data-lake, cluster, bootstrap): `terraform init`, `plan -out=plan.tfplan` and
 * `show -json plan.tfplan`, summarized: counts by action, resources by action, deletes and replacements of
 * all stacks first. Needs Terraform (TERRAFORM_BINARY or `terraform` on PATH) and credentials of the
 * environment's account. Exits 1 on any error, naming the stack and showing the end of terraform's output.
 *
 * `--local`: the same against the environment's AWS API emulator (`npm run local -- deploy`), with the toolchain's
 * OpenTofu, in the working folders that hold the emulator's state (see scripts/local/aws.ts for what differs).
 */
import { join } from 'node:path';
import { STACKS, stackName } from '../environments/naming';
import { ENV_OPTION, environmentOption, parseCommandLine, UsageError, runScript, type OptionSpec, type ScriptOutput } from './command-line';
import { PROJECT_ROOT } from './project-copy';
import { runCommand, tail } from './run-command';
import { localTarget, prepareStack, stackWorkDir } from './local/aws';
import { init, requireTerraform, terraform, TerraformError, type TerraformRunner } from './terraform-cli';
import { PlanFormatError, renderPlanMarkdown, summarizePlan, type PlanSummary } from './terraform-plan';

const OPTIONS = {
  env: ENV_OPTION,
  local: { type: 'boolean', meaning: "against the AWS API emulator of 'npm run local -- deploy' instead of AWS" },
} as const satisfies Record<string, OptionSpec>;
const USAGE = 'usage: npm run plan -- --env <name> [--local] (an environment: a file in environments/)';
const PLAN_FILE = 'plan.tfplan';

/** Output channels, so that tests can run the command in-process. */
export type Io = ScriptOutput;

/** Runs the command; returns the exit code. */
export async function main(args: readonly string[], io: Io): Promise<number> {
  const planned: Array<{ stack: string; summary: PlanSummary }> = [];
  let env = '';
  try {
    const values = parseCommandLine(args, OPTIONS);
    const environment = environmentOption(values);
    env = environment;
    const local = values['local'] ? localTarget(environment) : undefined;
    if (local === undefined) requireTerraform();
    const synth = await runCommand(process.execPath, ['--import', 'tsx', 'scripts/synth.ts', '--env', env], { cwd: PROJECT_ROOT });
    if (synth.code !== 0) throw new UsageError(`the synth of ${env} failed:\n${tail(synth.stderr || synth.stdout, 40)}`);
    for (const stack of STACKS) {
      const name = stackName(environment, stack);
      const synthesized = join(PROJECT_ROOT, 'cdktf.out', 'stacks', name);
      if (local === undefined) planned.push({ stack: name, summary: await planStack(name, synthesized) });
      else {
        // The emulator's working folder holds the state of its deploy; it gets the fresh configuration.
        const workDir = stackWorkDir(local.dir, name);
        prepareStack(join(synthesized, 'cdk.tf.json'), workDir, local.iac);
        planned.push({ stack: name, summary: await planStack(name, workDir, local.runner) });
      }
    }
    io.out(renderPlanMarkdown(env, planned));
    return 0;
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof TerraformError)) throw error;
    // What was planned before the failure is still worth reading; the failure goes to stderr.
    if (planned.length > 0) io.out(renderPlanMarkdown(env, planned));
    io.err(`plan: ${error.message}`);
    const skipped = STACKS.map((stack) => `${env}-${stack}`).slice(planned.length + 1);
    if (error instanceof TerraformError && skipped.length > 0) io.err(`plan: not planned: ${skipped.join(', ')}`);
    if (error instanceof UsageError && error.showUsage) io.err(USAGE);
    return 1;
  }
}

/** init, plan and show one stack; the plan file stays in the stack folder (cdktf.out, not committed). */
async function planStack(stack: string, dir: string, runner?: TerraformRunner): Promise<PlanSummary> {
  await init(stack, dir, [], runner);
  const plan = await terraform(dir, ['plan', '-input=false', '-no-color', '-lock-timeout=5m', `-out=${PLAN_FILE}`], runner);
  if (plan.code !== 0) throw new TerraformError(stack, 'plan', plan);
  const show = await terraform(dir, ['show', '-json', '-no-color', PLAN_FILE], runner);
  if (show.code !== 0) throw new TerraformError(stack, 'show', show);
  try {
    return summarizePlan(JSON.parse(show.stdout));
  } catch (error) {
    if (!(error instanceof SyntaxError || error instanceof PlanFormatError)) throw error;
    throw new UsageError(`${stack}: terraform show -json printed no JSON plan this script understands: ${error.message}`);
  }
}

if (typeof require !== 'undefined' && require.main === module) runScript('plan', main);
