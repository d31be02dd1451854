import { artifactsPrefix, SPARK_EVENT_LOG_PREFIX, type BucketPurpose } from '../environments/naming';
import type { Pipeline } from './schema';

/** A key prefix in one of the environment's buckets. */
export interface BucketPrefix {
  readonly bucket: BucketPurpose;
  readonly prefix: string;
}

/** What a pipeline's Spark job touches in S3: `write` prefixes are also read (output committers list and rename). */
export interface StorageAccess {
  readonly read: readonly BucketPrefix[];
  readonly write: readonly BucketPrefix[];
}

/**
 * Exactly the S3 prefixes a pipeline needs, derived from its spec: its S3 source and reference tables (read),
 * its S3 sink and dead-letter prefix (write), its own code (read) and the shared
 * Spark event log prefix (write, so the History Server can show every run). Nothing else: checkpoints are in HDFS.
 */
export function storageAccess(pipeline: Pipeline): StorageAccess {
  const s3 = (locations: ReadonlyArray<{ type: string; bucket?: BucketPurpose; prefix?: string }>) =>
    locations.flatMap((l) => (l.type === 's3' && l.bucket !== undefined && l.prefix !== undefined ? [{ bucket: l.bucket, prefix: l.prefix }] : []));
  return {
    read: [...s3([pipeline.source, ...(pipeline.references ?? [])]), { bucket: 'artifacts', prefix: artifactsPrefix(pipeline.name) }],
    write: [
      ...s3([pipeline.sink, pipeline.rejects]),
      { bucket: 'logs', prefix: SPARK_EVENT_LOG_PREFIX },
    ],
  };
}
