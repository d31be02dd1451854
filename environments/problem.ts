/** One thing wrong with a configuration file: where, which field, what value, which rule. */
export interface Problem {
  /** What was being validated, e.g. `environment 'prod'`. */
  readonly subject: string;
  /** The file to fix, relative to the repository root. */
  readonly file: string;
  /** Where in the file, when known (a file that fails to load). */
  readonly line?: number;
  readonly column?: number;
  /** Dotted path of the field, e.g. `kafka.brokers`; empty for the file as a whole. */
  readonly field: string;
  /** The offending value as written. */
  readonly value: unknown;
  /** The rule that the value breaks, phrased so that it says how to fix it. */
  readonly rule: string;
  /** What a file threw while loading: never shown, except its stack with DRIFTLESS_DEBUG=1. */
  readonly cause?: unknown;
}

/** Renders a problem as one line: `<file>[:line:column]: <subject>: '<field>' <rule>, got <value>`. */
export function formatProblem(problem: Problem): string {
  const field = problem.field === '' ? '' : `'${problem.field}' `;
  const place = problem.line === undefined ? '' : `:${problem.line}${problem.column === undefined ? '' : `:${problem.column}`}`;
  return `${problem.file}${place}: ${problem.subject}: ${field}${problem.rule}, got ${formatValue(problem.value)}`;
}

/** A value as the user wrote it, on one line: JSON where JSON can say it (it cannot say NaN or Infinity). */
export function formatValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return String(value);
  let json: string;
  try {
    json = JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'number' && !Number.isFinite(inner) ? String(inner) : typeof inner === 'bigint' ? `${inner}n` : inner)) ?? String(value);
  } catch {
    json = String(value); // a cycle
  }
  json = json.replace(/\s+/g, ' ');
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
    const environment = /^environments\/([a-z0-9-]+)\.ts$/.exec(file)?.[1];
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
