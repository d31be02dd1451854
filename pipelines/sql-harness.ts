/**
 * Runs a pipeline's semantics (pipelines/README.md) in DuckDB on fixture data, so that its SQL steps are
 * tested without a Spark cluster: the same parsing, the same quality SQL and the same step files as the
 * runtime (pipelines/runtime/driftless_runtime.py). A stream without a window runs in micro-batches, its state
 * merged and its sink partitions overwritten as the runtime does; watermarks and checkpoints are not modelled: a
 * windowed stream is seen at once, as its last micro-batch would see it.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance, DuckDBTypeId, type DuckDBConnection, type DuckDBResultReader, type DuckDBType } from '@duckdb/node-api';
import { qualitySql } from './quality-sql';
import type { Pipeline } from './schema';

/** A field's text as it arrived; NULL when absent. */
export type Text = string | null;

/** What a pipeline reads in a test. */
export interface HarnessInput {
  /**
   * The source records as they arrive: the lines of the day's file (a CSV file starts with its header row)
   * or the values of Kafka messages (null: a message without a value).
   */
  readonly records: readonly Text[];
  /** Each reference table by its `as` name, as the lines of a CSV file with a header row. */
  readonly references?: Readonly<Record<string, readonly string[]>>;
  /** Batch: the logical date of the run, 'YYYY-MM-DD', which the steps see as `run.run_date`. */
  readonly runDate?: string;
  /**
   * Streams without a window: how many records each micro-batch gets, in order (the last may get fewer).
   * @default all of them, in one micro-batch
   */
  readonly recordsPerBatch?: number;
}

/** A value of an output row: numbers, text, dates as 'YYYY-MM-DD', timestamps as 'YYYY-MM-DD HH:MM:SS[.ffffff]'. */
export type Value = string | number | boolean | null;

/** One output row, by column name. */
export type Row = Readonly<Record<string, Value>>;

/** A record sent to the dead letters. */
export interface Reject {
  /** The record as it arrived; for a record that a step rejected, the step's row as JSON. */
  readonly record: Text;
  /** The reason, as the quality check or the step gave it. */
  readonly reason: string;
}

/** The kind of value a column holds, as far as the engines must agree on it. */
export type ColumnKind = 'string' | 'number' | 'boolean' | 'date' | 'timestamp' | 'other';

/** A view the run produced: its columns in order, and its rows. */
export interface Table {
  readonly columns: ReadonlyArray<{ readonly name: string; readonly kind: ColumnKind }>;
  readonly rows: Row[];
}

/** What one step produced: the rows it passed on (its view) and those it rejected. */
export interface StepResult extends Table {
  /** The view the step's result is known by (stepView). */
  readonly view: string;
  /** Its rejects, sorted by their columns, as they also appear at the end of `HarnessResult.rejects`. */
  readonly rejects: Reject[];
}

/** What the pipeline produced: the sink's rows sorted by every column, and the rejects in the order they arose. */
export interface HarnessResult {
  /** The last step's rows; for a stream without a window, what its sink holds after the last micro-batch. */
  readonly output: Row[];
  /** Parsing and quality rejects in input order, then each step's rejects sorted by their columns (per micro-batch). */
  readonly rejects: Reject[];
  /** The valid typed records (the view `source`), in input order. */
  readonly source: Table;
  /** Each step's result in order, its rows sorted by every column. */
  readonly steps: StepResult[];
}

/**
 * The lines of a fixture file in `<folder>/fixtures/` (no empty last line for the final newline). `folder` is the
 * pipeline's folder: its path (a logic test passes its `__dirname`, so that a copied or renamed folder reads its
 * own fixtures) or its name under `dir`.
 */
export function fixture(folder: string, file: string, dir: string = __dirname): string[] {
  // Like Spark's line reader: '\n', '\r\n' and '\r' all end a line.
  const lines = readFileSync(resolve(dir, folder, 'fixtures', file), 'utf8').split(/\r\n|\r|\n/);
  return lines.at(-1) === '' ? lines.slice(0, -1) : lines;
}

