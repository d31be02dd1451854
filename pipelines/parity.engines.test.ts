/**
 * Spark and the DuckDB mirror give the same results: every pipeline's fixtures (whatever pipelines exist) and the
 * edge-case pipelines in runtime/fixtures/ run through the runtime's own parsing, quality SQL and steps on Spark
 * (runtime/evaluate.py) and through sql-harness.ts on DuckDB, and the typed source rows, the rejects and each
 * step's rows and rejects are compared.
 *
 *   DRIFTLESS_PYTHON=<python with pyspark> npx vitest run pipelines/parity.engines.test.ts --config vitest.engines.config.mts
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureEnvironments } from '../scripts/fixtures/environments';
import { RUNTIME_FOLDER } from './job-code';
import { jobSpec, type JobSpec } from './job-spec';
import { loadPipelines, PIPELINES_DIR, type LoadedPipeline } from './load';
import { fixture, runPipeline, type ColumnKind, type Reject, type Row, type Table } from './sql-harness';

const PYTHON = process.env.DRIFTLESS_PYTHON;
if (!PYTHON) {
  throw new Error(
    'DRIFTLESS_PYTHON is not set: the engine parity tests run Spark through a Python that has pyspark installed ' +
      '(the version of the pipeline image), e.g. DRIFTLESS_PYTHON=/path/to/venv/bin/python; Java 17 or later must be on the PATH',
  );
}

const RUNTIME_DIR = join(PIPELINES_DIR, RUNTIME_FOLDER);
const EDGE_DIR = join(RUNTIME_DIR, 'fixtures');

/** One fixture file of records run through one pipeline. */
interface Case {
  readonly title: string;
  readonly pipeline: LoadedPipeline;
  /** The folder holding the pipeline's folder. */
  readonly dir: string;
  readonly file: string;
  readonly runDate?: string;
  /** Reference tables by `as`: their fixture file names. */
  readonly references: Readonly<Record<string, string>>;
}

/** What one engine made of a case: the harness's shape, rejects without the steps' ones, or the error that stopped it. */
type Outcome =
  | { readonly source: Table; readonly rejects: Reject[]; readonly steps: ReadonlyArray<Table & { readonly view: string; readonly rejects: Reject[] }> }
  | { readonly error: string };

const fixturesOf = (dir: string, pipeline: LoadedPipeline) => join(dir, pipeline.name, 'fixtures');

/**
 * The cases of a pipeline, from the names of its fixture files: `<as>.csv` is a reference table; for a batch, a
 * file that the source's `file` pattern matches is a day's file (the day from its name); for a stream, every other
 * `.jsonl`/`.json` (JSON) or `.csv` (CSV) file holds message values. Problems are thrown as a test's failure.
 */
function casesOf(dir: string, pipeline: LoadedPipeline): Case[] | string {
  const folder = fixturesOf(dir, pipeline);
  const files = existsSync(folder) ? readdirSync(folder).sort() : [];
  const references = Object.fromEntries((pipeline.references ?? []).map((r) => [r.as, `${r.as}.${r.format}`]));
  const missing = Object.values(references).filter((file) => !files.includes(file));
  if (missing.length > 0) return `has no fixture for its reference tables: ${missing.join(', ')} in ${folder}`;
  const others = files.filter((file) => !Object.values(references).includes(file));
  const source = pipeline.source;
  const cases: Case[] = [];
  if (source.type === 's3') {
    // The schema allows letters, digits, '_', '.' and '-' around {yyyymmdd}: only '.' needs escaping.
    const pattern = new RegExp(`^${(source.file ?? '').replaceAll('.', '\\.').replace('{yyyymmdd}', '(\\d{4})(\\d{2})(\\d{2})')}$`);
    for (const file of others) {
      const day = pattern.exec(file);
      if (day) cases.push({ title: `${pipeline.name}/${file}`, pipeline, dir, file, runDate: `${day[1]}-${day[2]}-${day[3]}`, references });
    }
  } else {
    const extensions = source.format === 'json' ? ['.jsonl', '.json'] : ['.csv'];
    for (const file of others.filter((f) => extensions.some((e) => f.endsWith(e)))) cases.push({ title: `${pipeline.name}/${file}`, pipeline, dir, file, references });
  }
  return cases.length > 0 ? cases : `has no fixture records to run on both engines in ${folder}`;
}

