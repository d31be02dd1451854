/**
 * The Spark release every pipeline runs, and the connector jars that Spark's distribution lacks. One list for the cluster
 * and the local engines: the manifests name these roots, and the toolchain locks their closure with checksums in
 * pipelines/runtime/jars.lock.tsv (`npm run toolchain -- --lock`), which the local Spark puts on its classpath.
 */

/** 4.2 is the newest release line; its Hadoop client (3.5.0) is the HDFS release the platform runs. */
export const SPARK_VERSION = '4.2.0';

/** Maven roots of the connectors, by what they connect to. */
export const CONNECTORS = {
  /** S3A, with the AWS SDK v2 bundle it was built with; its version is the Hadoop client's in Spark's distribution. */
  s3: 'org.apache.hadoop:hadoop-aws:3.5.0',
  /** The Structured Streaming Kafka source and sink, with the Kafka client it was built with. */
  kafka: `org.apache.spark:spark-sql-kafka-0-10_2.13:${SPARK_VERSION}`,
} as const;
