/**
 * The independent scanner's verdict: checkov's JSON report held against the reviewed skip file
 * (scripts/policy/checkov-skips.yaml). Pure: checkov itself is run by checkov-run.ts.
 *
 * Every failed check must be excused by one entry that names its check ID and resource and gives a reason of at
 * least a sentence, as the policy gate's suppressions do (suppressions.ts). A failure without an entry is an
 * error; so is an entry without a real reason and a malformed or repeated one. An entry that excuses nothing is a
 * warning, as the gate's unused suppression is, so that a stale excuse is seen before it hides the next problem.
 */
import { parse } from 'yaml';
import { MIN_REASON_LENGTH } from './suppressions';

/** The frameworks the scanner runs, each over one tree of the output. */
export const SCANNER_FRAMEWORKS = ['terraform_json', 'kubernetes', 'github_actions'] as const;
export type ScannerFramework = (typeof SCANNER_FRAMEWORKS)[number];

/** One failed check, with the resource as the skip file names it. */
export interface ScannerFailure {
  readonly framework: string;
  readonly checkId: string;
  readonly checkName: string;
  /** `aws_s3_bucket.raw_bucket_B8DCEC09`, `data.aws_availability_zones.zones`, `Deployment.spark-operator.spark-history-server`. */
  readonly resource: string;
  /** Relative to the project root. */
  readonly file: string;
}

/** What checkov reported for one framework. */
export interface FrameworkResult {
  readonly framework: string;
  readonly passed: number;
  readonly parsingErrors: number;
  readonly failures: readonly ScannerFailure[];
}

/** One entry of the skip file. */
export interface ScannerSkip {
  readonly check: string;
  readonly resource: string;
  readonly reason: string;
}

/** The skip file read, and what is wrong with how it is written. */
export interface ParsedSkips {
  readonly skips: readonly ScannerSkip[];
  readonly problems: readonly string[];
}

/** The verdict: per framework counts, and every problem as one line. */
export interface ScannerVerdict {
  readonly frameworks: ReadonlyArray<{ readonly framework: string; readonly passed: number; readonly failed: number; readonly skipped: number }>;
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
  /** The excused failures with their reasons, for the report. */
  readonly skipped: ReadonlyArray<{ readonly failure: ScannerFailure; readonly reason: string }>;
}

/** Resolves a resource that checkov names by block only (`resource.<name>`) to `<type>.<name>` in its Terraform JSON. */
export type ResourceResolver = (file: string, resource: string) => string;

/** checkov could not run or printed no report it can be judged by: one line, no stack. */
export class ScannerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScannerError';
  }
}

const CHECK_ID = /^CKV2?_[A-Z0-9]+_\d+$/;

/**
 * checkov's `-o json` output: one report object, or a list of them (one per framework that found files).
 * `file` maps checkov's path (relative to the scanned root, with a leading slash) to a project path.
 */
export function parseCheckovOutput(text: string, resolve: ResourceResolver = (_, r) => r): FrameworkResult[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ScannerError(`checkov printed no JSON report: ${JSON.stringify(text.slice(0, 200))}`);
  }
  const reports = (Array.isArray(parsed) ? parsed : [parsed]) as Array<Record<string, unknown>>;
  return reports.map((report) => {
    const framework = String(report['check_type'] ?? '');
    const summary = (report['summary'] ?? {}) as { passed?: number; parsing_errors?: number };
    const results = (report['results'] ?? {}) as { failed_checks?: Array<Record<string, unknown>> };
    if (framework === '' || typeof summary.passed !== 'number') throw new ScannerError(`checkov's report has no check_type and summary: ${JSON.stringify(report).slice(0, 200)}`);
    const failures = (results.failed_checks ?? []).map((check): ScannerFailure => {
      const file = String(check['repo_file_path'] ?? check['file_path'] ?? '').replace(/^\/+/, '');
      const resource = String(check['resource'] ?? '');
      return {
        framework,
        checkId: String(check['check_id'] ?? ''),
        checkName: String(check['check_name'] ?? ''),
        resource: framework === 'terraform_json' ? resolve(file, resource) : resource,
        file,
      };
    });
    return { framework, passed: summary.passed, parsingErrors: summary.parsing_errors ?? 0, failures };
  });
}

