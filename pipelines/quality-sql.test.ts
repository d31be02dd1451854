import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { fixturePipelines } from '../scripts/fixtures/pipelines';
import { loadPipelines } from './load';
import { qualitySql } from './quality-sql';
import { Pipeline, type PipelineInput } from './schema';

const SPEC = {
  name: 'meters',
  description: 'Meter readings.',
  kind: 'streaming',
  triggerSeconds: 60,
  source: { type: 'kafka', topic: 'meters', format: 'json' },
  schema: [
    { name: 'meter', type: 'string' },
    { name: 'reading', type: 'integer' },
    { name: 'volts', type: 'double' },
    { name: 'day', type: 'date' },
    { name: 'read_at', type: 'timestamp' },
  ],
  quality: { required: ['meter', 'reading'], ranges: [{ field: 'reading', min: 0, max: 1000 }, { field: 'volts', min: -0.5 }] },
  steps: ['a.sql'],
  sink: { type: 'kafka', topic: 'meters-out' },
  rejects: { type: 'kafka', topic: 'meters.dlq' },
  alerts: { staleAfterMinutes: 10 },
} satisfies PipelineInput;

const spec = (overrides: Partial<PipelineInput> = {}) => Pipeline.parse({ ...SPEC, ...overrides });

type Text = string | null;

