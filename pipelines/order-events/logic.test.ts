import { describe, expect, it } from 'vitest';
import { Pipeline } from '../schema';
import { fixture, runPipeline } from '../sql-harness';
import { pipeline as spec } from './pipeline';

const pipeline = Pipeline.parse(spec);
const input = { records: fixture(__dirname, 'orders.jsonl'), references: { restaurants: fixture(__dirname, 'restaurants.csv') } };

describe(`${pipeline.name} logic`, () => {
  it('counts orders and sums amounts per city and minute of event time', async () => {
    const { output } = await runPipeline(pipeline, input);
    expect(output).toEqual([
      // o1 12.5 (r1) + o2 7.25 (r3, 10:00:59.999 is still the first minute)
      { window_start: '2024-05-01 10:00:00', city: 'Berlin', orders: 2, total_amount: 19.75 },
      // o3 20 (r2, listed twice in the reference table, counted once)
      { window_start: '2024-05-01 10:00:00', city: 'Hamburg', orders: 1, total_amount: 20 },
      // o4 3.10 + o8 0 (the lower bound of amount)
      { window_start: '2024-05-01 10:01:00', city: 'Berlin', orders: 2, total_amount: 3.1 },
    ]);
  });

  it('sends unparseable, incomplete, negative and unenrichable events to the dead letters with the reason', async () => {
    const { rejects } = await runPipeline(pipeline, input);
    expect(rejects).toEqual([
      { record: '{"order_id":"o7","restaurant_id":"r1","amount":-1,"event_time":"2024-05-01T10:01:30Z"}', reason: 'amount below 0' },
      { record: '{"order_id":"o9","amount":5,"event_time":"2024-05-01T10:01:50Z"}', reason: 'missing restaurant_id' },
      { record: '{"order_id":"o10","restaurant_id":"r1","amount":5}', reason: 'missing event_time' },
      { record: '{"restaurant_id":"r1","amount":5,"event_time":"2024-05-01T10:01:55Z"}', reason: 'missing order_id' },
      { record: '{"order_id":"o11","restaurant_id":"r2","amount":"5 EUR","event_time":"2024-05-01T10:01:56Z"}', reason: 'malformed amount: not a double' },
      { record: '{"order_id":"o12",', reason: 'unparseable JSON' },
      { record: '"just a string"', reason: 'unparseable JSON' },
      // Rejected by enrich.sql: the record is the step's row, as Spark's to_json writes it.
      {
        record: '{"order_id":"o5","restaurant_id":"r9","amount":5,"event_time":"2024-05-01T10:01:10.000Z","window_start":"2024-05-01T10:01:00.000Z"}',
        reason: 'unknown restaurant r9',
      },
      // r4 is listed, but without a city.
      {
        record: '{"order_id":"o6","restaurant_id":"r4","amount":5,"event_time":"2024-05-01T10:01:20.000Z","window_start":"2024-05-01T10:01:00.000Z"}',
        reason: 'unknown restaurant r4',
      },
    ]);
  });

  it('rejects every order when the reference table is empty, and summarizes none', async () => {
    const { output, rejects } = await runPipeline(pipeline, { records: input.records.slice(0, 2), references: { restaurants: ['restaurant_id,city'] } });
    expect(output).toEqual([]);
    expect(rejects.map((r) => r.reason)).toEqual(['unknown restaurant r1', 'unknown restaurant r3']);
  });
});