/**
 * checkov 3.3 names a failed single-resource check of Terraform JSON `resource.<name>` or `data.<name>`, without the
 * type; graph checks name `<type>.<name>`. This finds the type in the synthesized stack, so that one entry of the skip
 * file names a resource the same way whichever kind of check found it.
 */
export function terraformResourceResolver(readStack: (file: string) => Record<string, unknown> | undefined): ResourceResolver {
  return (file, resource) => {
    const match = /^(resource|data)\.([^.]+)$/.exec(resource);
    if (!match) return resource;
    const [, block, name] = match as unknown as [string, 'resource' | 'data', string];
    const types = Object.entries((readStack(file)?.[block] ?? {}) as Record<string, Record<string, unknown>>)
      .filter(([, byName]) => byName !== null && typeof byName === 'object' && name in byName)
      .map(([type]) => type);
    if (types.length !== 1) return resource;
    return block === 'data' ? `data.${types[0]}.${name}` : `${types[0]}.${name}`;
  };
}

/** The skip file: `skips:` a list of `{ check, resource, reason }`. */
export function parseSkips(text: string, file: string): ParsedSkips {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    return { skips: [], problems: [`${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`] };
  }
  const held = document !== null && typeof document === 'object' && 'skips' in document ? (document as { skips: unknown }).skips : undefined;
  // `skips:` with no entries under it is an empty list.
  const list = held === null ? [] : held;
  if (!Array.isArray(list)) return { skips: [], problems: [`${file} must hold 'skips:', a list of { check, resource, reason }, got ${JSON.stringify(document)}`] };
  const skips: ScannerSkip[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  list.forEach((entry: unknown, index) => {
    const { check, resource, reason, ...rest } = (entry ?? {}) as Record<string, unknown>;
    const at = `${file} entry ${index + 1}`;
    if (typeof check !== 'string' || typeof resource !== 'string' || typeof reason !== 'string' || Object.keys(rest).length > 0) {
      problems.push(`${at} must be { check, resource, reason } with three strings, got ${JSON.stringify(entry)}`);
      return;
    }
    const problem = skipProblem({ check, resource, reason });
    if (problem !== undefined) problems.push(`${at}: ${problem}`);
    else if (seen.has(`${check} ${resource}`)) problems.push(`${at}: ${check} ${resource} is skipped twice: keep one entry per check and resource`);
    else skips.push({ check, resource, reason: reason.trim() });
    seen.add(`${check} ${resource}`);
  });
  return { skips, problems };
}

/** What is wrong with one entry, or undefined when it names a check and a resource and gives a reason. */
export function skipProblem(skip: ScannerSkip): string | undefined {
  if (!CHECK_ID.test(skip.check)) return `'${skip.check}' must name a checkov check such as CKV_AWS_144`;
  if (skip.resource.trim() === '' || skip.resource.includes('*')) return `${skip.check} must name one resource, got ${JSON.stringify(skip.resource)}`;
  const reason = skip.reason.trim();
  if (reason.length < MIN_REASON_LENGTH || !reason.endsWith('.')) {
    return `${skip.check} ${skip.resource} must give a reason of at least a sentence (${MIN_REASON_LENGTH}+ characters ending with a period), got ${JSON.stringify(reason)}`;
  }
  return undefined;
}

