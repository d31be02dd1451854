import { z } from 'zod';

/** Buckets a pipeline may read from or write to; the others (artifacts, checkpoints, logs) are the platform's. */
export const DATA_BUCKETS = ['raw', 'curated'] as const;

const KafkaTopic = z.strictObject({
  type: z.literal('kafka'),
  // Kafka allows [a-zA-Z0-9._-]; upper case is refused because topic names become Kubernetes object names.
  topic: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,200}$/, 'must be a Kafka topic name: lower-case letters, digits, dots, dashes and underscores'),
});

const BucketPrefix = z.strictObject({
  type: z.literal('s3'),
  bucket: z.enum(DATA_BUCKETS),
  prefix: z.string().regex(/^([a-z0-9][a-z0-9._=-]*\/)+$/, "must be a key prefix such as 'sales/daily/': lower-case path segments, each ending in '/'"),
});

const HdfsPath = z.strictObject({
  type: z.literal('hdfs'),
  path: z.string().regex(/^(\/[a-z0-9][a-z0-9._=-]*)+$/, "must be an absolute HDFS path such as '/data/temperature'"),
});

const LOCATION_RULE = "must be a location: { type: 'kafka', topic }, { type: 's3', bucket, prefix } or { type: 'hdfs', path }";
const Location = z.discriminatedUnion('type', [KafkaTopic, BucketPrefix, HdfsPath], { error: LOCATION_RULE });

/** A Kafka topic, a prefix in one of the data buckets, or an HDFS path. */
export type Location = z.infer<typeof Location>;

/**
 * One data pipeline, as declared in `pipelines/<name>/pipeline.ts`. Everything the platform builds for
 * it (topics, Kafka user, Spark application, IAM role, alerts) is derived from this spec.
 */
export const Pipeline = z.strictObject({
  // The name becomes part of IAM role, service account and Kubernetes object names, hence the strict form.
  name: z.string().regex(/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/, 'must be 2-32 lower-case letters, digits and dashes, starting with a letter'),
  description: z.string().min(1, 'must say in a sentence what the pipeline does'),
  kind: z.enum(['streaming', 'batch']),
  sources: z.array(Location).min(1, 'must list at least one source'),
  sinks: z.array(Location).min(1, 'must list at least one sink'),
  // Rows that fail parsing or the quality rules go here with the reason, never silently away.
  rejects: z.discriminatedUnion('type', [KafkaTopic, BucketPrefix], {
    error: "must be a dead-letter location: { type: 'kafka', topic } or { type: 's3', bucket, prefix }",
  }),
});

/** A validated pipeline spec. */
export type Pipeline = z.infer<typeof Pipeline>;

/** What a `pipelines/<name>/pipeline.ts` file declares, before validation. */
export type PipelineInput = z.input<typeof Pipeline>;
