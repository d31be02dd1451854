import { describe, expect, it } from 'vitest';
import { Pipeline } from '../schema';
import { fixture, runPipeline } from '../sql-harness';
import { pipeline as spec } from './pipeline';

const pipeline = Pipeline.parse(spec);
const file = fixture('daily-sales', 'sales_20240501.csv');

describe('daily-sales logic', () => {
  it('sums amounts and counts transactions per store and day, over the valid rows only', async () => {
    const { output } = await runPipeline(pipeline, { records: file });
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
    const { rejects } = await runPipeline(pipeline, { records: file });
    expect(rejects).toEqual([
      { record: 't5,,2024-05-01,3.00', reason: 'missing store_id' },
      { record: 't6,s2,2024-05-01,', reason: 'missing amount' },
      { record: 't7,s2,2024-05-01,12,50', reason: 'malformed CSV line' },
      { record: 't8,s2,2024-05-01,twelve', reason: 'malformed amount: not a double' },
      { record: 't9,s2,05/01/2024,12', reason: 'malformed sale_date: not a date' },
      { record: 't10,s3,2024-05-01', reason: 'malformed CSV line' },
      { record: '"t11","s2","2024-05-01","1,000.00"', reason: 'malformed amount: not a double' },
      { record: '"t14,s1,2024-05-01,1', reason: 'malformed CSV line' },
      { record: 't15,s1,,1', reason: 'missing sale_date' },
    ]);
  });

  it('gives the same result on a re-run of the same file', async () => {
    expect(await runPipeline(pipeline, { records: file })).toEqual(await runPipeline(pipeline, { records: file }));
  });

  it('refuses a file whose header does not name the schema fields in order', async () => {
    await expect(runPipeline(pipeline, { records: ['store_id,transaction_id,sale_date,amount', 's1,t1,2024-05-01,1'] })).rejects.toThrow(
      "the CSV header must be 'transaction_id,store_id,sale_date,amount', got 'store_id,transaction_id,sale_date,amount'",
    );
  });
});
