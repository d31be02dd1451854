import type { core, ZodType } from 'zod';
import { CROSS_FIELD_RULES, type CrossFieldRule } from './rules';
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
  const located: Locate = (field, value, rule) => ({ subject, file, field, value, rule });

  const parsed = Environment.safeParse(input);
  const fieldLevel = parsed.success ? [] : describeIssues(Environment, parsed.error.issues, input, located);
  const badFields = fieldLevel.map((p) => p.field);

  const problems = [...fieldLevel];
  const name = valueAt(input, 'name');
  if (!badFields.some((bad) => overlaps('name', bad)) && name !== expectedName) {
    problems.push(located('name', name, `must be '${expectedName}', the name of its file`));
  }
  problems.push(...crossFieldProblems(CROSS_FIELD_RULES, input as Environment, badFields, located));
  return problems.length === 0 && parsed.success
    ? { ok: true, environment: parsed.data }
    : { ok: false, problems };
}

/**
 * Runs the cross-field rules whose every field passed its own check (reading those as typed is then safe),
 * so that one bad value gives one precise message instead of a cascade.
 */
export function crossFieldProblems<T>(rules: readonly CrossFieldRule<T>[], input: T, badFields: readonly string[], located: Locate): Problem[] {
  return rules
    .filter((rule) => !rule.reads.some((read) => badFields.some((bad) => overlaps(read, bad))))
    .flatMap((rule) => rule.check(input).map((v) => located(v.field, v.value, v.rule)));
}

/** Builds a Problem for a field of the file being validated. */
export type Locate = (field: string, value: unknown, rule: string) => Problem;

/** Turns zod's issues into Problems that name the field, the value as written and the rule. */
export function describeIssues(schema: ZodType, issues: readonly core.$ZodIssue[], input: unknown, located: Locate): Problem[] {
  return issues.flatMap((issue) => describeIssue(schema, issue, input, located));
}

function describeIssue(schema: ZodType, issue: core.$ZodIssue, input: unknown, located: Locate): Problem[] {
  const field = issue.path.join('.');
  const value = valueAt(input, field);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) =>
        located(field === '' ? key : `${field}.${key}`, valueAt(value, key), `is not a known field${knownKeys(schema, issue.path)}`),
      );
    case 'invalid_type':
      if (value === undefined) return [located(field, value, 'is required')];
      if (typeof value === 'number' && !Number.isFinite(value)) return [located(field, value, 'must be a finite number')];
      if (issue.expected === 'int') return [located(field, value, 'must be a whole number')];
      return [located(field, value, `must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`)];
    case 'invalid_value':
      return [located(field, value, `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`)];
    case 'invalid_union':
      return [located(field, value, issue.message)];
    case 'invalid_key':
      // A record's key is what is wrong, not the value under it.
      return [located(field, issue.path.at(-1), issue.issues[0]?.message ?? issue.message)];
    default:
      return [located(field, value, issue.message)];
  }
}

function knownKeys(schema: ZodType, path: readonly PropertyKey[]): string {
  let shape: unknown = schema;
  for (const key of path) {
    const def = (shape as { def?: { shape?: Record<string, unknown>; element?: unknown } }).def;
    shape = typeof key === 'number' ? def?.element : def?.shape?.[String(key)];
  }
  const keys = Object.keys((shape as { def?: { shape?: object } } | undefined)?.def?.shape ?? {});
  return keys.length === 0 ? '' : ` (known: ${keys.join(', ')})`;
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
export function overlaps(a: string, b: string): boolean {
  return b === '' || a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
}
