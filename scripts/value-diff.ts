/**
 * Differences between two JSON-like values: the paths of what changed (`spec.x[0].y`), and a compact
 * line diff of two texts (only the changed lines, with a little context).
 */

/** A path into a value: object keys and array indices, from the root. */
export type Path = ReadonlyArray<string | number>;

type Plain = Record<string, unknown>;
const isPlain = (value: unknown): value is Plain => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The paths at which `before` and `after` differ, sorted. Objects are compared key by key and arrays of the
 * same length element by element; an array whose length changed is reported as a whole, since an insertion
 * would otherwise show up as a change to every element after it.
 */
export function changedPaths(before: unknown, after: unknown, at: Path = []): Path[] {
  if (isPlain(before) && isPlain(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => changedPaths(before[key], after[key], [...at, key]));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((item, index) => changedPaths(item, after[index], [...at, index]));
  }
  return sameValue(before, after) ? [] : [at];
}

/** Deep equality of JSON-like values. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, index) => sameValue(item, b[index]));
  if (isPlain(a) && isPlain(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => key in b && sameValue(a[key], b[key]));
  }
  return false;
}

/** The value at `path` in `value`, or undefined. */
export function valueAt(value: unknown, path: Path): unknown {
  let current = value;
  for (const step of path) {
    if (typeof step === 'number' ? !Array.isArray(current) : !isPlain(current)) return undefined;
    current = (current as Record<string | number, unknown>)[step];
  }
  return current;
}

/** Separates the path of a JSON-encoded string from the path inside it: `policy › Statement[0].Resource`. */
export const INSIDE_JSON = ' › ';

/**
 * `paths` (from changedPaths) as report labels. A string that holds a JSON object or array on both sides
 * (an IAM policy, a job spec passed as an argument) is compared inside, so a reader sees which part of it changed.
 */
export function pathLabels(before: unknown, after: unknown, paths: readonly Path[]): string[] {
  return paths.flatMap((path) => {
    const inner = [valueAt(before, path), valueAt(after, path)].map(parsedJson);
    if (inner[0] === undefined || inner[1] === undefined) return [formatPath(path)];
    const innerPaths = changedPaths(inner[0], inner[1]);
    return innerPaths.length === 0 ? [formatPath(path)] : innerPaths.map((innerPath) => `${formatPath(path)}${INSIDE_JSON}${formatPath(innerPath)}`);
  });
}

function parsedJson(value: unknown): unknown {
  if (typeof value !== 'string' || !/^\s*[[{]/.test(value)) return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

/** `spec.kafka.config["log.retention.hours"]`, `rule[0].filter`: keys that are not plain names are quoted. */
export function formatPath(path: Path): string {
  let text = '';
  for (const step of path) {
    if (typeof step === 'number') text += `[${step}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(step)) text += text === '' ? step : `.${step}`;
    else text += `[${JSON.stringify(step)}]`;
  }
  return text;
}

/**
 * A unified diff of two texts by lines, without file headers: hunks of changed lines (`-`, `+`) with
 * `context` unchanged lines (` `) around them, each hunk opened by `@@ -a,b +c,d @@`.
 */
export function lineDiff(before: string, after: string, context = 2): string[] {
  const a = before.split('\n');
  const b = after.split('\n');
  const ops = diffOps(a, b);
  const changed = ops.map((op, index) => (op.kind === ' ' ? -1 : index)).filter((index) => index >= 0);
  if (changed.length === 0) return [];
  // Group changed operations whose context windows touch into hunks.
  const hunks: Array<[number, number]> = [];
  for (const index of changed) {
    const start = Math.max(0, index - context);
    const end = Math.min(ops.length - 1, index + context);
    const last = hunks[hunks.length - 1];
    if (last !== undefined && start <= last[1] + 1) last[1] = end;
    else hunks.push([start, end]);
  }
  const out: string[] = [];
  for (const [start, end] of hunks) {
    const slice = ops.slice(start, end + 1);
    const first = ops[start];
    const oldStart = (first?.oldLine ?? 0) + 1;
    const newStart = (first?.newLine ?? 0) + 1;
    const oldCount = slice.filter((op) => op.kind !== '+').length;
    const newCount = slice.filter((op) => op.kind !== '-').length;
    out.push(`@@ -${oldStart},${oldCount} +${newStart},${newCount} @@`);
    for (const op of slice) out.push(`${op.kind}${op.text}`);
  }
  return out;
}

interface Op {
  readonly kind: ' ' | '-' | '+';
  readonly text: string;
  /** Index of the line in `before` (for ' ' and '-') or of the next one (for '+'). */
  readonly oldLine: number;
  /** Index of the line in `after` (for ' ' and '+') or of the next one (for '-'). */
  readonly newLine: number;
}

/** Line operations turning `a` into `b`: common prefix and suffix, and a longest common subsequence between. */
function diffOps(a: readonly string[], b: readonly string[]): Op[] {
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (suffix < a.length - prefix && suffix < b.length - prefix && a[a.length - 1 - suffix] === b[b.length - 1 - suffix]) suffix++;
  const midA = a.slice(prefix, a.length - suffix);
  const midB = b.slice(prefix, b.length - suffix);
  const ops: Op[] = [];
  for (let i = 0; i < prefix; i++) ops.push({ kind: ' ', text: a[i] ?? '', oldLine: i, newLine: i });
  ops.push(...middleOps(midA, midB, prefix));
  for (let i = suffix; i > 0; i--) {
    ops.push({ kind: ' ', text: a[a.length - i] ?? '', oldLine: a.length - i, newLine: b.length - i });
  }
  return ops;
}

const LCS_LIMIT = 4_000_000;

function middleOps(a: readonly string[], b: readonly string[], offset: number): Op[] {
  const ops: Op[] = [];
  if (a.length * b.length > LCS_LIMIT) {
    // Too large for the quadratic table: everything between the common ends is shown as replaced.
    a.forEach((text, i) => ops.push({ kind: '-', text, oldLine: offset + i, newLine: offset }));
    b.forEach((text, j) => ops.push({ kind: '+', text, oldLine: offset + a.length, newLine: offset + j }));
    return ops;
  }
  const width = b.length + 1;
  const lcs = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i * width + j] = a[i] === b[j] ? (lcs[(i + 1) * width + j + 1] ?? 0) + 1 : Math.max(lcs[(i + 1) * width + j] ?? 0, lcs[i * width + j + 1] ?? 0);
    }
  }
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ kind: ' ', text: a[i] ?? '', oldLine: offset + i, newLine: offset + j });
      i++;
      j++;
    } else if (i < a.length && (j === b.length || (lcs[(i + 1) * width + j] ?? 0) >= (lcs[i * width + j + 1] ?? 0))) {
      // Removals before additions, as diff(1) shows them.
      ops.push({ kind: '-', text: a[i] ?? '', oldLine: offset + i, newLine: offset + j });
      i++;
    } else {
      ops.push({ kind: '+', text: b[j] ?? '', oldLine: offset + i, newLine: offset + j });
      j++;
    }
  }
  return ops;
}