/** Runs the quality SQL of `pipeline` in DuckDB over raw records given as field texts. */
async function check(pipeline: Pipeline, records: ReadonlyArray<Readonly<Record<string, Text>>>): Promise<Array<Record<string, unknown>>> {
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    const names = pipeline.schema.map((f) => f.name);
    await db.run(`CREATE TABLE raw (${[...names, '_record'].map((n) => `${n} VARCHAR`).join(', ')})`);
    const appender = await db.createAppender('raw');
    for (const [index, record] of records.entries()) {
      for (const value of [...names.map((n) => record[n] ?? null), `record ${index}`]) {
        if (value === null) appender.appendNull();
        else appender.appendVarchar(value);
      }
      appender.endRow();
    }
    appender.closeSync();
    return (await db.runAndReadAll(qualitySql(pipeline))).getRowObjectsJson();
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

const VALID = { meter: 'm1', reading: '42', volts: '230.5', day: '2024-05-01', read_at: '2024-05-01T10:00:00Z' };
const reasonsOf = async (pipeline: Pipeline, records: ReadonlyArray<Readonly<Record<string, Text>>>) => (await check(pipeline, records)).map((r) => r.reject_reason);

describe('qualitySql', () => {
  it('casts every field to its type and keeps the record, with no reason for a valid one', async () => {
    expect(await check(spec(), [VALID])).toEqual([
      { meter: 'm1', reading: 42, volts: 230.5, day: '2024-05-01', read_at: '2024-05-01 10:00:00', _record: 'record 0', reject_reason: null },
    ]);
  });

  it('rejects a required field that is absent or blank', async () => {
    expect(await reasonsOf(spec(), [{ ...VALID, meter: null }, { ...VALID, meter: '  ' }, { ...VALID, reading: '' }])).toEqual([
      'missing meter',
      'missing meter',
      'missing reading',
    ]);
  });

  it('takes blank text in an optional field for NULL, not for a malformed value', async () => {
    expect(await check(spec(), [{ ...VALID, volts: ' ', day: null, read_at: '' }])).toEqual([
      { meter: 'm1', reading: 42, volts: null, day: null, read_at: null, _record: 'record 0', reject_reason: null },
    ]);
  });

  it('gives the first failing check: missing, then malformed (in schema order), then out of range', async () => {
    expect(
      await reasonsOf(spec(), [
        { ...VALID, meter: null, volts: 'high' },
        { ...VALID, reading: 'many', day: 'today' },
        { ...VALID, volts: 'high', day: 'today' },
        { ...VALID, volts: 'high', reading: '5000' },
        { ...VALID, reading: '5000', volts: '-1' },
        { ...VALID, volts: '-1' },
      ]),
    ).toEqual([
      'missing meter',
      'malformed reading: not an integer',
      'malformed volts: not a double',
      'malformed volts: not a double',
      'reading above 1000',
      'volts below -0.5',
    ]);
  });

  it('keeps values on the bounds of a range', async () => {
    expect(await reasonsOf(spec(), [{ ...VALID, reading: '0', volts: '-0.5' }, { ...VALID, reading: '1000' }, { ...VALID, reading: '-1' }])).toEqual([
      null,
      null,
      'reading below 0',
    ]);
  });

  // DuckDB alone would cast '1.5' to the INT 2, '1_000' to 1000, '0x1F' to 31, '+-1' to -1, '24:00:00' to the next
  // day and drop a '+02:00' offset; Spark would cast '2024' to a DATE. Both engines must see only text that they read
  // alike (the engine parity test runs the same on Spark).
  it.each([
    ['reading', ' 7 ', 7],
    ['reading', '007', 7],
    ['reading', '+5', 5],
    ['reading', '-0', 0],
    ['reading', '1.5', undefined],
    ['reading', '1e3', undefined],
    ['reading', '0x1F', undefined],
    ['reading', '1_000', undefined],
    ['reading', '99999999999', undefined],
    ['reading', '+-5', undefined],
    ['reading', '5\n', undefined],
    ['volts', '1e3', 1000],
    ['volts', '.5', 0.5],
    ['volts', '5.', 5],
    ['volts', '+.5E-1', 0.05],
    ['volts', '-0.25', -0.25],
    ['volts', 'NaN', undefined],
    ['volts', 'Infinity', undefined],
    ['volts', '1_000.5', undefined],
    ['volts', '1,5', undefined],
    ['volts', '+-1', undefined],
    ['volts', '1e', undefined],
    ['volts', '.', undefined],
    ['volts', '1e400', undefined],
    ['volts', '-1e400', undefined],
    ['volts', '1e-400', 0],
    ['day', '2024-02-29', '2024-02-29'],
    ['day', '2023-02-29', undefined],
    ['day', '2024-1-5', undefined],
    ['day', '2024', undefined],
    ['day', '2024-01-05 10:00', undefined],
    ['read_at', '2024-01-05', '2024-01-05 00:00:00'],
    ['read_at', '2024-01-05 10:00:00', '2024-01-05 10:00:00'],
    ['read_at', '2024-01-05T10:00:00.25Z', '2024-01-05 10:00:00.25'],
    ['read_at', '2024-01-05T23:59:59.1234567Z', '2024-01-05 23:59:59.123456'],
    ['read_at', '2024-01-05T10:00:00.Z', '2024-01-05 10:00:00'],
    ['read_at', '2024-01-05T10:00:00+02:00', undefined],
    ['read_at', '2024-01-05T10:00:00+0000', undefined],
    ['read_at', '2024-01-05T10:00:00z', undefined],
    ['read_at', '2024-01-05T24:00:00', undefined],
    ['read_at', '2024-01-05T23:59:60', undefined],
    ['read_at', '2024-01-05T10:60:00', undefined],
    ['read_at', '2024-01-05Z', undefined],
    ['read_at', '2024-01-05 10:00:00 UTC', undefined],
    ['read_at', '2024-01-05T10:00', undefined],
    ['read_at', 'epoch', undefined],
  ] as const)('reads %s %j as %j (undefined: malformed)', async (field, text, expected) => {
    const [row] = await check(spec(), [{ ...VALID, [field]: text }]);
    const type = SPEC.schema.find((f) => f.name === field)!.type;
    if (expected === undefined) {
      expect(row).toMatchObject({ [field]: null, reject_reason: `malformed ${field}: not ${type === 'integer' ? 'an' : 'a'} ${type}` });
    } else {
      expect(row).toMatchObject({ [field]: expected, reject_reason: null });
    }
  });

  it('gives every record a NULL reason when there is nothing to check', async () => {
    const plain = spec({ schema: [{ name: 'meter', type: 'string' }], quality: { required: [], ranges: [] } });
    expect(await check(plain, [{ meter: null }, { meter: 'm1' }])).toEqual([
      { meter: null, _record: 'record 0', reject_reason: null },
      { meter: 'm1', _record: 'record 1', reject_reason: null },
    ]);
  });

  it('refuses a range on a field that is not a number', () => {
    expect(() => qualitySql(spec({ quality: { required: [], ranges: [{ field: 'day', min: 0 }] } }))).toThrow(
      "pipeline 'meters': quality range on 'day' needs an integer or double field, it is date",
    );
  });
});

// Over every pipeline in pipelines/ (however many) and every fixture pipeline: what each spec promises of its records.
const PIPELINES = [...(await loadPipelines()), ...(await fixturePipelines())];

/** A text of the field's type that every range on the field keeps (a bound is kept). */
function validText(pipeline: Pipeline, field: Pipeline['schema'][number]): string {
  const ranges = pipeline.quality.ranges.filter((r) => r.field === field.name);
  const mins = ranges.flatMap((r) => (r.min === undefined ? [] : [r.min]));
  const maxes = ranges.flatMap((r) => (r.max === undefined ? [] : [r.max]));
  switch (field.type) {
    case 'string':
      return 'x';
    case 'date':
      return '2024-05-01';
    case 'timestamp':
      return '2024-05-01T10:00:00Z';
    case 'integer':
      return String(mins.length > 0 ? Math.ceil(Math.max(...mins)) : maxes.length > 0 ? Math.floor(Math.min(...maxes)) : 1);
    case 'double':
      return String(mins.length > 0 ? Math.max(...mins) : maxes.length > 0 ? Math.min(...maxes) : 1.5);
  }
}

describe.each(PIPELINES.map((pipeline) => [pipeline.name, pipeline] as const))('the quality SQL of pipeline %s', (_, pipeline) => {
  const names = pipeline.schema.map((f) => f.name);
  const valid = Object.fromEntries(pipeline.schema.map((f) => [f.name, validText(pipeline, f)]));

  it('types every field of a valid record and gives it no reason', async () => {
    const [row] = await check(pipeline, [valid]);
    expect(Object.keys(row!)).toEqual([...names, '_record', 'reject_reason']);
    for (const name of names) expect(row![name], name).not.toBeNull();
    expect(row!.reject_reason).toBeNull();
  });

  it('rejects an empty record for its first required field, in schema order', async () => {
    const first = names.find((name) => pipeline.quality.required.includes(name));
    expect(await reasonsOf(pipeline, [{}])).toEqual([first === undefined ? null : `missing ${first}`]);
  });

  // Only where the spec has such fields or ranges: a test over nothing could not fail.
  const typedFields = pipeline.schema.filter((f) => f.type !== 'string');
  if (typedFields.length > 0) it("rejects text that is not of a field's type, naming the field and the type", async () => {
    const reasons = await reasonsOf(pipeline, typedFields.map((f) => ({ ...valid, [f.name]: 'not-a-value' })));
    expect(reasons).toEqual(typedFields.map((f) => `malformed ${f.name}: not ${f.type === 'integer' ? 'an' : 'a'} ${f.type}`));
  });

  if (pipeline.quality.ranges.length > 0) it('rejects a value outside each range, naming the field', async () => {
    const outside = pipeline.quality.ranges.flatMap((r) => [
      ...(r.min === undefined ? [] : [{ field: r.field, text: String(r.min - 1) }]),
      ...(r.max === undefined ? [] : [{ field: r.field, text: String(r.max + 1) }]),
    ]);
    const reasons = await reasonsOf(pipeline, outside.map((o) => ({ ...valid, [o.field]: o.text })));
    expect(reasons.map(String)).toEqual(outside.map((o) => expect.stringMatching(new RegExp(`^${o.field} (below|above) `))));
  });
});
