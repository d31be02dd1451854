import { describe, expect, it } from 'vitest';
import { Pipeline } from '../schema';
import { fixture, runPipeline } from '../sql-harness';
import { FIXTURE_REJECTS } from './expected';
import { pipeline as spec } from './pipeline';

const pipeline = Pipeline.parse(spec);
const file = fixture(__dirname, 'sales_20240501.csv');

describe(`${pipeline.name} logic`, () => {
  it('sums amounts and counts transactions per store and day, over the valid rows only', async () => {
    const { output } = await runPipeline(pipeline, { records: file, runDate: '2024-05-01' });
    expect(output).toEqual([
      // t1 10.50 + t2 4.25 + t4 0.10
      { store_id: 's1', sale_date: '2024-05-01', total_amount: 14.85, transactions: 3 },
      // t3 100 + t13 -5 (a refund)
      { store_id: 's2', sale_date: '2024-05-01', total_amount: 95, transactions: 2 },
      // t12, quoted fields
      { store_id: 's3', sale_date: '2024-05-01', total_amount: 7.25, transactions: 1 },
    ]);
  });

  it('routes rows without store_id or amount, malformed values and malformed lines to the errors, with the reason', async () => {
    const { rejects } = await runPipeline(pipeline, { records: file, runDate: '2024-05-01' });
    expect(rejects).toEqual(FIXTURE_REJECTS);
  });

  it('gives the same result on a re-run of the same file', async () => {
    expect(await runPipeline(pipeline, { records: file, runDate: '2024-05-01' })).toEqual(await runPipeline(pipeline, { records: file, runDate: '2024-05-01' }));
  });

  it('refuses a file whose header does not name the schema fields in order', async () => {
    await expect(runPipeline(pipeline, { records: ['store_id,transaction_id,sale_date,amount', 's1,t1,2024-05-01,1'], runDate: '2024-05-01' })).rejects.toThrow(
      "the CSV header must be 'transaction_id,store_id,sale_date,amount', got 'store_id,transaction_id,sale_date,amount'",
    );
  });
});

describe(`${pipeline.name} safety`, () => {
  it("routes sales of another day to the errors, so a run never overwrites another day's totals with a fragment", async () => {
    const lines = ['transaction_id,store_id,sale_date,amount', 'a1,s1,2024-05-01,10.00', 'a2,s1,2024-04-30,99.00', 'a3,s2,2024-05-01,5.50'];
    const { output, rejects } = await runPipeline(pipeline, { records: lines, runDate: '2024-05-01' });
    expect(output).toEqual([
      { store_id: 's1', sale_date: '2024-05-01', total_amount: 10, transactions: 1 },
      { store_id: 's2', sale_date: '2024-05-01', total_amount: 5.5, transactions: 1 },
    ]);
    // The step's row as JSON (number formatting is the engine's, so compare the parsed values).
    expect(rejects.map((r) => ({ row: JSON.parse(r.record as string), reason: r.reason }))).toEqual([
      { row: { transaction_id: 'a2', store_id: 's1', sale_date: '2024-04-30', amount: 99 }, reason: 'sale_date is not the day of the file' },
    ]);
  });

  it('needs the run date, as the runtime always has it', async () => {
    await expect(runPipeline(pipeline, { records: ['transaction_id,store_id,sale_date,amount'] })).rejects.toThrow('a batch pipeline needs runDate');
  });
});
