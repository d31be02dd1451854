/**
 * `npm run validate [-- --env <name>]`: runs the policy gate (scripts/policy) over what `npm run synth` wrote,
 * cdktf.out/stacks/<env>-<stack>/cdk.tf.json and k8s/rendered/<env>/**. Prints the findings per environment,
 * errors first, every suppressed finding with its reason, and a last line `N errors, N warnings, N suppressed`.
 * Exits 1 on any error that no suppression excuses, on invalid environments and on missing output.
 */
import { join } from 'node:path';
import { loadEnvironments } from '../environments/load';
import { selectedEnvironments, UsageError } from './command-line';
import { ConfigError } from '../environments/problem';
import { evaluate } from './policy/engine';
import { fails, formatReport } from './policy/report';
import { RULES } from './policy/rules';
import { MissingOutputError, readSynthesizedOutput } from './policy/synthesized-output';

const ROOT = join(__dirname, '..');
const USAGE = 'usage: npm run validate [-- --env <name>]... (an environment: a file in environments/)';


async function main(): Promise<void> {
  const selected = selectedEnvironments(process.argv.slice(2), USAGE);
  // Rules read the environments' values (retainData, replication, endpoint privacy): they must be valid first.
  const environments = (await loadEnvironments()).filter((env) => selected.includes(env.name));
  const output = readSynthesizedOutput(ROOT, environments.map((env) => env.name));
  const evaluation = evaluate(RULES, output, environments);
  process.stdout.write(formatReport(evaluation));
  process.exitCode = fails(evaluation) ? 1 : 0;
}

main().catch((error: unknown) => {
  const known = error instanceof ConfigError || error instanceof MissingOutputError || error instanceof UsageError;
  console.error(`validate: ${known ? (error as Error).message : (error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
});
