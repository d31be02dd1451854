import { describe, expect, it } from 'vitest';
import { Pipeline } from '../schema';
import { fixture, runPipeline } from '../sql-harness';
import { pipeline as spec } from './pipeline';

const pipeline = Pipeline.parse(spec);
const readings = fixture(__dirname, 'readings.jsonl');

const statistics = [
  // 10, 12, 12, 14 (the last at 23:59:59.999 on New Year's Eve still counts for 2023)
  { station: 'S1', year: 2023, mean_temperature: 12, mode_temperature: 12, readings: 4 },
  // 5, 7.5, 7.5, 5, 20: 5 and 7.5 are both seen twice, the lower wins
  { station: 'S1', year: 2024, mean_temperature: 9, mode_temperature: 5, readings: 5 },
  // -90 and 60, the bounds of the range: kept, and a tie
  { station: 'S3', year: 2024, mean_temperature: -15, mode_temperature: -90, readings: 2 },
];

describe(`${pipeline.name} logic`, () => {
  it('computes mean, mode (the lowest on a tie) and count per station and year', async () => {
    const { output } = await runPipeline(pipeline, { records: readings });
    expect(output).toEqual(statistics);
  });

  it('gives the same statistics and rejects whether the readings come at once or in micro-batches of any size', async () => {
    const atOnce = await runPipeline(pipeline, { records: readings });
    for (const recordsPerBatch of [1, 2, 5, 7]) {
      const batched = await runPipeline(pipeline, { records: readings, recordsPerBatch });
      expect(batched.output, `${recordsPerBatch} per micro-batch`).toEqual(statistics);
      expect(batched.rejects, `${recordsPerBatch} per micro-batch`).toEqual(atOnce.rejects);
    }
  });

  it('computes the mean exactly, whatever order and micro-batches the readings come in', async () => {
    // Summed as doubles, 0.1 + 0.2 + 0.3 is 0.6000000000000001 and 0.3 + 0.2 + 0.1 is 0.6: means of 0.20000000000000004
    // and 0.19999999999999998. In whole thousandths the sum is 600 either way, and 600 / 3000 is 0.2.
    const reading = (day: number, temperature: string) => `{"station":"S5","measured_at":"2024-01-0${day}T00:00:00Z","temperature":${temperature}}`;
    const forwards = [reading(1, '0.1'), reading(2, '0.2'), reading(3, '0.3')];
    for (const [records, recordsPerBatch] of [[forwards, 3], [[...forwards].reverse(), 3], [[...forwards].reverse(), 1]] as const) {
      const { output } = await runPipeline(pipeline, { records, recordsPerBatch });
      expect(output).toEqual([{ station: 'S5', year: 2024, mean_temperature: 0.2, mode_temperature: 0.1, readings: 3 }]);
    }
  });

  it('keeps the statistics of a station and year that later micro-batches do not touch', async () => {
    const { output } = await runPipeline(pipeline, {
      records: [
        '{"station":"S7","measured_at":"2023-05-01T00:00:00Z","temperature":4}',
        '{"station":"S8","measured_at":"2024-05-01T00:00:00Z","temperature":-2.5}',
        '{"station":"S8","measured_at":"2024-05-02T00:00:00Z","temperature":-3.5}',
      ],
      recordsPerBatch: 1,
    });
    expect(output).toEqual([
      { station: 'S7', year: 2023, mean_temperature: 4, mode_temperature: 4, readings: 1 },
      { station: 'S8', year: 2024, mean_temperature: -3, mode_temperature: -3.5, readings: 2 },
    ]);
  });

  it('rejects every bad reading, with its text and the first reason that applies', async () => {
    const { rejects } = await runPipeline(pipeline, { records: readings });
    expect(rejects).toEqual([
      { record: '{"station":"S2","measured_at":"2024-06-01T00:00:00Z","temperature":60.5}', reason: 'temperature above 60' },
      { record: 'not json at all', reason: 'unparseable JSON' },
      { record: '{"station":"S2","measured_at":"2024-06-01T00:00:00Z","temperature":-90.1}', reason: 'temperature below -90' },
      { record: '["S1","2024-01-01T00:00:00Z",3]', reason: 'unparseable JSON' },
      { record: '{"measured_at":"2024-06-01T00:00:00Z","temperature":3}', reason: 'missing station' },
      { record: '{"station":"  ","measured_at":"2024-06-01T00:00:00Z","temperature":3}', reason: 'missing station' },
      { record: '{"station":"S2","temperature":3}', reason: 'missing measured_at' },
      { record: '{"station":"S2","measured_at":"2024-06-01T00:00:00Z","temperature":""}', reason: 'missing temperature' },
      { record: '{"station":"S2","measured_at":"2024-06-01T00:00:00Z","temperature":"warm"}', reason: 'malformed temperature: not a double' },
      { record: '{"station":"S2","measured_at":"2024-13-01T00:00:00Z","temperature":3}', reason: 'malformed measured_at: not a timestamp' },
      // Readings are in UTC: an offset would be applied by Spark but ignored by DuckDB, so it is refused.
      { record: '{"station":"S2","measured_at":"2024-06-01T10:00:00+02:00","temperature":3}', reason: 'malformed measured_at: not a timestamp' },
      { record: '{"station":"S2","measured_at":"yesterday","temperature":"warm"}', reason: 'malformed measured_at: not a timestamp' },
      { record: '{"temperature":"warm"}', reason: 'missing station' },
    ]);
  });

  it('rejects a message without a value and keeps the readings around it', async () => {
    const { output, rejects } = await runPipeline(pipeline, {
      records: ['{"station":"S9","measured_at":"2024-01-01T00:00:00Z","temperature":1.5}', null, '{"station":"S9","measured_at":"2024-01-02T00:00:00Z","temperature":2.5}'],
    });
    expect(output).toEqual([{ station: 'S9', year: 2024, mean_temperature: 2, mode_temperature: 1.5, readings: 2 }]);
    expect(rejects).toEqual([{ record: null, reason: 'unparseable JSON' }]);
  });
});