const groups = [
  { dir: PIPELINES_DIR, pipelines: await loadPipelines() },
  { dir: EDGE_DIR, pipelines: await loadPipelines(EDGE_DIR, [], RUNTIME_DIR) },
];
const found = groups.flatMap(({ dir, pipelines }) => pipelines.map((pipeline) => ({ pipeline, cases: casesOf(dir, pipeline) })));
const cases = found.flatMap((f) => (typeof f.cases === 'string' ? [] : f.cases));

const scratch = mkdtempSync(join(tmpdir(), 'driftless-parity-'));
const spark = new Map<string, Outcome>();
const duckdb = new Map<string, Outcome>();

beforeAll(async () => {
  const env = fixtureEnvironments()[0]!;
  const job = (c: Case): JobSpec => {
    const spec = jobSpec(env, c.pipeline);
    const folder = fixturesOf(c.dir, c.pipeline);
    return { ...spec, codeUri: join(c.dir, c.pipeline.name), references: spec.references.map((r) => ({ ...r, uri: join(folder, c.references[r.as]!) })) };
  };
  const input = join(scratch, 'cases.json');
  writeFileSync(input, JSON.stringify(cases.map((c) => ({ job: job(c), records: join(fixturesOf(c.dir, c.pipeline), c.file), date: c.runDate ?? null }))));
  const run = promisify(execFile)(PYTHON, [join(RUNTIME_DIR, 'evaluate.py'), '--cases', input], {
    cwd: scratch,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', SPARK_LOCAL_DIRS: scratch },
    maxBuffer: 256 * 1024 * 1024,
  }).catch((error: { stderr?: string; message: string }) => {
    throw new Error(`runtime/evaluate.py failed with ${PYTHON}: ${(error.stderr ?? '').trim().split('\n').slice(-15).join('\n') || error.message}`);
  });
  const outcomes = JSON.parse((await run).stdout) as Raw[];
  cases.forEach((c, index) => spark.set(c.title, sparkOutcome(outcomes[index]!)));
  for (const c of cases) duckdb.set(c.title, await duckdbOutcome(c));
}, 600_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** What evaluate.py prints for a case. */
type Raw = { error: string } | { source: Table; rejects: RawReject[]; steps: Array<Table & { view: string; rejects: RawReject[] }> };
type RawReject = { record: string | null; reject_reason: string };

function sparkOutcome(raw: Raw): Outcome {
  if ('error' in raw) return raw;
  const rejects = (list: RawReject[]) => list.map((r) => ({ record: r.record, reason: r.reject_reason }));
  return { source: raw.source, rejects: rejects(raw.rejects), steps: raw.steps.map((step) => ({ ...step, rejects: rejects(step.rejects) })) };
}

async function duckdbOutcome(c: Case): Promise<Outcome> {
  const references = Object.fromEntries(Object.entries(c.references).map(([as, file]) => [as, fixture(c.pipeline.name, file, c.dir)]));
  try {
    const result = await runPipeline(c.pipeline, { records: fixture(c.pipeline.name, c.file, c.dir), references, ...(c.runDate ? { runDate: c.runDate } : {}) }, c.dir);
    const fromSteps = result.steps.reduce((n, step) => n + step.rejects.length, 0);
    return { source: result.source, rejects: result.rejects.slice(0, result.rejects.length - fromSteps), steps: result.steps };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

// A value as both engines' outputs can be compared: timestamps as evaluate.py writes them, numbers to 12 significant
// digits (the order in which an engine adds up doubles is its own), -0 as 0.
function comparable(value: Row[string], kind: ColumnKind): Row[string] {
  if (value === null) return null;
  if (kind === 'timestamp' && typeof value === 'string' && !value.endsWith('Z')) {
    const [date, time = '00:00:00'] = value.split(' ');
    const [seconds, fraction = ''] = time.split('.');
    return `${date}T${seconds}.${fraction.padEnd(6, '0')}Z`;
  }
  if (typeof value === 'number') return Number(value.toPrecision(12)) + 0;
  return value;
}

const rowsOf = (table: Table): string[] =>
  table.rows.map((row) => JSON.stringify(table.columns.map((c) => [c.name, comparable(row[c.name] ?? null, c.kind)]))).sort();

// A step's rejected row as JSON: each engine writes numbers its own way (Spark 5.0, the mirror 5), so values compare.
const stepRejectsOf = (rejects: Reject[]): string[] =>
  rejects
    .map((r) => {
      const row = JSON.parse(r.record ?? 'null') as Record<string, unknown>;
      const values = Object.entries(row).map(([name, value]) => [name, typeof value === 'number' ? comparable(value, 'number') : value]);
      return JSON.stringify([r.reason, values]);
    })
    .sort();

const recordRejectsOf = (rejects: Reject[]): string[] => rejects.map((r) => JSON.stringify([r.reason, r.record])).sort();

describe('Spark and DuckDB', () => {
  it('have records to compare for every pipeline', () => {
    expect(found.filter((f) => typeof f.cases === 'string').map((f) => `pipeline '${f.pipeline.name}' ${f.cases}`)).toEqual([]);
  });

  for (const c of cases) {
    describe(c.title, () => {
      const both = () => ({ spark: spark.get(c.title)!, duckdb: duckdb.get(c.title)! });
      const verdict = (o: Outcome) => ('error' in o ? `refused: ${o.error}` : 'ran');
      // Both engines' outputs, or undefined when both refused the input (which the first test below compares).
      const ran = () => {
        const { spark: s, duckdb: d } = both();
        if (!('error' in s) && !('error' in d)) return { s, d };
        if (!('error' in s) || !('error' in d)) expect.fail(`Spark ${verdict(s)}; DuckDB ${verdict(d)}`);
        return undefined;
      };

      it('either both run or both refuse the input', () => {
        const { spark: s, duckdb: d } = both();
        expect({ spark: 'error' in s, duckdb: 'error' in d }, `Spark ${verdict(s)}; DuckDB ${verdict(d)}`).toEqual({ spark: 'error' in d, duckdb: 'error' in d });
      });

      it('types the same source rows', () => {
        const r = ran();
        if (!r) return;
        expect(r.s.source.columns).toEqual(r.d.source.columns);
        expect(rowsOf(r.s.source)).toEqual(rowsOf(r.d.source));
      });

      it('rejects the same records for the same reasons when parsing and checking them', () => {
        const r = ran();
        if (!r) return;
        expect(recordRejectsOf(r.s.rejects)).toEqual(recordRejectsOf(r.d.rejects));
      });

      const key = c.pipeline.sink.type === 'kafka' ? c.pipeline.sink.key : undefined;
      if (key) {
        it(`identifies each result row by the sink key (${key.join(', ')}) on both engines`, () => {
          const r = ran();
          if (!r) return;
          for (const outcome of [r.s, r.d]) {
            const last = outcome.steps.at(-1)!;
            expect(key.filter((column) => !last.columns.some((c) => c.name === column))).toEqual([]);
            const keys = last.rows.map((row) => JSON.stringify(key.map((column) => row[column] ?? null)));
            expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
          }
        });
      }

      c.pipeline.steps.forEach((step, index) => {
        it(`gives the same rows and rejects in step ${step}`, () => {
          const r = ran();
          if (!r) return;
          const [s, d] = [r.s.steps[index]!, r.d.steps[index]!];
          expect(s.view).toBe(d.view);
          expect(s.columns).toEqual(d.columns);
          expect(rowsOf(s)).toEqual(rowsOf(d));
          expect(stepRejectsOf(s.rejects)).toEqual(stepRejectsOf(d.rejects));
        });
      });
    });
  }
});