/** Holds the reports against the skips. `everyEnvironment`: the scan covered all environments (it words the stale warning). */
export function judge(results: readonly FrameworkResult[], parsed: ParsedSkips, everyEnvironment: boolean): ScannerVerdict {
  const errors = [...parsed.problems];
  const warnings: string[] = [];
  const used = new Set<ScannerSkip>();
  const skipped: Array<{ failure: ScannerFailure; reason: string }> = [];
  const frameworks = SCANNER_FRAMEWORKS.map((framework) => {
    const result = results.find((r) => r.framework === framework);
    // A framework that checked nothing did not read its tree: that is a broken scan, not a clean one.
    if (result === undefined || result.passed === 0) errors.push(`checkov's ${framework} framework passed no check: it did not read its tree (run 'npm run synth' first)`);
    if (result !== undefined && result.parsingErrors > 0) errors.push(`checkov's ${framework} framework could not parse ${result.parsingErrors} files`);
    let failed = 0;
    let excused = 0;
    // checkov scans files in parallel: sort, so that the report is the same on every run.
    const failures = [...(result?.failures ?? [])].sort((a, b) => `${a.file} ${a.checkId} ${a.resource}`.localeCompare(`${b.file} ${b.checkId} ${b.resource}`));
    for (const failure of failures) {
      const skip = parsed.skips.find((s) => s.check === failure.checkId && s.resource === failure.resource);
      if (skip === undefined) {
        failed += 1;
        errors.push(`${failure.checkId}  ${failure.resource}  ${failure.file}: ${failure.checkName} (fix it, or skip it in scripts/policy/checkov-skips.yaml with a reason)`);
      } else {
        excused += 1;
        used.add(skip);
        skipped.push({ failure, reason: skip.reason });
      }
    }
    return { framework, passed: result?.passed ?? 0, failed, skipped: excused };
  });
  for (const skip of parsed.skips.filter((s) => !used.has(s))) {
    const message = everyEnvironment
      ? `skip ${skip.check} ${skip.resource} excuses no failure: remove it from scripts/policy/checkov-skips.yaml`
      : `skip ${skip.check} ${skip.resource} excuses no failure in the environments scanned (it may in another)`;
    // A warning, like the gate's unused suppression: environments are examples that teams edit and delete.
    warnings.push(message);
  }
  return { frameworks, errors, warnings, skipped };
}

/** The last line: `scanner: N passed, N failed, N skipped` (fixed words, so that tools can parse it). */
export function scannerCountLine(verdict: ScannerVerdict): string {
  const sum = (key: 'passed' | 'failed' | 'skipped') => verdict.frameworks.reduce((total, f) => total + f[key], 0);
  return `scanner: ${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped, ${verdict.errors.length} errors, ${verdict.warnings.length} warnings`;
}

/** The scanner's part of the validate report, ending with the count line and a newline. */
export function formatScannerReport(verdict: ScannerVerdict, version: string): string {
  const lines = [`checkov ${version}: ${SCANNER_FRAMEWORKS.join(', ')}`];
  for (const f of verdict.frameworks) lines.push(`  ${f.framework.padEnd(15)} ${f.passed} passed, ${f.failed} failed, ${f.skipped} skipped`);
  for (const error of verdict.errors) lines.push(`  error    ${error}`);
  for (const warning of verdict.warnings) lines.push(`  warning  ${warning}`);
  if (verdict.skipped.length > 0) {
    // One line per entry of the skip file, with the files it excused: the same resource recurs in every environment.
    const byEntry = new Map<string, { files: string[]; reason: string }>();
    for (const { failure, reason } of verdict.skipped) {
      const key = `${failure.checkId}  ${failure.resource}`;
      byEntry.set(key, { files: [...(byEntry.get(key)?.files ?? []), failure.file], reason });
    }
    lines.push('', `skipped by the scanner (${verdict.skipped.length} failures, ${byEntry.size} entries of scripts/policy/checkov-skips.yaml):`);
    for (const [key, { files, reason }] of byEntry) lines.push(`  ${key}  (${files.length === 1 ? files[0] : `${files.length} files`})`, `           because: ${reason}`);
  }
  lines.push('', scannerCountLine(verdict));
  return `${lines.join('\n')}\n`;
}

/** Whether the scanner fails validate. */
export function scannerFails(verdict: ScannerVerdict): boolean {
  return verdict.errors.length > 0;
}
