import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Pipeline, type PipelineInput } from './schema';
import { runPipeline } from './sql-harness';

const scratch = mkdtempSync(join(tmpdir(), 'driftless-harness-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
/** A stream without a window (readings of sensors) whose steps are the given SQL files, in a folder of its own. */
function stream(steps: Record<string, string>, overrides: Partial<PipelineInput> = {}): { pipeline: Pipeline; dir: string } {
  const dir = join(scratch, `case-${counter++}`);
  mkdirSync(join(dir, 'sensors'), { recursive: true });
  for (const [file, sql] of Object.entries(steps)) writeFileSync(join(dir, 'sensors', file), sql);
  const pipeline = Pipeline.parse({
    name: 'sensors',
    description: 'Readings per sensor and year.',
    kind: 'streaming',
    triggerSeconds: 10,
    source: { type: 'kafka', topic: 'sensors', format: 'json' },
    schema: [
      { name: 'sensor', type: 'string' },
      { name: 'read_at', type: 'timestamp' },
      { name: 'reading', type: 'double' },
    ],
    quality: { required: ['sensor', 'read_at', 'reading'], ranges: [] },
    steps: Object.keys(steps),
    state: { merge: { readings: 'sum', lowest: 'min', highest: 'max' } },
    sink: { type: 'hdfs', path: '/data/sensors', partitionBy: ['sensor', 'year'] },
    rejects: { type: 'kafka', topic: 'sensors.dlq' },
    alerts: { staleAfterMinutes: 10 },
    ...overrides,
  } satisfies PipelineInput);
  return { pipeline, dir };
}

const PER_YEAR = 'SELECT sensor, year(read_at) AS year, count(*) AS readings, min(reading) AS lowest, max(reading) AS highest\nFROM source\nGROUP BY sensor, year(read_at)\n';
const SPREAD = 'SELECT sensor, year, readings, highest - lowest AS spread\nFROM per_year\n';
const reading = (sensor: string, at: string, value: number) => JSON.stringify({ sensor, read_at: at, reading: value });
const READINGS = [
  reading('a', '2024-01-01T00:00:00Z', 3),
  reading('b', '2024-01-01T00:00:00Z', 10),
  reading('a', '2024-02-01T00:00:00Z', -1),
  reading('a', '2023-12-31T23:00:00Z', 7),
  reading('a', '2024-03-01T00:00:00Z', 5),
];

describe('runPipeline on a stream without a window', () => {
  it('merges the first step by key across micro-batches: sums, minimums and maximums, the same for any batch size', async () => {
    const { pipeline, dir } = stream({ 'per-year.sql': PER_YEAR, 'spread.sql': SPREAD });
    for (const recordsPerBatch of [1, 2, 5]) {
      const { output } = await runPipeline(pipeline, { records: READINGS, recordsPerBatch }, dir);
      expect(output, `${recordsPerBatch} per micro-batch`).toEqual([
        // a in 2023: 7 alone; a in 2024: 3, -1 and 5; b in 2024: 10 alone
        { sensor: 'a', year: 2023, readings: 1, spread: 0 },
        { sensor: 'a', year: 2024, readings: 3, spread: 6 },
        { sensor: 'b', year: 2024, readings: 1, spread: 0 },
      ]);
    }
  });

  it('writes the kept state itself when the first step is the only one', async () => {
    const { pipeline, dir } = stream({ 'per-year.sql': PER_YEAR });
    const { output } = await runPipeline(pipeline, { records: READINGS, recordsPerBatch: 2 }, dir);
    expect(output).toEqual([
      { sensor: 'a', year: 2023, readings: 1, lowest: 7, highest: 7 },
      { sensor: 'a', year: 2024, readings: 3, lowest: -1, highest: 5 },
      { sensor: 'b', year: 2024, readings: 1, lowest: 10, highest: 10 },
    ]);
  });

  it('keeps a set of keys when nothing is merged, and overwrites a sink without partitions whole', async () => {
    const { pipeline, dir } = stream({ 'sensors-seen.sql': 'SELECT DISTINCT sensor\nFROM source\n' }, { state: { merge: {} }, sink: { type: 'kafka', topic: 'sensors-seen' } });
    const { output } = await runPipeline(pipeline, { records: READINGS, recordsPerBatch: 1 }, dir);
    expect(output).toEqual([{ sensor: 'a' }, { sensor: 'b' }]);
  });

  it('says, one line each, where the spec does not fit what the first step returns', async () => {
    const { pipeline, dir } = stream(
      { 'per-year.sql': 'SELECT sensor, count(*) AS readings, sum(reading) AS total, max(reading) AS _top\nFROM source\nGROUP BY sensor\n' },
      { state: { merge: { readings: 'sum', total: 'sum', lowest: 'min' } } },
    );
    const file = "pipelines/sensors/pipeline.ts: pipeline 'sensors'";
    const returned = 'per-year.sql returns (sensor, readings, total, _top)';
    await expect(runPipeline(pipeline, { records: READINGS }, dir)).rejects.toThrow(
      [
        `${file}: 'state.merge.total' may be 'sum' only for a whole-number or DECIMAL column (per-year.sql returns DOUBLE, whose sum depends on the order of addition, so a replayed or differently split micro-batch would change it): cast it to DECIMAL in the step, got "sum"`,
        `${file}: 'state.merge' must name only columns that ${returned}, got "lowest"`,
        `${file}: 'sink.partitionBy' must name only columns that ${returned}, the state, which is kept per sink partition, got "year"`,
        `${file}: 'steps.0' must return no column whose name starts with '_' (the runtime's own), got "_top"`,
      ].join('\n'),
    );
  });

  it('hides source from the steps after the first, which see the kept state, not one micro-batch', async () => {
    const { pipeline, dir } = stream({ 'per-year.sql': PER_YEAR, 'spread.sql': 'SELECT sensor, year(read_at) AS year, count(*) AS readings\nFROM source\nGROUP BY sensor, year(read_at)\n' });
    await expect(runPipeline(pipeline, { records: READINGS }, dir)).rejects.toThrow(/source/);
  });

  it('refuses rejects from a step after the first, which would repeat in every micro-batch', async () => {
    const { pipeline, dir } = stream({ 'per-year.sql': PER_YEAR, 'spread.sql': "SELECT sensor, year, readings, CASE WHEN readings > 2 THEN 'busy' END AS reject_reason\nFROM per_year\n" });
    await expect(runPipeline(pipeline, { records: READINGS }, dir)).rejects.toThrow(
      `pipelines/sensors/pipeline.ts: pipeline 'sensors': 'steps.1' must not return reject_reason: only the first step of a stream without a window may reject rows, got "spread.sql"`,
    );
  });
});

// The record rules of pipelines/README.md on DuckDB; parity.engines.test.ts holds Spark to the same on the edge-case
// pipelines in runtime/fixtures/.

const dir = mkdtempSync(join(tmpdir(), 'driftless-harness-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A pipeline of its own name, so that its step file is its own.
function pipeline(name: string, format: 'json' | 'csv', step: string, input: Partial<PipelineInput> = {}): Pipeline {
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(join(dir, name, 'rows.sql'), step);
  return Pipeline.parse({
    name,
    description: 'Records as text.',
    kind: 'streaming',
    triggerSeconds: 10,
    source: { type: 'kafka', topic: name, format },
    schema: [
      { name: 'id', type: 'string' },
      { name: 'label', type: 'string' },
      { name: 'n', type: 'integer' },
    ],
    quality: { required: ['id'], ranges: [] },
    steps: ['rows.sql'],
    // A stream without a window keeps a state; these cases look at the records before it.
    state: { merge: {} },
    sink: { type: 'kafka', topic: `${name}-out` },
    rejects: { type: 'kafka', topic: `${name}.dlq` },
    alerts: { staleAfterMinutes: 10 },
    ...input,
  } satisfies PipelineInput);
}

const json = pipeline('json-records', 'json', 'SELECT * FROM source');
const csv = pipeline('csv-records', 'csv', 'SELECT * FROM source');
const sourceOf = async (p: Pipeline, records: string[], references?: Record<string, string[]>) => {
  const result = await runPipeline(p, { records, ...(references ? { references } : {}) }, dir);
  return { rows: result.source.rows, rejects: result.rejects.map((r) => r.reason) };
};

describe('JSON records', () => {
  it('keep the text of numbers, booleans, objects and arrays as written', async () => {
    const labels = ['1.10', '1e3', '-0', '12345678901234567890123', 'true', '{"x": [1, 2.50]}', '[ ]'];
    const { rows } = await sourceOf(json, labels.map((label, i) => `{"id":"r${i}","label":${label}}`));
    expect(rows.map((r) => r.label)).toEqual(labels);
  });

  it('are one JSON object and nothing else: single quotes, NaN, text after the object are unparseable', async () => {
    const records = [
      "{'id':'r1'}",
      '{"id":"r2","n":NaN}',
      '{"id":"r3","n":-Infinity}',
      '{"id":"r4"} trailing',
      '{"id":"r5"}{"id":"r6"}',
      '{"id":"r7"},',
      '{"id":"r8"}}',
      '{"id":"r9"}]',
      '{"id":"r10"} // comment',
      '{"id":"r11",}',
      '{"id":"r12","n":007}',
      '\ufeff{"id":"r13"}',
      '["r14"]',
      '"r15"',
      '',
      ' ',
    ];
    const { rows, rejects } = await sourceOf(json, records);
    expect(rows).toEqual([]);
    expect(rejects).toEqual(records.map(() => 'unparseable JSON'));
  });

  it('may have JSON whitespace around and inside the object', async () => {
    const { rows } = await sourceOf(json, ['\t {"id":"r1"} \r\n', '{ "id" : "r2" , "n" : 5 }']);
    expect(rows).toEqual([{ id: 'r1', label: null, n: null }, { id: 'r2', label: null, n: 5 }]);
  });

  it('take the last of repeated names, match names exactly and decode escapes', async () => {
    const { rows, rejects } = await sourceOf(json, ['{"id":"r1","label":"a","label":"b"}', '{"ID":"r2"}', '{"\\u0069d":"r3","label":"\\"\\u00e9\\ud83d\\ude00"}']);
    expect(rows).toEqual([{ id: 'r1', label: 'b', n: null }, { id: 'r3', label: '"é😀', n: null }]);
    expect(rejects).toEqual(['missing id']);
  });

  it('turn an escaped lone surrogate into U+FFFD', async () => {
    const { rows } = await sourceOf(json, ['{"id":"r1","label":"a\\ud800b"}']);
    expect(rows[0]!.label).toBe('a\ufffdb');
  });

  it('are unparseable when nested more than 100 levels deep, the object counting as one', async () => {
    const nested = (levels: number) => `{"id":"r${levels}","other":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}`;
    const { rows, rejects } = await sourceOf(json, [nested(100), nested(101)]);
    expect(rows.map((r) => r.id)).toEqual(['r100']);
    expect(rejects).toEqual(['unparseable JSON']);
  });
});

describe('CSV records', () => {
  it('follow RFC 4180: a quoted empty field is empty text, an unquoted one NULL, "" inside quotes a quote', async () => {
    const { rows } = await sourceOf(csv, ['r1,"",1', 'r2,,2', '"r3","a, ""b""",3', 'r4, spaced ,4']);
    expect(rows).toEqual([
      { id: 'r1', label: '', n: 1 },
      { id: 'r2', label: null, n: 2 },
      { id: 'r3', label: 'a, "b"', n: 3 },
      { id: 'r4', label: ' spaced ', n: 4 },
    ]);
  });

  it('are malformed with a stray quote, text after a closing quote, an unclosed quote or another number of fields', async () => {
    const records = ['r1,a"b,1', 'r2,"a"b,2', 'r3, "a",3', 'r4,"a,4', 'r5,a', 'r6,a,6,', '', '\t'];
    const { rows, rejects } = await sourceOf(csv, records);
    expect(rows).toEqual([]);
    expect(rejects).toEqual(records.map(() => 'malformed CSV line'));
  });

  it('read reference tables by the same rules, leaving out blank lines and every line equal to the header', async () => {
    const joined = pipeline('joined', 'csv', 'SELECT source.id, names.label FROM source LEFT JOIN names ON names.id = source.id', {
      references: [{ type: 's3', bucket: 'curated', prefix: 'names/', format: 'csv', as: 'names' }],
    });
    const result = await runPipeline(joined, { records: ['a,,', 'b,,', 'c,,'], references: { names: ['id,label', 'a,""', '', '   ', 'id,label', 'b,', '"c","x ""y"""'] } }, dir);
    expect(result.output).toEqual([{ id: 'a', label: '' }, { id: 'b', label: null }, { id: 'c', label: 'x "y"' }]);
  });

  it('stop the run on a malformed reference line', async () => {
    const joined = pipeline('crossed', 'csv', 'SELECT * FROM source CROSS JOIN names', { references: [{ type: 's3', bucket: 'curated', prefix: 'names/', format: 'csv', as: 'names' }] });
    await expect(runPipeline(joined, { records: [], references: { names: ['id,label', 'a,b"c'] } }, dir)).rejects.toThrow(
      `malformed CSV line in reference table 'names': a,b"c`,
    );
    await expect(runPipeline(joined, { records: [], references: { names: ['id,label', 'a'] } }, dir)).rejects.toThrow("malformed CSV line in reference table 'names': a");
  });
});

describe('steps', () => {
  it('sort NULL first in ascending and last in descending order, as Spark does', async () => {
    const ranked = pipeline('ranked', 'csv', 'SELECT id, row_number() OVER (ORDER BY n) AS up, row_number() OVER (ORDER BY n DESC) AS down FROM source');
    const { output } = await runPipeline(ranked, { records: ['a,,1', 'b,,', 'c,,2'] }, dir);
    expect(output).toEqual([{ id: 'a', up: 2, down: 2 }, { id: 'b', up: 1, down: 3 }, { id: 'c', up: 3, down: 1 }]);
  });
});
