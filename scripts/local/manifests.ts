/**
 * What the local data plane takes from the manifests: each pipeline's chart is rendered by the same code as
 * `npm run synth` (PipelineChart), and its KafkaTopics, KafkaUser and Spark application are read from the result, so
 * the local topics, users, ACLs and job description can never drift from what Argo CD applies.
 */
import { App } from 'cdk8s';
import type { Environment } from '../../environments/schema';
import type { LoadedPipeline } from '../../pipelines/load';
import { jobOfArguments, type JobSpec } from '../../pipelines/job-spec';
import { PipelineChart } from '../../k8s/charts/pipeline-chart';
import { HdfsChart, PIPELINE_DIRECTORIES_JOB } from '../../k8s/charts/hdfs-chart';

/** A rendered object, as loosely typed as the parts read here need. */
interface KubeObject {
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly spec?: any;
}

/** One Kafka topic to create. */
export interface PlannedTopic {
  readonly name: string;
  readonly partitions: number;
  readonly replicas: number;
  readonly config: Readonly<Record<string, string>>;
}

/** One ACL entry, in the KafkaUser's own terms (Strimzi's `spec.authorization.acls`). */
export interface PlannedAcl {
  readonly resource: { readonly type: string; readonly name: string; readonly patternType: string };
  readonly operations: readonly string[];
}

/** One SCRAM user and what it may do. */
export interface PlannedUser {
  readonly name: string;
  readonly password: string;
  readonly acls: readonly PlannedAcl[];
}

/** Everything the local broker must hold for an environment's pipelines. */
export interface KafkaPlan {
  readonly topics: readonly PlannedTopic[];
  readonly users: readonly PlannedUser[];
}

/** The parts of a SparkApplication (or a ScheduledSparkApplication's template) that spark-submit needs. */
export interface SparkApplicationSpec {
  readonly mainApplicationFile: string;
  readonly arguments: readonly string[];
  readonly sparkConf: Readonly<Record<string, string>>;
  readonly hadoopConf: Readonly<Record<string, string>>;
  readonly driver: { readonly env?: ReadonlyArray<{ readonly name: string; readonly value?: string }> };
}

/** The rendered objects of one pipeline's chart in an environment. */
export function pipelineObjects(env: Environment, pipelines: readonly LoadedPipeline[], pipeline: LoadedPipeline): KubeObject[] {
  return new PipelineChart(new App(), `${env.name}-pipeline-${pipeline.name}`, { env, pipelines, pipeline }).toJson() as KubeObject[];
}

/**
 * The topics and users of every pipeline, as their manifests declare them. One local broker holds each partition
 * once, so replicas and min.insync.replicas become 1: sizing, the one thing the local plane changes here.
 * `password(user)` gives each user's SCRAM password (the operator generates them on the cluster).
 */
export function kafkaPlan(env: Environment, pipelines: readonly LoadedPipeline[], password: (user: string) => string): KafkaPlan {
  const objects = pipelines.flatMap((pipeline) => pipelineObjects(env, pipelines, pipeline));
  const topics = objects
    .filter((o) => o.kind === 'KafkaTopic')
    .map((o) => ({
      name: o.metadata.name,
      partitions: o.spec.partitions as number,
      replicas: 1,
      config: { ...Object.fromEntries(Object.entries(o.spec.config ?? {}).map(([key, value]) => [key, String(value)])), 'min.insync.replicas': '1' },
    }));
  const users = objects
    .filter((o) => o.kind === 'KafkaUser')
    .map((o) => {
      if (o.spec.authentication?.type !== 'scram-sha-512') throw new Error(`KafkaUser ${o.metadata.name}: the local broker knows SCRAM-SHA-512 users only, got ${o.spec.authentication?.type}`);
      return { name: o.metadata.name, password: password(o.metadata.name), acls: (o.spec.authorization?.acls ?? []) as PlannedAcl[] };
    });
  return { topics, users };
}

/** The pipeline's Spark application as rendered: a streaming SparkApplication or a batch's scheduled template. */
export function sparkApplication(env: Environment, pipelines: readonly LoadedPipeline[], pipeline: LoadedPipeline): SparkApplicationSpec {
  const objects = pipelineObjects(env, pipelines, pipeline);
  const application = objects.find((o) => o.kind === 'SparkApplication')?.spec ?? objects.find((o) => o.kind === 'ScheduledSparkApplication')?.spec?.template;
  if (!application) throw new Error(`pipeline '${pipeline.name}' renders no SparkApplication or ScheduledSparkApplication`);
  return {
    mainApplicationFile: application.mainApplicationFile,
    arguments: application.arguments ?? [],
    sparkConf: application.sparkConf ?? {},
    hadoopConf: application.hadoopConf ?? {},
    driver: application.driver ?? {},
  };
}

/** The job description the application passes to the runtime (`--job <json>`). */
export function jobOf(application: SparkApplicationSpec): JobSpec {
  const job = jobOfArguments(application.arguments);
  if (job === undefined) throw new Error(`the Spark application passes no --job argument: ${application.arguments.join(' ')}`);
  return job;
}

/**
 * The `hdfs dfs` commands of the Job that creates the pipelines' HDFS directories, as the hdfs chart renders it: the
 * arguments of each line of its script that runs `hdfs dfs`. None when no pipeline needs a directory.
 */
export function hdfsDirectoryCommands(env: Environment, pipelines: readonly LoadedPipeline[]): string[][] {
  const objects = new HdfsChart(new App(), `${env.name}-hdfs`, { env, pipelines }).toJson() as KubeObject[];
  const job = objects.find((o) => o.kind === 'Job' && o.metadata.name === PIPELINE_DIRECTORIES_JOB);
  if (!job) return [];
  const command: string[] = job.spec.template.spec.containers[0].command;
  const script = command[command.length - 1] ?? '';
  const lines = script.split('\n').filter((line) => line.startsWith('hdfs dfs '));
  if (lines.length === 0) throw new Error(`Job ${PIPELINE_DIRECTORIES_JOB} runs no 'hdfs dfs' command: ${script}`);
  return lines.map((line) => line.slice('hdfs dfs '.length).split(' '));
}
