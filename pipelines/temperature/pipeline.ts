import type { PipelineInput } from '../schema';

/** Weather-station readings from Kafka, aggregated per station and year into Parquet on HDFS. */
export const pipeline = {
  name: 'temperature',
  description: 'Mean and mode of temperature readings per station and year, every 10 seconds, as Parquet on HDFS.',
  kind: 'streaming',
  sources: [{ type: 'kafka', topic: 'temperature' }],
  sinks: [{ type: 'hdfs', path: '/data/temperature' }],
  rejects: { type: 'kafka', topic: 'temperature.dlq' },
} satisfies PipelineInput;
