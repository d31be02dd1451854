/**
 * order-events on the real engines: orders produced with `npm run produce -- --local` to the local Kafka, the stream on
 * Spark joined with the restaurants table from the S3 emulator, one-minute summaries on the summary topic and bad
 * orders on the dead-letter topic. The expectations follow from the rule in pipelines/README.md (watermark 2 minutes,
 * worked out by hand below); the driver is killed with SIGKILL halfway and restarted from its checkpoint.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { consumerLag, enginePlane, pipelineOfFolder, produce, putObject, queryRows, startDriver, stopDriver, waitFor, type Driver, type EnginePlane } from '../../scripts/local/engines-testing';
import type { LoadedPipeline } from '../load';

let plane: EnginePlane;
let pipeline: LoadedPipeline;
let step = 0;

beforeAll(async () => {
  plane = await enginePlane();
  pipeline = pipelineOfFolder(plane, __filename);
  if (pipeline.window?.watermarkMinutes !== 2 || pipeline.window.unit !== 'minute') throw new Error('the expectations below are worked out for a 2-minute watermark on one-minute windows');
  const [reference] = pipeline.references ?? [];
  await putObject(plane, reference!.bucket, `${reference!.prefix}restaurants.csv`, readFileSync(join(__dirname, 'fixtures', 'restaurants.csv')));
});

/** Micro-batches without records that the sink query of this driver has run, from the progress Spark logs. */
function emptyBatches(driver: Driver): number {
  const log = existsSync(driver.logFile) ? readFileSync(driver.logFile, 'utf8') : '';
  return log
    .split('Streaming query made progress: ')
    .slice(1)
    .map((part) => part.slice(0, part.indexOf('\n}') + 2))
    .flatMap((text) => {
      try {
        return [JSON.parse(text) as { name: string; numInputRows: number }];
      } catch {
        return [];
      }
    })
    .filter((progress) => progress.name === `${pipeline.name}-sink` && progress.numInputRows === 0).length;
}

const order = (id: string, restaurant: string, amount: string, at: string) => `${id},${restaurant},${amount},2024-05-01T${at}Z`;

describe('order-events on Spark, Kafka and S3', () => {
  it('counts late orders within the watermark and no later ones, sends bad orders to the dead letters, and keeps one summary per window and city across a SIGKILL', async () => {
    if (pipeline.source.type !== 'kafka' || pipeline.sink.type !== 'kafka') throw new Error('order-events reads and writes Kafka topics');
    const topic = pipeline.source.topic;
    // Each step is produced, then processed (lag 0), before the next. A step that moves M is followed by the micro-batch
    // without records that Spark runs when its watermark moved: only from then on are later records judged by the new M
    // (see "Delivery" in pipelines/README.md), so the test waits for it rather than for a guessed time.
    const send = async (driver: Driver, lines: string[], movesM = false) => {
      const file = join(plane.dir, `orders-${++step}.csv`);
      writeFileSync(file, `order_id,restaurant_id,amount,event_time\n${lines.join('\n')}\n`);
      const before = emptyBatches(driver);
      await produce(plane, pipeline, file);
      await waitFor(`orders of step ${step} processed`, async () => (await consumerLag(plane, pipeline.name, [topic])) === 0, 10 * 60_000, driver);
      if (movesM) await waitFor(`the micro-batch after step ${step} that applies the new watermark`, async () => emptyBatches(driver) > before, 5 * 60_000, driver);
    };

    let driver = await startDriver(plane, pipeline);
    // u1 is valid until the enrich step rejects it, so its event time counts for M too: it stays below w1's.
    await send(driver, [order('w1', 'r1', '1.00', '10:10:00'), order('bad1', 'r1', 'abc', '10:10:05'), order('u1', 'r9', '3.00', '10:09:50')], true);
    // The latest event time M is 10:10:00: later than M - 2 min counts, 10:08:00 itself does not.
    await send(driver, [order('w2', 'r1', '2.00', '10:08:00.001'), order('w3', 'r1', '4.00', '10:08:00'), order('w4', 'r2', '8.00', '10:07:59.999')]);
    // M = 10:11:00 makes the 10:08 window final (M - 2 min >= 10:09).
    await send(driver, [order('w5', 'r1', '16.00', '10:11:00')], true);
    // Spark writes the window in a micro-batch of its own once M moved; kill the driver only after it, so that the
    // watermark it restores is the one that made 10:08 final (see "Delivery" in pipelines/README.md).
    await waitFor('the 10:08 summary', async () => (await queryRows(plane, pipeline)).some((r) => String(r['window_start']).includes('10:08')), 5 * 60_000, driver);
    driver.kill('SIGKILL');
    await driver.exited;

    driver = await startDriver(plane, pipeline);
    try {
      // After 10:08 was written: too late for it, whatever happens to the driver.
      await send(driver, [order('w6', 'r1', '32.00', '10:08:30')]);
      // M = 10:20:00 finalizes 10:10 and 10:11.
      await send(driver, [order('w7', 'r1', '64.00', '10:20:00')], true);
      // One more trigger: a window found final in the last micro-batch is written by the next, which has no records.
      await waitFor('the 10:11 summary', async () => (await queryRows(plane, pipeline)).some((r) => String(r['window_start']).includes('10:11')), 5 * 60_000, driver);
    } finally {
      await stopDriver(driver);
    }

    const summaries = await queryRows(plane, pipeline);
    const byKey = new Map<string, Set<string>>();
    for (const { _key, ...value } of summaries) byKey.set(String(_key), (byKey.get(String(_key)) ?? new Set()).add(JSON.stringify(value)));
    // Exactly one value per (window, city), however often a replayed micro-batch sent it.
    expect([...byKey.values()].map((values) => values.size)).toEqual([...byKey.keys()].map(() => 1));
    const table = [...byKey.values()].map((values) => JSON.parse([...values][0]!) as Record<string, unknown>);
    const minute = (row: Record<string, unknown>) => new Date(String(row['window_start'])).toISOString().slice(11, 16);
    expect(table.map((row) => ({ minute: minute(row), city: row['city'], orders: row['orders'], total_amount: row['total_amount'] })).sort((a, b) => a.minute.localeCompare(b.minute))).toEqual([
      { minute: '10:08', city: 'Berlin', orders: 1, total_amount: 2 },
      { minute: '10:10', city: 'Berlin', orders: 1, total_amount: 1 },
      { minute: '10:11', city: 'Berlin', orders: 1, total_amount: 16 },
    ]);

    const letters = await queryRows(plane, pipeline, true);
    const reasons = new Map(letters.map((l) => [JSON.parse(String(l['record']))['order_id'] as string, l['reject_reason']]));
    expect(Object.fromEntries(reasons)).toEqual({ bad1: 'malformed amount: not a double', u1: 'unknown restaurant r9' });
  });
});
