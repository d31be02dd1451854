/**
 * temperature on the real engines: 1,000,000 generated readings produced with `npm run produce -- --local` (batches of at
 * most 1 MB) to the local Kafka, the stream on Spark with its 10 s trigger writing Parquet to HDFS, its driver killed
 * with SIGKILL mid-stream and restarted from its checkpoint while readings keep coming. The expected statistics are
 * computed here, independently of Spark and of the SQL: per station and year, the count, the exact mean (a sum in
 * integer tenths of a degree, divided once) and the mode (the lowest temperature on a tie).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { consumerLag, enginePlane, pipelineOfFolder, produce, queryRows, startDriver, stopDriver, waitFor, type Driver, type EnginePlane } from '../../scripts/local/engines-testing';
import type { LoadedPipeline } from '../load';
import { generateReadings, type Statistics } from './readings';

const READINGS = 1_000_000;

let plane: EnginePlane;
let pipeline: LoadedPipeline;

function expectedRows(expected: Map<string, Statistics>): Array<Record<string, unknown>> {
  return [...expected.entries()]
    .map(([key, stats]) => {
      const [station, year] = key.split('|') as [string, string];
      let mode = Infinity;
      let most = 0;
      for (const [tenths, count] of stats.frequencies) {
        if (count > most || (count === most && tenths < mode)) [mode, most] = [tenths, count];
      }
      // Both integers are far below 2^53, so this division is the double nearest to the true mean, as Spark's is.
      return { station, year: Number(year), mean_temperature: stats.tenths / (stats.readings * 10), mode_temperature: mode / 10, readings: stats.readings };
    })
    .sort((a, b) => `${a.station}|${a.year}`.localeCompare(`${b.station}|${b.year}`));
}

beforeAll(async () => {
  plane = await enginePlane();
  pipeline = pipelineOfFolder(plane, __filename);
});

describe('temperature on Spark, Kafka and HDFS', () => {
  it('counts each of 1,000,000 readings exactly once across a SIGKILL of the driver, and leaves no lag', async () => {
    if (pipeline.source.type !== 'kafka') throw new Error('temperature reads a Kafka topic');
    const topic = pipeline.source.topic;
    const parts = [400_000, 200_000, 200_000, 200_000];
    const { files, expected, bad } = generateReadings(plane.dir, parts);
    expect(parts.reduce((a, b) => a + b, 0)).toBe(READINGS);
    expect(bad).toBeGreaterThan(0);

    let produced = 0;
    const send = async (file: string, count: number) => {
      await produce(plane, pipeline, file);
      produced += count;
    };
    const lagNow = () => consumerLag(plane, pipeline.name, [topic]);

    await send(files[0]!, parts[0]!);
    let driver: Driver = await startDriver(plane, pipeline);
    // The first micro-batch is committed once the group has made progress.
    await waitFor('the first micro-batch', async () => (await lagNow()) < produced, 15 * 60_000, driver);
    // Kill the driver while the next readings arrive and are being processed: no shutdown hook runs.
    const sending = send(files[1]!, parts[1]!);
    await waitFor('a micro-batch of the second part under way', async () => (await lagNow()) < produced, 10 * 60_000, driver);
    driver.kill('SIGKILL');
    await driver.exited;
    await sending;
    await send(files[2]!, parts[2]!);

    driver = await startDriver(plane, pipeline);
    try {
      await send(files[3]!, parts[3]!);
      await waitFor('every reading processed (lag 0)', async () => (await lagNow()) === 0, 20 * 60_000, driver);
      // The offsets are committed after the batch's output is written; one more trigger interval lets the sink settle.
      expect(await lagNow()).toBe(0);
    } finally {
      await stopDriver(driver);
    }
    expect(produced).toBe(READINGS);
    const rows = (await queryRows(plane, pipeline)).sort((a, b) => `${a['station']}|${a['year']}`.localeCompare(`${b['station']}|${b['year']}`));
    expect(rows).toEqual(expectedRows(expected));
    expect(rows.reduce((sum, row) => sum + Number(row['readings']), 0)).toBe(READINGS - bad);
  });
});
