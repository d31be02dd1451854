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
