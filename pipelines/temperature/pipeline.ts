import type { PipelineInput } from '../schema';

/** Weather-station readings from Kafka, aggregated per station and year into Parquet on HDFS. */
export const pipeline = {
  name: 'temperature',
  description: 'Mean and mode of temperature readings per station and year, every 10 seconds, as Parquet on HDFS.',
  kind: 'streaming',
  triggerSeconds: 10,
  source: { type: 'kafka', topic: 'temperature', format: 'json' },
  schema: [
    { name: 'station', type: 'string' },
    { name: 'measured_at', type: 'timestamp' },
    { name: 'temperature', type: 'double' },
  ],
  quality: {
    required: ['station', 'measured_at', 'temperature'],
    // The lowest and highest temperatures ever measured on Earth, with a margin: anything outside is a broken sensor.
    ranges: [{ field: 'temperature', min: -90, max: 60 }],
  },
  steps: ['frequencies.sql', 'statistics.sql'],
  // The stream keeps how often each temperature was read per station and year, not the readings themselves.
  state: { merge: { occurrences: 'sum' } },
  sink: { type: 'hdfs', path: '/data/temperature', partitionBy: ['station', 'year'] },
  rejects: { type: 'kafka', topic: 'temperature.dlq' },
  spark: { prod: { executorInstances: 6 } },
  topics: { partitions: { prod: 12 } },
  alerts: { staleAfterMinutes: 15 },
} satisfies PipelineInput;
