import { z } from 'zod';
import { cronProblem } from './cron';

/** Buckets a pipeline may read from or write to; the others (artifacts, checkpoints, logs) are the platform's. */
export const DATA_BUCKETS = ['raw', 'curated'] as const;

const whole = (min: number, max: number) =>
  z.number().int('must be a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);

// Kafka allows more, but topic names become Kubernetes object names: lower-case, digits, dots and dashes.
const topic = z
  .string()
  .regex(/^[a-z0-9]+([.-][a-z0-9]+)*$/, 'must be a Kafka topic name of lower-case letters and digits, separated by single dots or dashes')
  .max(200, 'must be at most 200 characters');
const prefix = z.string().regex(/^([a-z0-9][a-z0-9._=-]*\/)+$/, "must be a key prefix such as 'sales/daily/': lower-case path segments, each ending in '/'");
const hdfsPath = z.string().regex(/^(\/[a-z0-9][a-z0-9._=-]*)+$/, "must be an absolute HDFS path such as '/data/temperature'");
// Column and view names: the lower-case snake_case that Spark SQL and DuckDB both accept unquoted.
const identifier = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be a lower-case identifier such as store_id');

const KafkaSource = z.strictObject({ type: z.literal('kafka'), topic, format: z.enum(['json', 'csv']) });
const BucketSource = z.strictObject({
  type: z.literal('s3'),
  bucket: z.enum(DATA_BUCKETS),
  prefix,
  format: z.enum(['csv', 'json', 'parquet']),
  /** Batch: the one file a run reads, `{yyyymmdd}` standing for the run's logical date (the day before it starts, UTC). */
  file: z.string().regex(/^[a-z0-9_.-]*\{yyyymmdd\}[a-z0-9_.-]*$/, "must be a file name containing {yyyymmdd}, such as 'sales_{yyyymmdd}.csv'").optional(),
});

const Reference = z.strictObject({
  type: z.literal('s3'),
  bucket: z.enum(DATA_BUCKETS),
  prefix,
  format: z.enum(['csv', 'json', 'parquet']),
  /** The view name the SQL steps read the reference table as. */
  as: identifier,
});

const partitionBy = z.array(identifier).optional();
const Sink = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('kafka'),
      topic,
      /**
       * The columns that identify a result row (a window's: `window_start` and what the last step groups by). Each
       * message is keyed by their JSON, so that a row sent again replaces itself in a compacted topic.
       */
      key: z.array(identifier).min(1, 'must name at least one column').optional(),
    }),
    z.strictObject({ type: z.literal('s3'), bucket: z.enum(DATA_BUCKETS), prefix, partitionBy }),
    z.strictObject({ type: z.literal('hdfs'), path: hdfsPath, partitionBy }),
  ],
  { error: "must be a sink: { type: 'kafka', topic }, { type: 's3', bucket, prefix } or { type: 'hdfs', path }" },
);

const Rejects = z.discriminatedUnion(
  'type',
  [z.strictObject({ type: z.literal('kafka'), topic }), z.strictObject({ type: z.literal('s3'), bucket: z.enum(DATA_BUCKETS), prefix })],
  { error: "must be a dead-letter location: { type: 'kafka', topic } or { type: 's3', bucket, prefix }" },
);

const Field = z.strictObject({ name: identifier, type: z.enum(['string', 'integer', 'double', 'date', 'timestamp']) });

const SparkSizing = z.strictObject({
  driverCores: whole(1, 64).optional(),
  driverMemoryMiB: whole(512, 262144).optional(),
  executorInstances: whole(1, 1000).optional(),
  executorCores: whole(1, 64).optional(),
  executorMemoryMiB: whole(512, 262144).optional(),
  executorCapacity: z.enum(['spot', 'on-demand']).optional(),
  shufflePartitions: whole(1, 100000).optional(),
});

// Keyed by environment name; the loader checks that each key names an environment in environments/.
const perEnvironment = <T extends z.ZodType>(value: T) => z.record(z.string(), value);

