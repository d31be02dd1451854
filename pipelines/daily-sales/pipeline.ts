import type { PipelineInput } from '../schema';

/** Point-of-sale CSV files from the raw bucket, summed per store and day into the curated bucket. */
export const pipeline = {
  name: 'daily-sales',
  description: 'Daily sales per store from the POS file of the day, as Parquet partitions in the curated bucket.',
  kind: 'batch',
  schedule: '0 2 * * *',
  source: { type: 's3', bucket: 'raw', prefix: 'sales/', format: 'csv', file: 'sales_{yyyymmdd}.csv' },
  schema: [
    { name: 'transaction_id', type: 'string' },
    { name: 'store_id', type: 'string' },
    { name: 'sale_date', type: 'date' },
    { name: 'amount', type: 'double' },
  ],
  quality: { required: ['store_id', 'amount', 'sale_date'], ranges: [] },
  steps: ['same-day.sql', 'daily-totals.sql'],
  // Re-running a day overwrites exactly that day's partition: runs are idempotent.
  sink: { type: 's3', bucket: 'curated', prefix: 'daily-sales/', partitionBy: ['sale_date'] },
  rejects: { type: 's3', bucket: 'curated', prefix: 'errors/daily-sales/' },
  alerts: { staleAfterMinutes: 26 * 60 },
} satisfies PipelineInput;