/** Runs `pipeline` on `input`: parsing, quality checks, the SQL steps read from `dir/<name>/`, rejects. */
export async function runPipeline(pipeline: Pipeline, input: HarnessInput, dir: string = __dirname): Promise<HarnessResult> {
  const names = pipeline.schema.map((f) => f.name);
  const parsed = parseRecords(pipeline, input.records);
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    // Spark's order: NULL first in ascending order, last in descending (DuckDB puts it last in both).
    await db.run(`SET default_null_order = 'nulls_first_on_asc_last_on_desc'`);
    for (const reference of pipeline.references ?? []) {
      const lines = input.references?.[reference.as];
      if (lines === undefined) throw new Error(`runPipeline: give the reference table '${reference.as}' as CSV lines`);
      if (reference.format !== 'csv') throw new Error(`runPipeline: only CSV reference tables are supported, '${reference.as}' is ${reference.format}`);
      const { header, rows } = referenceRows(reference.as, lines);
      await insertTextTable(db, reference.as, header, rows);
    }

    if (pipeline.kind === 'batch') {
      if (input.runDate === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(input.runDate)) throw new Error('runPipeline: a batch pipeline needs runDate as YYYY-MM-DD');
      // As the runtime does: the steps can compare records with the day being processed.
      await db.run(`CREATE VIEW run AS SELECT DATE '${input.runDate}' AS run_date`);
    }
    if (pipeline.kind === 'streaming' && pipeline.window === undefined) return await accumulate(db, pipeline, parsed, input, dir);
    const qualityRejects = await check(db, pipeline, parsed.rows);
    const rejects: Reject[] = [...parsed.rejects, ...qualityRejects].sort((a, b) => a.index - b.index).map(({ record, reason }) => ({ record, reason }));

    const window = pipeline.window ? `, date_trunc('${pipeline.window.unit}', ${pipeline.window.column}) AS window_start` : '';
    await db.run(`CREATE VIEW source AS SELECT ${names.join(', ')}${window} FROM checked WHERE reject_reason IS NULL`);
    const source = table(await db.runAndReadAll('SELECT * FROM source'));
    const steps: StepResult[] = [];
    for (const [index, step] of pipeline.steps.entries()) {
      const view = stepView(step);
      const stepRejects = await runStep(db, pipeline, index, dir);
      rejects.push(...stepRejects);
      steps.push({ view, ...table(await db.runAndReadAll(`SELECT * FROM "${view}" ORDER BY ALL`)), rejects: stepRejects });
    }
    return { output: steps.at(-1)?.rows ?? [], rejects, source, steps };
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

/** The view a step's result is known by: its file name without `.sql`, dashes turned into underscores. */
export const stepView = (step: string): string => step.replace(/\.sql$/, '').replaceAll('-', '_');

// Step 2 of the semantics over `records`: the table `checked` (typed fields, `_record`, `reject_reason`), and its rejects.
async function check(db: DuckDBConnection, pipeline: Pipeline, records: Parsed['rows']): Promise<Parsed['rejects']> {
  await db.run('DROP TABLE IF EXISTS raw');
  await insertTextTable(db, 'raw', [...pipeline.schema.map((f) => f.name), '_record'], records.map((r) => [...r.values, r.record]));
  await db.run(`CREATE OR REPLACE TABLE checked AS\n${qualitySql(pipeline)}\n`);
  // A scan keeps DuckDB's insertion order, so the k-th checked row is the k-th raw row.
  const checked = (await db.runAndReadAll('SELECT _record, reject_reason FROM checked')).getRowObjectsJson();
  return checked.flatMap((row, k) => (row.reject_reason === null ? [] : [{ index: records[k]!.index, record: row._record as Text, reason: String(row.reject_reason) }]));
}

const readStep = (pipeline: Pipeline, index: number, dir: string): string =>
  readFileSync(join(dir, pipeline.name, pipeline.steps[index]!), 'utf8').replace(/;(\s|--[^\n]*)*$/, '');

// Step 4 for one step: its result as the table step_<index> and the view named after it, and the rows it rejected.
async function runStep(db: DuckDBConnection, pipeline: Pipeline, index: number, dir: string): Promise<Reject[]> {
  const view = stepView(pipeline.steps[index]!);
  const rejects: Reject[] = [];
  await db.run(`CREATE OR REPLACE TABLE step_${index} AS\n${readStep(pipeline, index, dir)}\n`);
  const columns = (await db.runAndReadAll(`SELECT * FROM step_${index} LIMIT 0`)).columnNames();
  if (columns.includes('reject_reason')) {
    const rejected = await db.runAndReadAll(`SELECT * EXCLUDE (reject_reason), reject_reason FROM step_${index} WHERE reject_reason IS NOT NULL ORDER BY ALL`);
    for (const row of rows(rejected)) {
      const { reject_reason: reason, ...fields } = row;
      rejects.push({ record: sparkJson(fields, rejected), reason: String(reason) });
    }
    await db.run(`CREATE OR REPLACE VIEW "${view}" AS SELECT * EXCLUDE (reject_reason) FROM step_${index} WHERE reject_reason IS NULL`);
  } else {
    // Quoted: a file stem may be a DuckDB keyword (SUMMARIZE is one) that a query could not name unquoted.
    await db.run(`CREATE OR REPLACE VIEW "${view}" AS SELECT * FROM step_${index}`);
  }
  return rejects;
}

// Sums of these stay exact whatever order the rows are added in; a sum of doubles does not.
const EXACT_SUMS: ReadonlySet<DuckDBTypeId> = new Set([
  DuckDBTypeId.TINYINT, DuckDBTypeId.SMALLINT, DuckDBTypeId.INTEGER, DuckDBTypeId.BIGINT, DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UTINYINT, DuckDBTypeId.USMALLINT, DuckDBTypeId.UINTEGER, DuckDBTypeId.UBIGINT, DuckDBTypeId.UHUGEINT, DuckDBTypeId.DECIMAL,
]);

/**
 * A stream without a window, as the runtime's `accumulator` runs it: per micro-batch, the quality check and the first
 * step over its records; those rows merged by key into the kept state (`state.merge`); the later steps over the kept
 * rows of the sink partitions the batch touched, with `source` gone; and those partitions of the sink overwritten
 * (without `partitionBy`: the whole sink). The output is the sink after the last micro-batch.
 */
async function accumulate(db: DuckDBConnection, pipeline: Pipeline, parsed: Parsed, input: HarnessInput, dir: string): Promise<HarnessResult> {
  const merge = pipeline.state?.merge ?? fail('a streaming pipeline without a window needs `state` (see pipelines/README.md)');
  const partitions = pipeline.sink.type === 'kafka' ? [] : (pipeline.sink.partitionBy ?? []);
  const names = pipeline.schema.map((f) => f.name);
  const perBatch = input.recordsPerBatch ?? Math.max(1, input.records.length);
  if (!Number.isInteger(perBatch) || perBatch < 1) fail(`recordsPerBatch must be a whole number of at least 1, got ${perBatch}`);
  const stateView = stepView(pipeline.steps[0]!);
  const quote = (column: string) => `"${column}"`;
  const samePartition = (a: string, b: string) => ['TRUE', ...partitions.map((p) => `${a}.${quote(p)} IS NOT DISTINCT FROM ${b}.${quote(p)}`)].join(' AND ');
  const rejects: Array<Reject & { index: number }> = [...parsed.rejects];
  const stepRejects: Reject[] = [];
  let sink = false;
  let source: Table = { columns: [], rows: [] };
  for (let first = 0; first < input.records.length; first += perBatch) {
    rejects.push(...(await check(db, pipeline, parsed.rows.filter((r) => r.index >= first && r.index < first + perBatch))));
    await db.run(`CREATE OR REPLACE VIEW source AS SELECT ${names.join(', ')} FROM checked WHERE reject_reason IS NULL`);
    const batchSource = table(await db.runAndReadAll('SELECT * FROM source'));
    source = { columns: batchSource.columns, rows: [...source.rows, ...batchSource.rows] };
    stepRejects.push(...(await runStep(db, pipeline, 0, dir)));
    await db.run(`CREATE OR REPLACE TABLE _batch AS SELECT * FROM "${stateView}"`);
    // The later steps must not see one micro-batch where they mean every record so far.
    await db.run('DROP VIEW source');
    const batch = await db.runAndReadAll('SELECT * FROM _batch LIMIT 0');
    const columns = batch.columnNames();
    if (first === 0) {
      const types = new Map(columns.map((name, i) => [name, batch.columnTypes()[i]!]));
      const problems = stateProblems(pipeline, types, partitions);
      if (problems.length > 0) throw new Error(problems.join('\n'));
      await db.run('CREATE TABLE _state AS SELECT * FROM _batch LIMIT 0');
    }
    if (Number((await db.runAndReadAll('SELECT count(*) AS n FROM _batch')).getRowObjectsJson()[0]!.n) === 0) continue;

    const types = batch.columnTypes();
    const merged = columns.map((column, i) => {
      const how = merge[column];
      return how === undefined ? quote(column) : `CAST(${how}(${quote(column)}) AS ${types[i]!.toString()}) AS ${quote(column)}`;
    });
    const keys = columns.filter((column) => merge[column] === undefined).map(quote);
    const union = 'SELECT * FROM _state UNION ALL BY NAME SELECT * FROM _batch';
    await db.run(
      Object.keys(merge).length === 0
        ? `CREATE OR REPLACE TABLE _state AS SELECT DISTINCT * FROM (${union})`
        : `CREATE OR REPLACE TABLE _state AS SELECT ${merged.join(', ')} FROM (${union}) AS kept GROUP BY ${keys.length > 0 ? keys.join(', ') : '()'}`,
    );
    await db.run(`CREATE OR REPLACE VIEW "${stateView}" AS SELECT * FROM _state AS kept WHERE EXISTS (SELECT 1 FROM _batch AS batch WHERE ${samePartition('kept', 'batch')})`);
    let last = stateView;
    for (let index = 1; index < pipeline.steps.length; index++) {
      await db.run(`CREATE OR REPLACE TABLE step_${index} AS\n${readStep(pipeline, index, dir)}\n`);
      if ((await db.runAndReadAll(`SELECT * FROM step_${index} LIMIT 0`)).columnNames().includes('reject_reason')) {
        // As in the runtime: they see every kept row again in each micro-batch, so their rejects would repeat.
        fail(`${specOf(pipeline)}: 'steps.${index}' must not return reject_reason: only the first step of a stream without a window may reject rows, got ${JSON.stringify(pipeline.steps[index])}`);
      }
      last = stepView(pipeline.steps[index]!);
      await db.run(`CREATE OR REPLACE VIEW "${last}" AS SELECT * FROM step_${index}`);
    }
    await db.run(`CREATE OR REPLACE TABLE _result AS SELECT * FROM "${last}"`);
    if (partitions.length === 0 || !sink) {
      await db.run('CREATE OR REPLACE TABLE _sink AS SELECT * FROM _result');
    } else {
      // Dynamic partition overwrite: the partitions the result has are replaced, the others stay.
      await db.run(`DELETE FROM _sink WHERE EXISTS (SELECT 1 FROM _result WHERE ${samePartition('_sink', '_result')})`);
      await db.run('INSERT INTO _sink BY NAME SELECT * FROM _result');
    }
    sink = true;
  }
  const output = sink ? rows(await db.runAndReadAll('SELECT * FROM _sink ORDER BY ALL')) : [];
  // The state step's view is the whole state; a later step's, what it made in the last micro-batch.
  const steps: StepResult[] = sink
    ? [
        { view: stateView, ...table(await db.runAndReadAll('SELECT * FROM _state ORDER BY ALL')), rejects: stepRejects },
        ...(await Promise.all(
          pipeline.steps.slice(1).map(async (step, i) => ({ view: stepView(step), ...table(await db.runAndReadAll(`SELECT * FROM step_${i + 1} ORDER BY ALL`)), rejects: [] })),
        )),
      ]
    : [];
  return { output, rejects: [...rejects.sort((a, b) => a.index - b.index).map(({ record, reason }) => ({ record, reason })), ...stepRejects], source, steps };
}

const specOf = (pipeline: Pipeline) => `pipelines/${pipeline.name}/pipeline.ts: pipeline '${pipeline.name}'`;

/** Why the first step's result cannot be kept as the state the spec declares, one line each: the runtime's `state_problems`. */
function stateProblems(pipeline: Pipeline, types: ReadonlyMap<string, DuckDBType>, partitions: readonly string[]): string[] {
  const step = pipeline.steps[0];
  const returned = `${step} returns (${[...types.keys()].join(', ')})`;
  return [
    ...Object.entries(pipeline.state?.merge ?? {}).flatMap(([column, how]) => {
      const type = types.get(column);
      if (type === undefined) return [`${specOf(pipeline)}: 'state.merge' must name only columns that ${returned}, got ${JSON.stringify(column)}`];
      if (how === 'sum' && !EXACT_SUMS.has(type.typeId)) {
        return [
          `${specOf(pipeline)}: 'state.merge.${column}' may be 'sum' only for a whole-number or DECIMAL column (${step} returns ${type.toString()}, whose sum depends on ` +
            `the order of addition, so a replayed or differently split micro-batch would change it): cast it to DECIMAL in the step, got "sum"`,
        ];
      }
      return [];
    }),
    ...partitions
      .filter((column) => !types.has(column))
      .map((column) => `${specOf(pipeline)}: 'sink.partitionBy' must name only columns that ${returned}, the state, which is kept per sink partition, got ${JSON.stringify(column)}`),
    ...[...types.keys()].filter((column) => column.startsWith('_')).map((column) => `${specOf(pipeline)}: 'steps.0' must return no column whose name starts with '_' (the runtime's own), got ${JSON.stringify(column)}`),
  ];
}

interface Parsed {
  readonly rows: Array<{ index: number; values: Text[]; record: string }>;
  readonly rejects: Array<Reject & { index: number }>;
}

// Step 1 of the semantics: every field as text, or a reject when the record cannot be split into fields.
function parseRecords(pipeline: Pipeline, records: readonly Text[]): Parsed {
  const names = pipeline.schema.map((f) => f.name);
  const { format, type } = pipeline.source;
  const parsed: Parsed = { rows: [], rejects: [] };
  let lines = records.map((record, index) => ({ record, index }));
  if (type === 's3') {
    // Files: blank lines are no records, and a CSV file's header must name the schema's fields in order. Like the
    // runtime, which reads a file's lines in parallel, every line equal to the header is left out, not just the first.
    lines = lines.filter((l) => l.record !== null && !/^ *$/.test(l.record));
    const header = lines[0]?.record;
    if (format === 'csv' && header !== undefined && header !== null) {
      if (csvFields(header)?.join(',') !== names.join(',')) throw new Error(`runPipeline: the CSV header must be '${names.join(',')}', got '${header}'`);
      lines = lines.filter((l) => l.record !== header);
    }
  }
  if (format === 'parquet') throw new Error('runPipeline: Parquet sources are typed already; give CSV or JSON records');
  for (const { record, index } of lines) {
    const values = record === null ? undefined : format === 'csv' ? csvValues(record, names.length) : jsonValues(record, names);
    if (values === undefined || record === null) {
      parsed.rejects.push({ index, record, reason: format === 'csv' ? 'malformed CSV line' : 'unparseable JSON' });
    } else {
      parsed.rows.push({ index, values, record });
    }
  }
  return parsed;
}

/** Records nested deeper than this (the record's object counting as one level) are unparseable, as in the runtime. */
const JSON_MAX_DEPTH = 100;

/**
 * The text of each named field of a record that is exactly one JSON object (JSON whitespace around it allowed), or
 * undefined: a string field is its content, a number, boolean, object or array its JSON exactly as written, null
 * and a missing field NULL; of repeated names the last counts. The runtime reads records the same way.
 */
function jsonValues(record: string, names: readonly string[]): Text[] | undefined {
  let value: unknown;
  try {
    // The JSON grammar and nothing more: no single quotes, NaN, comments or text after the object.
    value = JSON.parse(record);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const members = objectMembers(record);
  if (members === undefined) return undefined;
  return names.map((name) => {
    const text = members.get(name);
    if (text === undefined || text === 'null') return null;
    return text.startsWith('"') ? wellFormed(JSON.parse(text) as string) : text;
  });
}

/** The text of each member of the JSON object `json` (valid JSON), by name; undefined if it nests too deeply. */
function objectMembers(json: string): Map<string, string> | undefined {
  const members = new Map<string, string>();
  let at = skipSpace(json, skipSpace(json, 0) + 1);
  let deepest = 1;
  while (json[at] === '"') {
    const nameEnd = stringEnd(json, at);
    const name = JSON.parse(json.slice(at, nameEnd)) as string;
    const start = skipSpace(json, skipSpace(json, nameEnd) + 1);
    const { end, depth } = valueEnd(json, start);
    deepest = Math.max(deepest, depth + 1);
    members.set(name, json.slice(start, end));
    at = skipSpace(json, end);
    if (json[at] === ',') at = skipSpace(json, at + 1);
  }
  return deepest > JSON_MAX_DEPTH ? undefined : members;
}

const skipSpace = (json: string, at: number): number => {
  while (json[at] === ' ' || json[at] === '\t' || json[at] === '\n' || json[at] === '\r') at++;
  return at;
};

// Where the string starting at `at` (its opening quote) ends, one past its closing quote.
function stringEnd(json: string, at: number): number {
  for (let i = at + 1; ; i++) {
    if (json[i] === '\\') i++;
    else if (json[i] === '"') return i + 1;
  }
}

// Where the value starting at `at` ends, and how deeply it nests (0 for a string, number, boolean or null).
function valueEnd(json: string, at: number): { end: number; depth: number } {
  if (json[at] === '"') return { end: stringEnd(json, at), depth: 0 };
  if (json[at] !== '{' && json[at] !== '[') {
    let end = at;
    while (end < json.length && !',}] \t\n\r'.includes(json[end]!)) end++;
    return { end, depth: 0 };
  }
  let depth = 0;
  let deepest = 0;
  let i = at;
  do {
    const c = json[i];
    if (c === '"') {
      i = stringEnd(json, i);
      continue;
    }
    if (c === '{' || c === '[') deepest = Math.max(deepest, ++depth);
    else if (c === '}' || c === ']') depth--;
    i++;
  } while (depth > 0);
  return { end: i, depth: deepest };
}

// An escaped lone surrogate ('\\ud800') stands for no character: U+FFFD instead, as the runtime has it.
const wellFormed = (text: string): string => text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

function csvValues(line: string, count: number): Text[] | undefined {
  const fields = csvFields(line);
  return fields?.length === count ? fields : undefined;
}

/**
 * Splits a CSV line by RFC 4180: a field is quoted (`""` inside for a quote) or holds neither quotes nor commas. An
 * unquoted empty field is NULL, a quoted one the empty text. Undefined for any other line (a quote inside an unquoted
 * field, text after a closing quote, an unclosed quote).
 */
function csvFields(line: string): Text[] | undefined {
  const fields: Text[] = [];
  let at = 0;
  for (;;) {
    if (line[at] === '"') {
      let value = '';
      for (let from = at + 1; ; ) {
        const quote = line.indexOf('"', from);
        if (quote < 0) return undefined;
        value += line.slice(from, quote);
        if (line[quote + 1] !== '"') {
          at = quote + 1;
          break;
        }
        value += '"';
        from = quote + 2;
      }
      fields.push(value);
    } else {
      let end = at;
      while (end < line.length && line[end] !== ',' && line[end] !== '"') end++;
      if (line[end] === '"') return undefined;
      fields.push(end === at ? null : line.slice(at, end));
      at = end;
    }
    if (at === line.length) return fields;
    if (line[at] !== ',') return undefined;
    at++;
  }
}

/**
 * A reference table's lines as the runtime reads them: blank lines skipped, the first line naming the columns, every
 * line equal to it left out (each file of the table starts with it); a malformed line stops the run.
 */
function referenceRows(name: string, lines: readonly string[]): { header: string[]; rows: Text[][] } {
  const [first, ...others] = lines.filter((line) => !/^ *$/.test(line));
  if (first === undefined) return fail(`reference table '${name}' has no header line`);
  const header = (csvFields(first) ?? fail(`malformed CSV header in reference table '${name}': ${first}`)).map((column) => column ?? '');
  const rows = others
    .filter((line) => line !== first)
    .map((line) => {
      const fields = csvFields(line);
      return fields?.length === header.length ? fields : fail(`malformed CSV line in reference table '${name}': ${line}`);
    });
  return { header, rows };
}

async function insertTextTable(db: DuckDBConnection, table: string, columns: readonly string[], values: readonly (readonly Text[])[]): Promise<void> {
  await db.run(`CREATE TABLE "${table}" (${columns.map((c) => `"${c}" VARCHAR`).join(', ')})`);
  const appender = await db.createAppender(table);
  for (const row of values) {
    if (row.length !== columns.length) throw new Error(`runPipeline: table '${table}' has ${columns.length} columns, a row has ${row.length}`);
    for (const value of row) {
      if (value === null) appender.appendNull();
      else appender.appendVarchar(value);
    }
    appender.endRow();
  }
  appender.closeSync();
}

const WHOLE_NUMBERS = new Set([DuckDBTypeId.TINYINT, DuckDBTypeId.SMALLINT, DuckDBTypeId.INTEGER, DuckDBTypeId.BIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.DECIMAL]);

const KINDS: ReadonlyMap<DuckDBTypeId, ColumnKind> = new Map([
  ...[...WHOLE_NUMBERS, DuckDBTypeId.FLOAT, DuckDBTypeId.DOUBLE, DuckDBTypeId.USMALLINT, DuckDBTypeId.UTINYINT, DuckDBTypeId.UINTEGER, DuckDBTypeId.UHUGEINT].map((id) => [id, 'number'] as const),
  [DuckDBTypeId.VARCHAR, 'string'],
  [DuckDBTypeId.BOOLEAN, 'boolean'],
  [DuckDBTypeId.DATE, 'date'],
  ...[DuckDBTypeId.TIMESTAMP, DuckDBTypeId.TIMESTAMP_S, DuckDBTypeId.TIMESTAMP_MS, DuckDBTypeId.TIMESTAMP_NS].map((id) => [id, 'timestamp'] as const),
]);

function table(reader: DuckDBResultReader): Table {
  const types = reader.columnTypes();
  return { columns: reader.columnNames().map((name, i) => ({ name, kind: KINDS.get(types[i]!.typeId) ?? 'other' })), rows: rows(reader) };
}

// BIGINT (what count(*) returns) and DECIMAL come as text from DuckDB's JSON form; tests compare numbers.
function rows(reader: DuckDBResultReader): Row[] {
  const types = new Map(reader.columnNames().map((name, i) => [name, reader.columnTypes()[i]!.typeId]));
  return reader.getRowObjectsJson().map((row) =>
    Object.fromEntries(Object.entries(row).map(([name, value]) => [name, WHOLE_NUMBERS.has(types.get(name)!) && value !== null ? Number(value) : (value as Value)])),
  );
}

// How Spark's to_json writes a row: NULL fields left out, timestamps as 'yyyy-MM-ddTHH:mm:ss.SSSZ' (UTC session).
function sparkJson(fields: Row, reader: DuckDBResultReader): string {
  const timestamps = new Set(reader.columnNames().filter((_, i) => reader.columnTypes()[i]!.typeId === DuckDBTypeId.TIMESTAMP));
  const entries = Object.entries(fields)
    .filter(([, value]) => value !== null)
    .map(([name, value]) => {
      if (!timestamps.has(name) || typeof value !== 'string') return [name, value];
      const [date, time = '00:00:00'] = value.split(' ');
      const [seconds, fraction = ''] = time.split('.');
      return [name, `${date}T${seconds}.${fraction.padEnd(3, '0').slice(0, 3)}Z`];
    });
  return JSON.stringify(Object.fromEntries(entries));
}

const fail = (message: string): never => {
  throw new Error(`runPipeline: ${message}`);
};
