/**
 * Rules for the Spark applications this repository defines: they run the environment's pipeline image
 * (pipelines/runtime/Dockerfile), which holds every connector, so that no pod depends on a public repository when it
 * starts; and their read-only root keeps a writable working directory, where Spark puts the job's files.
 */
import { jobOfArguments } from '../../pipelines/job-spec';
import { pipelineImage, SPARK_WORK_DIR } from '../../pipelines/runtime/image';
import type { KubeObject, ManifestRule } from './rule';

const SPARK_KINDS = ['SparkApplication', 'ScheduledSparkApplication'] as const;

/** Spark settings that make a pod resolve or fetch jars when it starts. */
const DOWNLOAD_SETTINGS = ['spark.jars.packages', 'spark.jars.repositories', 'spark.jars.ivy', 'spark.jars.ivySettings'];

const specOf = (object: KubeObject): Record<string, any> | undefined => (object.kind === 'ScheduledSparkApplication' ? object['spec']?.template : object['spec']);

export const noDownloadsAtStart: ManifestRule = {
  id: 'DL-SPARK-001',
  severity: 'error',
  target: 'manifest',
  kinds: SPARK_KINDS,
  description: 'No Spark application downloads jars when it starts: the connectors are in the pipeline image.',
  hint: 'Remove spark.jars.packages (and its repositories and Ivy settings) and deps; add a connector to pipelines/runtime/spark.ts and re-lock, which puts it in the image.',
  check: (object) => {
    const spec = specOf(object) ?? {};
    const conf: Record<string, string> = spec.sparkConf ?? {};
    const remote = (conf['spark.jars'] ?? '').split(',').filter((jar) => /^(https?|s3a?|hdfs):/.test(jar.trim()));
    return [
      ...DOWNLOAD_SETTINGS.filter((key) => conf[key] !== undefined).map((key) => `sets ${key}, so its pods resolve and download jars when they start`),
      ...remote.map((jar) => `puts the remote jar ${jar.trim()} on spark.jars, downloaded when its pods start`),
      ...(['jars', 'packages', 'repositories'] as const).filter((key) => (spec.deps?.[key]?.length ?? 0) > 0).map((key) => `lists deps.${key}, downloaded when its pods start`),
    ];
  },
};

export const runsPipelineImage: ManifestRule = {
  id: 'DL-SPARK-002',
  severity: 'error',
  target: 'manifest',
  kinds: SPARK_KINDS,
  description: "Every Spark application runs the environment's pipeline image, at the tag its content gives it.",
  hint: "Set the image with pipelineImage(env) from pipelines/runtime/image.ts; don't name another image for a driver or an executor.",
  check: (object, { env }) => {
    const spec = specOf(object) ?? {};
    const expected = pipelineImage(env);
    const images: Array<[string, unknown]> = [['the application', spec.image], ['the driver', spec.driver?.image], ['the executor', spec.executor?.image]];
    return images.filter(([, image], index) => (index === 0 ? image !== expected : image !== undefined && image !== expected)).map(([who, image]) => `${who} runs ${String(image)}, not the pipeline image ${expected}`);
  },
};

export const writableWorkDir: ManifestRule = {
  id: 'DL-SPARK-003',
  severity: 'error',
  target: 'manifest',
  kinds: SPARK_KINDS,
  description: `Spark drivers and executors keep a read-only root filesystem with a writable volume on Spark's working directory (${SPARK_WORK_DIR}).`,
  hint: `Mount an emptyDir at ${SPARK_WORK_DIR} in the driver and the executor, and keep readOnlyRootFilesystem: true.`,
  check: (object) => {
    const spec = specOf(object) ?? {};
    const volumes = new Map<string, any>((spec.volumes ?? []).map((v: any) => [v.name, v]));
    return (['driver', 'executor'] as const).flatMap((role) => {
      const pod = spec[role] ?? {};
      const mount = (pod.volumeMounts ?? []).find((m: any) => m.mountPath === SPARK_WORK_DIR);
      const problems: string[] = [];
      if (pod.securityContext?.readOnlyRootFilesystem !== true) problems.push(`the ${role} has a writable root filesystem`);
      if (mount === undefined) problems.push(`the ${role} mounts no volume at ${SPARK_WORK_DIR}, where Spark writes the job's files`);
      else if (mount.readOnly === true || volumes.get(mount.name)?.emptyDir === undefined) problems.push(`the ${role}'s ${SPARK_WORK_DIR} is not a writable emptyDir`);
      return problems;
    });
  },
};

export const atomicCheckpoints: ManifestRule = {
  id: 'DL-SPARK-004',
  severity: 'error',
  target: 'manifest',
  kinds: ['SparkApplication'],
  description: 'A stream keeps its checkpoint in HDFS, where the rename by which Spark commits each batch is atomic (on S3 it is a copy and a delete).',
  hint: 'Leave checkpointUri to pipelines/job-spec.ts (hdfs://<cluster>/driftless/checkpoints/<pipeline>).',
  check: (object) => {
    const job = jobOfArguments((specOf(object) ?? {}).arguments);
    if (job === undefined || job.kind !== 'streaming') return [];
    const uri = job.checkpointUri;
    return typeof uri === 'string' && uri.startsWith('hdfs://') ? [] : [`checkpoints to ${String(uri)}, where renames are not atomic`];
  },
};

export const sizedShuffles: ManifestRule = {
  id: 'DL-SPARK-005',
  severity: 'error',
  target: 'manifest',
  kinds: SPARK_KINDS,
  description: "Every Spark application sets its shuffle partitions from its sizing: Spark's 200 is wrong for most, and a stream keeps the number of its first start.",
  hint: "Set spark.sql.shuffle.partitions (pipeline-chart.ts does, from the environment's spark.shufflePartitions or the pipeline's own).",
  check: (object) => {
    const value = (specOf(object) ?? {}).sparkConf?.['spark.sql.shuffle.partitions'];
    return typeof value === 'string' && /^[1-9]\d*$/.test(value) ? [] : [`sets spark.sql.shuffle.partitions to ${String(value)}, not a positive whole number`];
  },
};

export const rollingEventLogs: ManifestRule = {
  id: 'DL-SPARK-006',
  severity: 'error',
  target: 'manifest',
  kinds: ['SparkApplication'],
  description: 'A stream that writes an event log rolls it: an S3 object appears only once closed, so an unrolled log of a stream that never ends is never seen, and is lost with its driver.',
  hint: 'Set spark.eventLog.rolling.enabled: true (spark-chart.ts sparkDefaults does).',
  check: (object) => {
    const conf: Record<string, string> = (specOf(object) ?? {}).sparkConf ?? {};
    return conf['spark.eventLog.enabled'] === 'true' && conf['spark.eventLog.rolling.enabled'] !== 'true' ? ['writes an event log that never rolls'] : [];
  },
};

export const SPARK_RULES: readonly ManifestRule[] = [noDownloadsAtStart, runsPipelineImage, writableWorkDir, atomicCheckpoints, sizedShuffles, rollingEventLogs];
