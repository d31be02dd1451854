/**
 * Runs the terraform binary for the plan and drift scripts: `TERRAFORM_BINARY` or `terraform` on PATH,
 * always with `-chdir=<stack folder>`, non-interactive, and with failures that name the stack and step.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { UsageError } from './command-line';
import { runCommand, tail, type CommandResult } from './run-command';

/**
 * The binary to run: `TERRAFORM_BINARY` when set, else `terraform` from PATH. A relative path is taken from
 * the current folder, since terraform itself runs in each stack's folder.
 */
export function terraformBinary(env: NodeJS.ProcessEnv = process.env): string {
  const binary = env.TERRAFORM_BINARY || 'terraform';
  return binary.includes('/') ? resolve(binary) : binary;
}

/**
 * Checks that the binary can be run before anything slow happens (a synth, a copy), and says how to get
 * one if not. A name without a slash is looked up on PATH, as the shell would.
 */
export function requireTerraform(env: NodeJS.ProcessEnv = process.env): void {
  const binary = terraformBinary(env);
  const candidates = binary.includes('/') ? [binary] : (env.PATH ?? '').split(delimiter).filter(isAbsolute).map((dir) => join(dir, binary));
  const runnable = candidates.some((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (!runnable) throw new UsageError(notFound(binary));
}

const notFound = (binary: string) => `terraform was not found (looked for '${binary}'): install Terraform >= 1.10, or set TERRAFORM_BINARY to its path`;

/** A terraform command that failed; says which stack and step, with the end of what terraform printed. */
export class TerraformError extends Error {
  override name = 'TerraformError';
  constructor(
    /** The stack, `<env>-<stack>`. */
    readonly stackId: string,
    readonly step: string,
    readonly result: CommandResult,
  ) {
    super(`${stackId}: terraform ${step} failed (exit ${result.code ?? 'by signal'}):\n${tail(result.stderr.trim() || result.stdout, 20)}`);
  }
}

/**
 * Which binary runs, with which variables: by default `TERRAFORM_BINARY` (or terraform on PATH) with the caller's
 * variables; the local emulator passes the toolchain's OpenTofu with the emulator's endpoint and credentials.
 */
export interface TerraformRunner {
  readonly binary: string;
  readonly env: NodeJS.ProcessEnv;
}

const defaultRunner = (): TerraformRunner => ({ binary: terraformBinary(), env: process.env });

/** Runs `terraform -chdir=<dir> <args>`; a binary that cannot be started is a UsageError. */
export async function terraform(dir: string, args: readonly string[], runner: TerraformRunner = defaultRunner()): Promise<CommandResult> {
  const binary = runner.binary;
  const result = await runCommand(binary, [`-chdir=${dir}`, ...args], {
    cwd: dir,
    // TF_IN_AUTOMATION drops the "run terraform apply next" hints; CHECKPOINT_DISABLE the version check call.
    env: { ...runner.env, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' },
  });
  if (result.startError !== undefined) {
    throw new UsageError(
      result.startError.code === 'ENOENT'
        ? notFound(binary)
        : `terraform ('${binary}') could not be started: ${result.startError.message}`,
    );
  }
  return result;
}

/** `terraform init` of a stack folder; throws TerraformError on failure. */
export async function init(stack: string, dir: string, extraArgs: readonly string[] = [], runner?: TerraformRunner): Promise<void> {
  const result = await terraform(dir, ['init', '-input=false', '-no-color', ...extraArgs], runner);
  if (result.code !== 0) throw new TerraformError(stack, 'init', result);
}

/** The lines of a human-readable plan that say what changes: one per resource, and the totals. */
export function planSummaryLines(output: string, max = 40): string[] {
  const lines = output
    .split('\n')
    .map((line) => line.trimEnd())
    .filter(
      (line) =>
        /^\s*# (?!\().+ (will be|must be|has been|has changed|has moved|is tainted|will no longer)/.test(line) ||
        /^(Plan:|Changes to Outputs:|No changes\.|Note: Objects have changed outside of Terraform|Terraform detected the following changes made outside)/.test(line.trim()),
    )
    .map((line) => line.trim());
  return lines.length > max ? [...lines.slice(0, max), `… ${lines.length - max} more`] : lines;
}
