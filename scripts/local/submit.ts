/**
 * A pipeline's Spark application, as rendered for the cluster, turned into a `spark-submit` against the local engines.
 * The job description, the Spark and Hadoop settings and the main file are the manifest's; exactly these differ, each
 * for one reason (LOCAL_OVERRIDES, also in the README):
 */
import type { JobSpec } from '../../pipelines/job-spec';
import type { SparkApplicationSpec } from './manifests';
import { jobOf } from './manifests';
import { LOCAL_AWS_CREDENTIALS } from './s3';

/** What the local plane changes in a pipeline's application, and why: endpoints, credentials, sizing. */
export const LOCAL_OVERRIDES = [
  ['endpoints', 'the Kafka bootstrap address in the job, the S3A endpoint (path-style, plain HTTP to the emulator), and the namenode address behind the HDFS nameservice'],
  ['credentials', "the Kafka user's password and the local CA file (Strimzi's Secrets on the cluster), and test AWS keys in the environment (the pod's identity on the cluster)"],
  ['sizing', "Spark in local mode with the given cores and driver memory instead of executors (the manifest's shuffle partitions stay); the connector jars from the toolchain's cache (the ones the pipeline image holds) on the class path"],
] as const;

/** The local engines' addresses and the pipeline's credentials. */
export interface LocalEndpoints {
  readonly kafkaBootstrap: string;
  readonly kafkaCaFile: string;
  readonly s3Endpoint: string;
  /** `127.0.0.1:<port>` of the namenode's RPC. */
  readonly namenode: string;
}

/** How to run the pipeline locally. */
export interface LocalSubmission {
  readonly args: string[];
  /** The Spark settings of `args`, for a session started without spark-submit (a query). */
  readonly conf: Readonly<Record<string, string>>;
  readonly env: Record<string, string>;
  readonly job: JobSpec;
}

/** Builds the spark-submit arguments and environment for the pipeline's application. */
export function localSubmission(
  application: SparkApplicationSpec,
  options: {
    readonly endpoints: LocalEndpoints;
    readonly kafkaUser?: { readonly username: string; readonly password: string };
    readonly jars: readonly string[];
    readonly python: string;
    readonly cores: number;
    readonly driverMemoryMiB: number;
    /** Spark's scratch space (shuffle files, spilled blocks). */
    readonly scratchDir: string;
    readonly date?: string;
  },
): LocalSubmission {
  const manifestJob = jobOf(application);
  const job: JobSpec = { ...manifestJob, kafka: { ...manifestJob.kafka, bootstrapServers: options.endpoints.kafkaBootstrap, caFile: options.endpoints.kafkaCaFile } };
  const conf: Record<string, string> = {};
  for (const [key, value] of Object.entries(application.sparkConf)) conf[key] = value;
  for (const [key, value] of Object.entries(application.hadoopConf)) conf[`spark.hadoop.${key}`] = value;
  for (const key of Object.keys(application.hadoopConf)) {
    if (key.startsWith('dfs.namenode.rpc-address.')) conf[`spark.hadoop.${key}`] = options.endpoints.namenode;
  }
  Object.assign(conf, {
    'spark.hadoop.fs.s3a.endpoint': options.endpoints.s3Endpoint,
    'spark.hadoop.fs.s3a.path.style.access': 'true',
    'spark.hadoop.fs.s3a.connection.ssl.enabled': 'false',
    'spark.driver.memory': `${options.driverMemoryMiB}m`,
    'spark.local.dir': options.scratchDir,
    'spark.driver.extraJavaOptions': `-Djava.io.tmpdir=${options.scratchDir}`,
    'spark.ui.enabled': 'false',
    // One executor in local mode: locality means nothing, and local mode never re-offers slots to tasks held back for
    // locality, so a stage whose tasks prefer another host (an HDFS block's 127.0.0.1) waited forever.
    'spark.locality.wait': '0s',
    // On the JVM's own class path, as in the image's /opt/spark/jars: spark-submit itself reads the s3a:// main file.
    'spark.driver.extraClassPath': options.jars.join(':'),
  });
  const args = [
    '--master',
    `local[${options.cores}]`,
    '--name',
    `driftless-${job.pipeline}`,
    ...Object.entries(conf)
      .sort(([a], [b]) => a.localeCompare(b))
      .flatMap(([key, value]) => ['--conf', `${key}=${value}`]),
    application.mainApplicationFile,
    '--job',
    JSON.stringify(job),
    ...(options.date ? ['--date', options.date] : []),
  ];
  // The values the manifest sets on the driver (HADOOP_USER_NAME: the pipeline's HDFS user); secrets are added below.
  const literal = Object.fromEntries((application.driver.env ?? []).flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])));
  const env: Record<string, string> = {
    ...literal,
    PYSPARK_PYTHON: options.python,
    // Spark binds to the loopback interface, like every local engine.
    SPARK_LOCAL_IP: '127.0.0.1',
    PYSPARK_DRIVER_PYTHON: options.python,
    AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
    ...(options.kafkaUser ? { [job.kafka.usernameEnv]: options.kafkaUser.username, [job.kafka.passwordEnv]: options.kafkaUser.password } : {}),
  };
  return { args, conf, env, job };
}
