/**
 * The job description a pipeline's SparkApplication passes to the shared runtime (`--job <json>`):
 * the pipeline spec resolved for one environment (bucket names, addresses, the code version), so that
 * the runtime needs no other configuration and every change to it shows in the rendered manifest.
 */
import { bucketName, checkpointPath, HDFS_CLUSTER, jobCodePrefix, kafkaBootstrap } from '../environments/naming';
import type { Environment } from '../environments/schema';
import type { LoadedPipeline } from './load';
import { qualitySql } from './quality-sql';
import type { Pipeline } from './schema';

/** How the runtime authenticates to Kafka: SCRAM-SHA-512 over TLS, secrets from the environment of the pod. */
export interface KafkaConnection {
  readonly bootstrapServers: string;
  readonly usernameEnv: string;
  readonly passwordEnv: string;
  /** PEM file with the cluster CA that signed the brokers' certificates. */
  readonly caFile: string;
}

/** A Kafka topic (a sink's with the columns its messages are keyed by), an s3a:// URI or an hdfs:// URI. */
export type JobLocation =
  | { readonly type: 'kafka'; readonly topic: string; readonly key?: readonly string[] }
  | { readonly type: 's3' | 'hdfs'; readonly uri: string; readonly partitionBy?: readonly string[] };

/** What the runtime is told; see pipelines/README.md for what it does with it. */
export interface JobSpec {
  readonly pipeline: string;
  readonly kind: Pipeline['kind'];
  /** Folder with the job's SQL step files (and the runtime itself). */
  readonly codeUri: string;
  readonly source:
    | { readonly type: 'kafka'; readonly topic: string; readonly format: 'json' | 'csv'; readonly consumerGroup: string }
    | { readonly type: 's3'; readonly uri: string; readonly format: 'csv' | 'json' | 'parquet'; readonly file?: string };
  readonly references: ReadonlyArray<{ readonly as: string; readonly uri: string; readonly format: 'csv' | 'json' | 'parquet' }>;
  readonly fields: Pipeline['schema'];
  /** SELECT over the view `raw` (every field as text): typed fields plus `reject_reason`, NULL for a valid record. */
  readonly qualitySql: string;
  readonly steps: readonly string[];
  readonly window?: Pipeline['window'];
  /** Streams without a window: how the first step's rows merge with the state kept so far. */
  readonly state?: Pipeline['state'];
  readonly sink: JobLocation;
  readonly rejects: JobLocation;
  readonly triggerSeconds?: number;
  /** Streams only: their checkpoint, in HDFS (see checkpointPath). */
  readonly checkpointUri?: string;
  readonly kafka: KafkaConnection;
}

/** Environment variables and file through which the driver and executors get their Kafka credentials. */
export const KAFKA_CONNECTION = { usernameEnv: 'KAFKA_USERNAME', passwordEnv: 'KAFKA_PASSWORD', caFile: '/etc/kafka-ca/ca.crt' } as const;

/** The job description of a pipeline in an environment. */
export function jobSpec(env: Environment, pipeline: LoadedPipeline): JobSpec {
  const s3 = (bucket: 'raw' | 'curated', prefix: string) => `s3a://${bucketName(env, bucket)}/${prefix}`;
  const location = (l: Pipeline['sink'] | Pipeline['rejects']): JobLocation => {
    switch (l.type) {
      case 'kafka':
        return { type: 'kafka', topic: l.topic, ...('key' in l && l.key ? { key: l.key } : {}) };
      case 's3':
        return { type: 's3', uri: s3(l.bucket, l.prefix), ...('partitionBy' in l && l.partitionBy ? { partitionBy: l.partitionBy } : {}) };
      case 'hdfs':
        return { type: 'hdfs', uri: `hdfs://${HDFS_CLUSTER}${l.path}`, ...(l.partitionBy ? { partitionBy: l.partitionBy } : {}) };
    }
  };
  const source = pipeline.source;
  return {
    pipeline: pipeline.name,
    kind: pipeline.kind,
    codeUri: `s3a://${bucketName(env, 'artifacts')}/${jobCodePrefix(pipeline.name, pipeline.code.hash)}`,
    source:
      source.type === 'kafka'
        ? { type: 'kafka', topic: source.topic, format: source.format, consumerGroup: pipeline.name }
        : { type: 's3', uri: s3(source.bucket, source.prefix), format: source.format, ...(source.file ? { file: source.file } : {}) },
    references: (pipeline.references ?? []).map((r) => ({ as: r.as, uri: s3(r.bucket, r.prefix), format: r.format })),
    fields: pipeline.schema,
    qualitySql: qualitySql(pipeline),
    steps: pipeline.steps,
    ...(pipeline.window ? { window: pipeline.window } : {}),
    ...(pipeline.state ? { state: pipeline.state } : {}),
    sink: location(pipeline.sink),
    rejects: location(pipeline.rejects),
    ...(pipeline.triggerSeconds !== undefined ? { triggerSeconds: pipeline.triggerSeconds } : {}),
    ...(pipeline.kind === 'streaming' ? { checkpointUri: `hdfs://${HDFS_CLUSTER}${checkpointPath(pipeline.name)}` } : {}),
    kafka: { bootstrapServers: kafkaBootstrap(), ...KAFKA_CONNECTION },
  };
}

/** The job a Spark application passes to the runtime (`--job <json>` in its arguments), or undefined when it passes none. */
export function jobOfArguments(args: unknown): JobSpec | undefined {
  if (!Array.isArray(args)) return undefined;
  const at = args.indexOf('--job');
  const text: unknown = at >= 0 ? args[at + 1] : undefined;
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text) as JobSpec;
  } catch {
    return undefined;
  }
}