/**
 * One data pipeline, as declared in `pipelines/<name>/pipeline.ts`. Everything the platform builds for it
 * (topics, Kafka user, Spark application, IAM role, alerts) is derived from this spec. Rules that relate
 * several fields live in `rules.ts`.
 */
export const Pipeline = z.strictObject({
  // The name becomes part of IAM role, service account and Kubernetes object names, hence the strict form.
  name: z.string().regex(/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/, 'must be 2-32 lower-case letters, digits and dashes, starting with a letter'),
  description: z.string().min(1, 'must say in a sentence what the pipeline does'),
  kind: z.enum(['streaming', 'batch']),
  /** Streaming: how often a micro-batch runs. */
  triggerSeconds: whole(1, 3600).optional(),
  /** Batch: when the job runs, as a 5-field cron expression in UTC. */
  schedule: z.string().superRefine((value, ctx) => {
    const problem = cronProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  }).optional(),
  /** Where the records come from. */
  source: z.discriminatedUnion('type', [KafkaSource, BucketSource], {
    error: "must be a source: { type: 'kafka', topic, format } or { type: 's3', bucket, prefix, format }",
  }),
  /** Static tables the SQL joins with (read once per run or, for streams, at start). */
  references: z.array(Reference).optional(),
  /** The fields of each source record, in order (CSV columns, JSON properties). Parsed from text with these types. */
  schema: z.array(Field).min(1, 'must list the fields of the source records'),
  /** Records that break these rules go to `rejects` with the reason, never further. */
  quality: z.strictObject({
    required: z.array(identifier),
    ranges: z.array(z.strictObject({ field: identifier, min: z.number().optional(), max: z.number().optional() })),
  }),
  /** The transformation: SQL files in the pipeline's folder, applied in order (see pipelines/README.md). */
  steps: z.array(z.string().regex(/^[a-z0-9][a-z0-9-]*\.sql$/, "must be a .sql file name in the pipeline's folder, such as 'aggregate.sql'")).min(1, 'must list at least one SQL step'),
  /**
   * Streaming aggregation by event time: the runtime adds `window_start` = date_trunc(unit, column) for the SQL
   * to group by, counts a record whose event time is later than the latest of earlier micro-batches minus
   * `watermarkMinutes` (and drops any other), and finalizes a window once no record that counts can fall in it.
   */
  window: z.strictObject({ column: identifier, unit: z.enum(['minute', 'hour', 'day']), watermarkMinutes: whole(0, 10080) }).optional(),
  /**
   * Streams without a window: what the stream keeps instead of its records, so that a micro-batch costs work in
   * proportion to its own records. The first step turns a micro-batch's records into rows per key; `merge` says how
   * each measure column combines with the kept row of the same key, every other column is the key. The later steps
   * read the merged rows of the sink partitions that the micro-batch touched (see pipelines/README.md).
   */
  state: z.strictObject({ merge: z.record(identifier, z.enum(['sum', 'min', 'max'])) }).optional(),
  sink: Sink,
  rejects: Rejects,
  /** Spark sizing per environment, over the environment's defaults (`spark`); environments not named use those. */
  spark: perEnvironment(SparkSizing).optional(),
  /**
   * Partitions of the pipeline's Kafka topics per environment, over the environment's `kafka.topicPartitions`
   * (replicas and retention always follow the environment). Partitions can grow but never shrink.
   */
  topics: z.strictObject({ partitions: perEnvironment(whole(1, 1000)) }).optional(),
  alerts: z.strictObject({
    /** Records the consumer group may lag behind before someone is told. @default the environment's threshold */
    maxLag: whole(1, 1_000_000_000).optional(),
    /** Minutes without successful output before the pipeline counts as stale. */
    staleAfterMinutes: whole(1, 10080),
  }),
});

/** A validated pipeline spec. */
export type Pipeline = z.infer<typeof Pipeline>;

/** What a `pipelines/<name>/pipeline.ts` file declares, before validation. */
export type PipelineInput = z.input<typeof Pipeline>;
