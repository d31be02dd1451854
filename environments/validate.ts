import type { core } from 'zod';
import { CROSS_FIELD_RULES } from './rules';
import { Environment } from './schema';
import type { Problem } from './problem';

/** The outcome of validating one environment file: the environment, or every problem in it. */
export type ValidationResult =
  | { readonly ok: true; readonly environment: Environment }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/**
 * Validates what `environments/<expectedName>.ts` declares: field shapes first, then the
 * cross-field rules whose fields are individually valid, so that all problems come back at once.
 */
export function validateEnvironment(input: unknown, expectedName: string, file: string): ValidationResult {
  const subject = `environment '${expectedName}'`;
  const located = (field: string, value: unknown, rule: string): Problem => ({ subject, file, field, value, rule });

  const parsed = Environment.safeParse(input);
  const fieldProblems = parsed.success ? [] : parsed.error.issues.flatMap((issue) => describeIssue(issue, input, located));
  const badFields = fieldProblems.map((p) => p.field);

  const problems = [...fieldProblems];
  const name = valueAt(input, 'name');
  if (!badFields.some((bad) => overlaps('name', bad)) && name !== expectedName) {
    problems.push(located('name', name, `must be '${expectedName}', the name of its file`));
  }
  for (const rule of CROSS_FIELD_RULES) {
    if (rule.reads.some((read) => badFields.some((bad) => overlaps(read, bad)))) continue;
    // Every field this rule reads passed its own check, so reading them as typed is safe.
    for (const v of rule.check(input as Environment)) problems.push(located(v.field, v.value, v.rule));
  }
  return problems.length === 0 && parsed.success
    ? { ok: true, environment: parsed.data }
    : { ok: false, problems };
}

function describeIssue(
  issue: core.$ZodIssue,
  input: unknown,
  located: (field: string, value: unknown, rule: string) => Problem,
): Problem[] {
  const field = issue.path.join('.');
  const value = valueAt(input, field);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) =>
        located(field === '' ? key : `${field}.${key}`, valueAt(value, key), `is not a known field (known: ${knownKeys(issue.path)})`),
      );
    case 'invalid_type':
      if (value === undefined) return [located(field, value, 'is required')];
      if (issue.expected === 'int') return [located(field, value, 'must be a whole number')];
      return [located(field, value, `must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`)];
    case 'invalid_value':
      return [located(field, value, `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`)];
    default:
      return [located(field, value, issue.message)];
  }
}

function knownKeys(path: readonly PropertyKey[]): string {
  let shape: unknown = Environment;
  for (const key of path) {
    const def = (shape as { def?: { shape?: Record<string, unknown>; element?: unknown } }).def;
    shape = typeof key === 'number' ? def?.element : def?.shape?.[String(key)];
  }
  const keys = Object.keys((shape as { def?: { shape?: object } } | undefined)?.def?.shape ?? {});
  return keys.join(', ');
}

/** Reads a dotted path from plain data; undefined when any step is missing. */
export function valueAt(data: unknown, path: string): unknown {
  if (path === '') return data;
  return path.split('.').reduce<unknown>(
    (node, key) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined),
    data,
  );
}

/** Whether one field path contains the other (a bad `kafka` makes every `kafka.*` read unsafe). */
function overlaps(a: string, b: string): boolean {
  return b === '' || a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
}
