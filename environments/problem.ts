/** One thing wrong with a configuration file: where, which field, what value, which rule. */
export interface Problem {
  /** What was being validated, e.g. `environment 'prod'`. */
  readonly subject: string;
  /** The file to fix, relative to the repository root. */
  readonly file: string;
  /** Dotted path of the field, e.g. `kafka.brokers`; empty for the file as a whole. */
  readonly field: string;
  /** The offending value as written. */
  readonly value: unknown;
  /** The rule that the value breaks, phrased so that it says how to fix it. */
  readonly rule: string;
}

/** Renders a problem as one line: `<file>: <subject>: '<field>' <rule>, got <value>`. */
export function formatProblem(problem: Problem): string {
  const field = problem.field === '' ? '' : `'${problem.field}' `;
  return `${problem.file}: ${problem.subject}: ${field}${problem.rule}, got ${formatValue(problem.value)}`;
}

function formatValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

/** Thrown when configuration is invalid; carries every problem found, not just the first. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly Problem[]) {
    super(
      `${problems.length} configuration problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${formatProblem(p)}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/**
 * The Problems in a TypeScript transform failure (esbuild's "path:line:column: ERROR: message" lines), so that
 * a syntax error in an environment or pipeline file reads like any other configuration problem, with the
 * file relative to `root` and the offending line, and no stack trace or path of this machine.
 * @returns undefined when `error` is not a transform failure.
 */
export function syntaxProblems(error: unknown, root: string, readLine: (file: string, line: number) => string | undefined): Problem[] | undefined {
  const message = error instanceof Error ? error.message : '';
  if (!message.startsWith('Transform failed')) return undefined;
  const prefix = root.endsWith('/') ? root : `${root}/`;
  return [...message.matchAll(/^(.+?):(\d+):(\d+): ERROR: (.+)$/gm)].map(([, path, line, column, text]) => {
    const file = path!.startsWith(prefix) ? path!.slice(prefix.length) : path!;
    const environment = /^environments\/([a-z]+)\.ts$/.exec(file)?.[1];
    const pipeline = /^pipelines\/([^/]+)\/pipeline\.ts$/.exec(file)?.[1];
    return {
      subject: environment ? `environment '${environment}'` : pipeline ? `pipeline '${pipeline}'` : 'TypeScript',
      file,
      field: '',
      value: readLine(file, Number(line))?.trim(),
      rule: `must be valid TypeScript: line ${line}, column ${column}: ${text}`,
    };
  });
}
