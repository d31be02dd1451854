/**
 * Command-line options and entry points of the npm scripts: `node:util` parseArgs in strict mode, with
 * its errors turned into one line that names the option, the value given and the rule.
 */
import { parseArgs } from 'node:util';
import { environmentNames } from '../environments/load';
import type { EnvironmentName } from '../environments/schema';

/** The user's mistake (an option, a ref, a missing tool): reported as one line, exit code 1. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** Print the usage after the message: the command line itself is wrong. */
    readonly showUsage = false,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** One option: a string that needs a value, or a flag; `meaning` completes "needs a value (…)". */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly meaning: string;
}

type Values = Record<string, string | boolean | undefined>;

/** Parses `args` strictly against `spec`; throws a UsageError with one readable line on any mistake. */
export function parseCommandLine(args: readonly string[], spec: Readonly<Record<string, OptionSpec>>): Values {
  return parseStrictly(args, spec, false).values;
}

/** Like parseCommandLine, for a command that also takes arguments of its own (`new <kind> <name> --from <existing>`). */
export function parseCommandLineWithArguments(args: readonly string[], spec: Readonly<Record<string, OptionSpec>>): { values: Values; positionals: string[] } {
  return parseStrictly(args, spec, true);
}

function parseStrictly(args: readonly string[], spec: Readonly<Record<string, OptionSpec>>, allowPositionals: boolean): { values: Values; positionals: string[] } {
  const options = Object.fromEntries(Object.entries(spec).map(([name, { type }]) => [name, { type }]));
  try {
    const { values, positionals } = parseArgs({ args: [...args], options, strict: true, allowPositionals });
    return { values: values as Values, positionals };
  } catch (error) {
    throw new UsageError(argumentProblem(error as Error & { code?: string }, args, spec), true);
  }
}

/** The value of a required string option, or a UsageError saying what it is for. */
export function requiredOption(values: Values, name: string, spec: Readonly<Record<string, OptionSpec>>): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') {
    throw new UsageError(`option '--${name}' is required: ${spec[name]?.meaning ?? 'a value'}, got nothing`, true);
  }
  return value;
}

/** The `--env` option of plan and drift. */
export const ENV_OPTION: OptionSpec = { type: 'string', meaning: 'the environment, the name of a file in environments/' };

/** `--env`, which must name one environment (a file in environments/). */
export function environmentOption(values: Values): EnvironmentName {
  const value = requiredOption(values, 'env', { env: ENV_OPTION });
  const known = environmentNames();
  if (!known.includes(value)) throw new UsageError(`option '--env' ${mustBeOneOf(known)}, got '${value}'`, true);
  return value;
}

const mustBeOneOf = (known: readonly string[]) =>
  known.length === 0 ? 'must name an environment, and environments/ declares none' : `must be one of ${known.join(', ')} (the files in environments/)`;

function argumentProblem(error: Error & { code?: string }, args: readonly string[], spec: Readonly<Record<string, OptionSpec>>): string {
  const known = Object.keys(spec).map((name) => `--${name}`).join(', ');
  const quoted = /'([^' ]+)/.exec(error.message)?.[1] ?? '';
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `option '${quoted}' is not known: the options are ${known}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument '${quoted}': every value follows its option (the options are ${known})`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const name = quoted.replace(/^--/, '').replace(/=.*$/, '');
      const option = spec[name];
      if (option?.type === 'boolean') {
        const given = args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3) ?? '';
        return `option '--${name}' is a flag and takes no value, got '${given}'`;
      }
      // parseArgs refuses a value that starts with a dash ("ambiguous"): that is the next option, not a value.
      const next = args[args.indexOf(`--${name}`) + 1];
      return `option '--${name}' needs a value (${option?.meaning ?? 'a value'}), got ${next === undefined ? 'nothing' : `'${next}'`}`;
    }
    default:
      return error.message;
  }
}

/**
 * The environments chosen with repeated `--env` options (all of them when none is given), by name; for synth
 * and validate, which take several.
 * @throws UsageError naming the unknown option or environment, followed by `usage`.
 */
export function selectedEnvironments(args: readonly string[], usage: string): EnvironmentName[] {
  let env: string[] | undefined;
  try {
    ({ values: { env } } = parseArgs({ args: [...args], options: { env: { type: 'string', multiple: true } }, strict: true }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${usage}`);
  }
  const known = environmentNames();
  const unknown = (env ?? []).filter((name) => !known.includes(name));
  if (unknown.length > 0) throw new UsageError(`option '--env' ${mustBeOneOf(known)}, got '${unknown.join("', '")}'\n${usage}`);
  return env === undefined ? known : known.filter((name) => env.includes(name));
}

/** Where a script writes: its report (stdout) and its messages (stderr, one line each). */
export interface ScriptOutput {
  readonly out: (text: string) => void;
  readonly err: (line: string) => void;
}

/**
 * Runs a script's `main` with the process's arguments and streams and sets the exit code it returns. An
 * exception is a bug, not the user's mistake, so its stack is shown (exit 1).
 */
export function runScript(name: string, main: (args: string[], io: ScriptOutput) => Promise<number>): void {
  main(process.argv.slice(2), { out: (text) => process.stdout.write(text), err: (line) => process.stderr.write(`${line}\n`) }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${name}: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
