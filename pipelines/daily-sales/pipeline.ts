import type { PipelineInput } from '../schema';

/** Point-of-sale CSV files from the raw bucket, summed per store and day into the curated bucket. */
export const pipeline = {
  name: 'daily-sales',
  description: 'Daily sales per store from the POS files of the day, as Parquet partitions in the curated bucket.',
  kind: 'batch',
  sources: [{ type: 's3', bucket: 'raw', prefix: 'sales/' }],
  sinks: [{ type: 's3', bucket: 'curated', prefix: 'daily-sales/' }],
  rejects: { type: 's3', bucket: 'curated', prefix: 'errors/daily-sales/' },
} satisfies PipelineInput;
