/**
 * `npm run validate [-- --env <name>]`: runs the policy gate (scripts/policy) over what `npm run synth` wrote,
 * cdktf.out/stacks/<env>-<stack>/cdk.tf.json and k8s/rendered/<env>/**. Prints the findings per environment,
 * errors first, every suppressed finding with its reason, and a last line `N errors, N warnings, N suppressed`.
 * Exits 1 on any error that no suppression excuses, on invalid environments and on missing output.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadEnvironments } from '../environments/load';
import { ConfigError } from '../environments/problem';
import { ENVIRONMENT_NAMES } from '../environments/schema';
import { evaluate } from './policy/engine';
import { fails, formatReport } from './policy/report';
import { RULES } from './policy/rules';
import { MissingOutputError, readSynthesizedOutput } from './policy/synthesized-output';

const ROOT = join(__dirname, '..');
const USAGE = `usage: npm run validate [-- --env <${ENVIRONMENT_NAMES.join('|')}>]...`;

class UsageError extends Error {}

function parseOptions(args: string[]): string[] {
  let env: string[] | undefined;
  try {
    ({ values: { env } } = parseArgs({ args, options: { env: { type: 'string', multiple: true } }, strict: true }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  const unknown = (env ?? []).filter((name) => !(ENVIRONMENT_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0) throw new UsageError(`option '--env' must be one of ${ENVIRONMENT_NAMES.join(', ')}, got '${unknown.join("', '")}'\n${USAGE}`);
  return env === undefined ? [...ENVIRONMENT_NAMES] : ENVIRONMENT_NAMES.filter((name) => env.includes(name));
}

function main(): void {
  const selected = parseOptions(process.argv.slice(2));
  // Rules read the environments' values (retainData, replication, endpoint privacy): they must be valid first.
  const environments = loadEnvironments().filter((env) => selected.includes(env.name));
  const output = readSynthesizedOutput(ROOT, environments.map((env) => env.name));
  const evaluation = evaluate(RULES, output, environments);
  process.stdout.write(formatReport(evaluation));
  process.exitCode = fails(evaluation) ? 1 : 0;
}

try {
  main();
} catch (error) {
  const known = error instanceof ConfigError || error instanceof MissingOutputError || error instanceof UsageError;
  console.error(`validate: ${known ? (error as Error).message : (error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
}
