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
