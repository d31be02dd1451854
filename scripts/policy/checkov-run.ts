/**
 * Runs checkov, the independent scanner, once over a scratch copy of what validate checks: the stacks'
 * cdk.tf.json (terraform_json), k8s/rendered/<env>/ (kubernetes) and .github/workflows/ (github_actions), and
 * judges its report against scripts/policy/checkov-skips.yaml (checkov-report.ts).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { RENDERED_ROOT } from '../../environments/naming';
import type { EnvironmentName } from '../../environments/schema';
import { runCommand, tail } from '../run-command';
import { judge, parseCheckovOutput, ScannerError, parseSkips, SCANNER_FRAMEWORKS, terraformResourceResolver, type ScannerVerdict } from './checkov-report';
import type { SynthesizedOutput } from './rule';

/** The reviewed skip file, relative to the project root. */
export const SKIPS_FILE = 'scripts/policy/checkov-skips.yaml';
const WORKFLOWS = '.github/workflows';

/** Runs `checkov` over the output of `environments` and judges the result. */
export async function runScanner(options: {
  readonly root: string;
  readonly checkov: string;
  readonly output: SynthesizedOutput;
  readonly environments: readonly EnvironmentName[];
  /** Every environment is scanned, so a skip that excuses nothing is stale. */
  readonly everyEnvironment: boolean;
}): Promise<{ verdict: ScannerVerdict; version: string }> {
  const { root, checkov, output } = options;
  const scratch = mkdtempSync(join(tmpdir(), 'driftless-checkov-'));
  // checkov's parsers leave cache files in the temporary folder (lark's grammar cache): give it one that goes with it.
  const checkovTmp = mkdtempSync(join(tmpdir(), 'driftless-checkov-tmp-'));
  const env = { ...process.env, LOG_LEVEL: 'ERROR', TMPDIR: checkovTmp, TMP: checkovTmp, TEMP: checkovTmp };
  try {
    const stacks = new Map<string, Record<string, unknown>>();
    for (const stack of output.stacks) {
      const json = stack.json as Record<string, unknown>;
      stacks.set(stack.file, json);
      mkdirSync(join(scratch, dirname(stack.file)), { recursive: true });
      writeFileSync(join(scratch, stack.file), JSON.stringify(scannable(json), null, 2));
    }
    for (const env of options.environments) cpSync(join(root, RENDERED_ROOT, env), join(scratch, RENDERED_ROOT, env), { recursive: true });
    if (existsSync(join(root, WORKFLOWS))) cpSync(join(root, WORKFLOWS), join(scratch, WORKFLOWS), { recursive: true });

    const version = (await runCommand(checkov, ['--version'], { cwd: scratch, env })).stdout.trim();
    // checkov reads its own config and a .checkov.yaml in the folder it runs in: there is none in the scratch copy.
    const args = ['--directory', '.', '--framework', ...SCANNER_FRAMEWORKS, '--output', 'json', '--quiet', '--compact', '--skip-download'];
    const result = await runCommand(checkov, args, { cwd: scratch, env });
    // 0: nothing failed, 1: something failed; anything else (or no start) is checkov itself failing.
    if (result.startError !== undefined || (result.code !== 0 && result.code !== 1)) {
      throw new ScannerError(`checkov exited ${result.code ?? result.startError?.code ?? 'by a signal'}: ${tail(result.stderr || result.stdout).split('\n').join(' | ')}`);
    }
    const results = parseCheckovOutput(result.stdout, terraformResourceResolver((file) => stacks.get(file)));
    const skips = parseSkips(readFileSync(join(root, SKIPS_FILE), 'utf8'), SKIPS_FILE);
    return { verdict: judge(results, skips, options.everyEnvironment), version };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    rmSync(checkovTmp, { recursive: true, force: true });
  }
}

/**
 * The stack as checkov 3.3's Terraform JSON parser can read it: that parser takes every entry of the `terraform`
 * block for a nested block and stops at `required_version`, a string ("this method receives only dicts"), so the
 * whole file would go unscanned. The block's plain settings are dropped from the copy; no check reads them.
 */
export function scannable(json: Record<string, unknown>): Record<string, unknown> {
  const terraform = json['terraform'];
  if (terraform === null || typeof terraform !== 'object') return json;
  const blocks = Object.entries(terraform as Record<string, unknown>).filter(([, value]) => value !== null && typeof value === 'object' && !Array.isArray(value));
  return { ...json, terraform: Object.fromEntries(blocks) };
}
