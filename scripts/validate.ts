/**
 * `npm run validate [-- --env <name>] [--scanner auto|required|off]`: runs the policy gate (scripts/policy) over what
 * `npm run synth` wrote, cdktf.out/stacks/<env>-<stack>/cdk.tf.json and k8s/rendered/<env>/**. Prints the findings per
 * environment, errors first, every suppressed finding with its reason, and a line `N errors, N warnings, N suppressed`.
 * Before it, the independent scanner, checkov, over the same output and .github/workflows/, judged against
 * scripts/policy/checkov-skips.yaml, with a line `scanner: N passed, N failed, N skipped, …`. `--scanner auto` (the
 * default) runs it when the pinned checkov is installed in the toolchain cache and says so when it is not; `required`
 * (CI) fails without it; `off` leaves it out.
 * Exits 1 on any error that no suppression or skip excuses, on invalid environments and on missing output.
 */
import { join } from 'node:path';
import { loadEnvironments } from '../environments/load';
import { selectedEnvironments, UsageError } from './command-line';
import { ConfigError } from '../environments/problem';
import { formatScannerReport, ScannerError, scannerFails } from './policy/checkov-report';
import { runScanner } from './policy/checkov-run';
import { evaluate } from './policy/engine';
import { fails, formatReport } from './policy/report';
import { RULES } from './policy/rules';
import { MissingOutputError, readSynthesizedOutput } from './policy/synthesized-output';
import { cacheDir, installedScanner } from './toolchain/toolchain';

const ROOT = join(__dirname, '..');
const USAGE = 'usage: npm run validate [-- --env <name>]... [--scanner auto|required|off] (an environment: a file in environments/)';
const SCANNER_MODES = ['auto', 'required', 'off'] as const;
type ScannerMode = (typeof SCANNER_MODES)[number];

/** `--scanner <mode>` (or `--scanner=<mode>`) taken out of the arguments; the rest are the environments' options. */
function scannerOption(args: readonly string[]): { mode: ScannerMode; rest: string[] } {
  const rest: string[] = [];
  let given: string | undefined;
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]!;
    if (arg === '--scanner') given = args[++index] ?? '';
    else if (arg.startsWith('--scanner=')) given = arg.slice('--scanner='.length);
    else rest.push(arg);
  }
  if (given === undefined) return { mode: 'auto', rest };
  if (!(SCANNER_MODES as readonly string[]).includes(given)) {
    throw new UsageError(`option '--scanner' must be one of ${SCANNER_MODES.join(', ')}, got '${given}'\n${USAGE}`);
  }
  return { mode: given as ScannerMode, rest };
}

async function main(): Promise<void> {
  const { mode, rest } = scannerOption(process.argv.slice(2));
  const selected = selectedEnvironments(rest, USAGE);
  // Rules read the environments' values (retainData, replication, endpoint privacy): they must be valid first.
  const loaded = await loadEnvironments();
  const environments = loaded.filter((env) => selected.includes(env.name));
  const output = readSynthesizedOutput(ROOT, environments.map((env) => env.name));
  const evaluation = evaluate(RULES, output, environments);
  let failed = fails(evaluation);

  // The scanner's part first: the gate's count line stays the last line, which tools read.
  if (mode !== 'off') {
    const checkov = installedScanner(ROOT);
    if (checkov === undefined) {
      const missing = `the independent scanner (checkov, pinned in scripts/toolchain/checkov-requirements.txt) is not installed in ${cacheDir(ROOT)}: run 'npm run toolchain'`;
      if (mode === 'required') throw new UsageError(missing);
      process.stdout.write(`${missing} to run it too\n\n`);
    } else {
      const { verdict, version } = await runScanner({
        root: ROOT,
        checkov,
        output,
        environments: environments.map((env) => env.name),
        everyEnvironment: environments.length === loaded.length,
      });
      process.stdout.write(`${formatScannerReport(verdict, version)}\n`);
      failed ||= scannerFails(verdict);
    }
  }
  process.stdout.write(formatReport(evaluation));
  process.exitCode = failed ? 1 : 0;
}

main().catch((error: unknown) => {
  const known = error instanceof ConfigError || error instanceof MissingOutputError || error instanceof UsageError || error instanceof ScannerError;
  console.error(`validate: ${known ? (error as Error).message : (error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
});
