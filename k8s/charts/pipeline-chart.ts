import type { Construct } from 'constructs';
import { KAFKA_CLUSTER, NAMESPACES, PIPELINE_HDFS_USER, pipelineServiceAccount } from '../../environments/naming';
import type { Environment } from '../../environments/schema';
import { RUNTIME_ENTRY } from '../../pipelines/job-code';
import { jobSpec, KAFKA_CONNECTION } from '../../pipelines/job-spec';
import type { LoadedPipeline } from '../../pipelines/load';
import type { Pipeline } from '../../pipelines/schema';
import { topicsOf } from '../../pipelines/rules';
import { KEEP_DATA } from '../argocd';
import { dashboard } from '../dashboards/grafana-dashboard';
import { ExternalSecret, ExternalSecretSpecSecretStoreRefKind } from '../imports/external-secrets.io';
import {
  KafkaTopic,
  KafkaUser,
  KafkaUserSpecAuthenticationType,
  KafkaUserSpecAuthorizationAclsOperations as Operation,
  KafkaUserSpecAuthorizationAclsResourcePatternType as PatternType,
  KafkaUserSpecAuthorizationAclsResourceType as ResourceType,
  KafkaUserSpecAuthorizationType,
} from '../imports/kafka.strimzi.io';
import { PrometheusRule, PrometheusRuleSpecGroupsRulesExpr } from '../imports/monitoring.coreos.com';
import {
  ScheduledSparkApplication,
  SparkApplication,
  SparkApplicationSpecMode,
  SparkApplicationSpecRestartPolicyType,
  SparkApplicationSpecType,
  SparkApplicationSpecVolumesEmptyDirSizeLimit,
  type ScheduledSparkApplicationSpecTemplate,
  type SparkApplicationSpec,
} from '../imports/sparkoperator.k8s.io';
import { k8s } from '../kube';
import { DASHBOARD_LABEL } from '../monitoring-wiring';
import { executorPlacement, nodeSelectorFor } from '../placement';
import { sparkSizing, topicPartitions } from '../sizing';
import { SPARK } from '../versions';
import { pipelineImage, SPARK_WORK_DIR } from '../../pipelines/runtime/image';
import type { EnvironmentChartProps } from './environment-chart';
import { EnvironmentChart } from './environment-chart';
import { hdfsClientConf } from './hdfs-chart';
import { KAFKA_CREDENTIALS_STORE, sparkDefaults } from './spark-chart';

/** Props of one pipeline's chart. */
export interface PipelineChartProps extends EnvironmentChartProps {
  /** The pipeline this chart renders. */
  readonly pipeline: LoadedPipeline;
}

/** Secret in NAMESPACES.pipelines with a pipeline's Kafka username, password and the cluster CA (see credentials()). */
/** How soon a keyed sink topic's segment closes and can be compacted: an hour. */
const KEYED_SEGMENT_MS = 3_600_000;

const isKeyedSink = (pipeline: LoadedPipeline, topic: string): boolean => pipeline.sink.type === 'kafka' && pipeline.sink.topic === topic && (pipeline.sink.key?.length ?? 0) > 0;

export const kafkaCredentialsSecret = (pipeline: string): string => `${pipeline}-kafka`;

const SPARK_UID = 185;


/**
 * `k8s/rendered/<env>/pipelines/<name>`: everything one pipeline runs on, derived from its spec:
 * its Kafka topics (never pruned: deleting a KafkaTopic deletes the topic's data), a Kafka user allowed exactly
 * its topics and consumer group, the credentials its pods read, the Spark application (streaming) or scheduled
 * application (batch) running the shared runtime on the job code the manifest pins by hash, its alerts and a dashboard.
 */
export class PipelineChart extends EnvironmentChart {
  constructor(scope: Construct, id: string, props: PipelineChartProps) {
    super(scope, id, props);
    const { env, pipeline } = props;
    const usesKafka = topicsOf(pipeline).length > 0;
    if (usesKafka) {
      this.addTopics(env, pipeline);
      this.addUser(pipeline);
      this.addCredentials(pipeline);
    }
    this.addApplication(env, pipeline, usesKafka);
    this.addAlerts(env, pipeline, usesKafka);
    this.addDashboard(pipeline, usesKafka);
  }

  private addTopics(env: Environment, pipeline: LoadedPipeline): void {
    for (const topic of topicsOf(pipeline)) {
      new KafkaTopic(this, `topic-${topic}`, {
        metadata: { name: topic, namespace: NAMESPACES.kafka, labels: { 'strimzi.io/cluster': KAFKA_CLUSTER }, annotations: KEEP_DATA },
        spec: {
          partitions: topicPartitions(env, pipeline),
          replicas: env.kafka.defaultReplicationFactor,
          config: {
            'retention.ms': env.kafka.retentionHours * 3_600_000,
            'min.insync.replicas': env.kafka.minInSyncReplicas,
            // A keyed sink sends a result again after a replay, under the same key: compaction keeps the last value
            // per key, so the topic itself holds one summary per key. Compaction works on closed segments only.
            ...(isKeyedSink(pipeline, topic) ? { 'cleanup.policy': 'compact,delete', 'segment.ms': KEYED_SEGMENT_MS } : {}),
          },
        },
      });
    }
  }

  private addUser(pipeline: LoadedPipeline): void {
    const topicAcl = (topic: string, operations: Operation[]) => ({
      resource: { type: ResourceType.TOPIC, name: topic, patternType: PatternType.LITERAL },
      operations,
    });
    const written = [pipeline.sink, pipeline.rejects].flatMap((l) => (l.type === 'kafka' ? [l.topic] : []));
    new KafkaUser(this, 'user', {
      metadata: { name: pipeline.name, namespace: NAMESPACES.kafka, labels: { 'strimzi.io/cluster': KAFKA_CLUSTER } },
      spec: {
        authentication: { type: KafkaUserSpecAuthenticationType.SCRAM_HYPHEN_SHA_HYPHEN_512 },
        // Exactly its own topics and consumer group: read the source, write the sink and the dead letters.
        authorization: {
          type: KafkaUserSpecAuthorizationType.SIMPLE,
          acls: [
            ...(pipeline.source.type === 'kafka' ? [topicAcl(pipeline.source.topic, [Operation.READ, Operation.DESCRIBE])] : []),
            ...written.map((topic) => topicAcl(topic, [Operation.WRITE, Operation.DESCRIBE])),
            ...(pipeline.source.type === 'kafka'
              ? [{ resource: { type: ResourceType.GROUP, name: pipeline.name, patternType: PatternType.LITERAL }, operations: [Operation.READ] }]
              : []),
          ],
        },
      },
    });
  }

  /**
   * Strimzi writes the user's password, and the cluster CA, as Secrets in the kafka namespace; pods can only
   * mount Secrets of their own. External Secrets copies exactly these two values, through a store whose
   * service account may read only the platform's Kafka credential Secrets (see the spark chart).
   */
  private addCredentials(pipeline: LoadedPipeline): void {
    new ExternalSecret(this, 'kafka-credentials', {
      metadata: { name: kafkaCredentialsSecret(pipeline.name), namespace: NAMESPACES.pipelines },
      spec: {
        refreshInterval: '1h',
        secretStoreRef: { name: KAFKA_CREDENTIALS_STORE, kind: ExternalSecretSpecSecretStoreRefKind.SECRET_STORE },
        target: { name: kafkaCredentialsSecret(pipeline.name), template: { data: { username: pipeline.name, password: '{{ .password }}', 'ca.crt': '{{ .ca }}' } } },
        data: [
          { secretKey: 'password', remoteRef: { key: pipeline.name, property: 'password' } },
          { secretKey: 'ca', remoteRef: { key: `${KAFKA_CLUSTER}-cluster-ca-cert`, property: 'ca.crt' } },
        ],
      },
    });
  }

  private addApplication(env: Environment, pipeline: LoadedPipeline, usesKafka: boolean): void {
    const job = jobSpec(env, pipeline);
    const size = sparkSizing(env, pipeline);
    const defaults = sparkDefaults(env);
    const credentials = kafkaCredentialsSecret(pipeline.name);
    // The restricted Pod Security Standard of the pipelines namespace, and nothing writable but /tmp.
    const securityContext = {
      runAsNonRoot: true,
      runAsUser: SPARK_UID,
      runAsGroup: SPARK_UID,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    };
    const kafkaEnv = usesKafka
      ? [
          { name: KAFKA_CONNECTION.usernameEnv, valueFrom: { secretKeyRef: { name: credentials, key: 'username' } } },
          { name: KAFKA_CONNECTION.passwordEnv, valueFrom: { secretKeyRef: { name: credentials, key: 'password' } } },
        ]
      : [];
    const hdfs = usesHdfs(pipeline);
    // HDFS (without Kerberos) takes the client's word for its user: name it, so that what the pipeline writes is owned
    // by the user its directories were created for, whatever the image's passwd file says.
    const hdfsEnv = hdfs ? [{ name: 'HADOOP_USER_NAME', value: PIPELINE_HDFS_USER }] : [];
    const mounts = [
      { name: 'tmp', mountPath: '/tmp' },
      // Spark's working directory (the image's WORKDIR): executors fetch the job's files there, under a read-only root.
      { name: 'work-dir', mountPath: SPARK_WORK_DIR },
      ...(usesKafka ? [{ name: 'kafka-ca', mountPath: KAFKA_CONNECTION.caFile.replace(/\/[^/]+$/, ''), readOnly: true }] : []),
    ];
    const pod = {
      serviceAccount: pipelineServiceAccount(pipeline.name),
      labels: { 'driftless.io/pipeline': pipeline.name },
      securityContext,
      podSecurityContext: { runAsNonRoot: true, runAsUser: SPARK_UID, fsGroup: SPARK_UID, seccompProfile: { type: 'RuntimeDefault' } },
      env: [...kafkaEnv, ...hdfsEnv],
      volumeMounts: mounts,
    };
    const spec: SparkApplicationSpec = {
      type: SparkApplicationSpecType.PYTHON,
      mode: SparkApplicationSpecMode.CLUSTER,
      sparkVersion: SPARK.version,
      // The pipeline image: Spark with every connector in its jars, so no pod downloads code when it starts.
      image: pipelineImage(env),
      mainApplicationFile: `${job.codeUri}${RUNTIME_ENTRY}`,
      // The whole job description, resolved for this environment: every change to it is a change to this manifest.
      arguments: ['--job', JSON.stringify(job)],
      sparkConf: {
        ...defaults,
        'spark.sql.sources.partitionOverwriteMode': 'dynamic',
        'spark.sql.session.timeZone': 'UTC',
        'spark.sql.streaming.metricsEnabled': 'true',
        // Sized per environment and pipeline rather than Spark's 200; a stream keeps the number of its first start.
        'spark.sql.shuffle.partitions': String(size.shufflePartitions),
        // An executor told to go (a spot reclaim, a node consolidated away) hands its shuffle and cached blocks to the
        // others before it exits, so its tasks' output is not recomputed.
        'spark.decommission.enabled': 'true',
        'spark.storage.decommission.enabled': 'true',
        'spark.storage.decommission.shuffleBlocks.enabled': 'true',
        'spark.storage.decommission.rddBlocks.enabled': 'true',
      },
      ...(hdfs ? { hadoopConf: hdfsClientConf(env) } : {}),
      volumes: [
        { name: 'tmp', emptyDir: { sizeLimit: SparkApplicationSpecVolumesEmptyDirSizeLimit.fromString('2Gi') } },
        { name: 'work-dir', emptyDir: { sizeLimit: SparkApplicationSpecVolumesEmptyDirSizeLimit.fromString('1Gi') } },
        ...(usesKafka ? [{ name: 'kafka-ca', secret: { secretName: credentials, items: [{ key: 'ca.crt', path: 'ca.crt' }] } }] : []),
      ] as SparkApplicationSpec['volumes'],
      // The driver holds the job's state (a stream's progress, a batch's plan): losing its node restarts the job, so
      // it stays on the stable pool. Executors go where the sizing says: a lost spot executor's tasks are re-run.
      driver: { ...pod, cores: size.driverCores, memory: `${size.driverMemoryMiB}m`, nodeSelector: nodeSelectorFor('stable') } as SparkApplicationSpec['driver'],
      executor: {
        ...pod,
        instances: size.executorInstances,
        cores: size.executorCores,
        memory: `${size.executorMemoryMiB}m`,
        ...executorPlacement(size.executorCapacity),
      } as SparkApplicationSpec['executor'],
      restartPolicy:
        pipeline.kind === 'streaming'
          ? // A stream is restarted whatever ended it; backing off keeps a poisoned input from spinning the cluster.
            { type: SparkApplicationSpecRestartPolicyType.ALWAYS, onFailureRetryInterval: 60, onSubmissionFailureRetries: 10, onSubmissionFailureRetryInterval: 60 }
          : { type: SparkApplicationSpecRestartPolicyType.ON_FAILURE, onFailureRetries: 3, onFailureRetryInterval: 300, onSubmissionFailureRetries: 3, onSubmissionFailureRetryInterval: 120 },
    };
    const metadata = { name: pipeline.name, namespace: NAMESPACES.pipelines };
    if (pipeline.kind === 'streaming') {
      new SparkApplication(this, 'application', { metadata, spec });
    } else {
      new ScheduledSparkApplication(this, 'application', {
        metadata,
        spec: {
          schedule: pipeline.schedule!,
          timeZone: 'UTC',
          // A run still going when the next is due is not doubled: the next one waits for the schedule after.
          concurrencyPolicy: 'Forbid',
          successfulRunHistoryLimit: 3,
          failedRunHistoryLimit: 5,
          // Same CRD schema, generated twice: the template is exactly a SparkApplication spec.
          template: spec as unknown as ScheduledSparkApplicationSpecTemplate,
        },
      });
    }
  }

  private addAlerts(env: Environment, pipeline: LoadedPipeline, usesKafka: boolean): void {
    const drivers = `namespace="${NAMESPACES.pipelines}",pod=~"${pipeline.name}-(.+-)?driver"`;
    const group = `consumergroup="${pipeline.name}"`;
    const lag = pipeline.alerts.maxLag ?? env.monitoring.consumerLagThreshold;
    const stale = pipeline.alerts.staleAfterMinutes;
    const rules = [
      {
        alert: `${title(pipeline.name)}Failed`,
        expr: `max(kube_pod_status_phase{${drivers},phase="Failed"}) > 0`,
        for: '1m',
        labels: { severity: 'critical', pipeline: pipeline.name },
        annotations: {
          summary: `The ${pipeline.name} pipeline's Spark driver failed`,
          runbook: `kubectl -n ${NAMESPACES.pipelines} describe sparkapplication ${pipeline.name}; then the driver log (kubectl logs) for the exception.`,
        },
      },
      ...(usesKafka && pipeline.source.type === 'kafka'
        ? [
            {
              alert: `${title(pipeline.name)}ConsumerLag`,
              expr: `sum(kafka_consumergroup_lag{${group}}) > ${lag}`,
              for: '10m',
              labels: { severity: 'warning', pipeline: pipeline.name },
              annotations: {
                summary: `The ${pipeline.name} pipeline is more than ${lag} records behind ${pipeline.source.topic}`,
                runbook: 'Check the Spark UI of the driver (batch duration against the trigger) and executor count; scale spark sizing for the environment in the pipeline spec.',
              },
            },
            {
              alert: `${title(pipeline.name)}Stale`,
              expr: `sum(kafka_consumergroup_lag{${group}}) > 0 and sum(delta(kafka_consumergroup_current_offset{${group}}[${stale}m])) == 0`,
              for: '1m',
              labels: { severity: 'critical', pipeline: pipeline.name },
              annotations: {
                summary: `The ${pipeline.name} pipeline has produced no output for ${stale} minutes while records wait`,
                runbook: `kubectl -n ${NAMESPACES.pipelines} get sparkapplication ${pipeline.name} and its driver pod; a running driver that makes no progress needs its log and thread dump.`,
              },
            },
          ]
        : [
            {
              alert: `${title(pipeline.name)}Stale`,
              // The newest successful run, from kube-state-metrics: driver pods are kept by the spark-operator.
              expr: `time() - max(kube_pod_completion_time{${drivers}} and on (namespace, pod) kube_pod_status_phase{${drivers},phase="Succeeded"} == 1) > ${stale * 60}`,
              for: '5m',
              labels: { severity: 'critical', pipeline: pipeline.name },
              annotations: {
                summary: `The ${pipeline.name} pipeline has not completed a run for ${stale} minutes`,
                runbook: `kubectl -n ${NAMESPACES.pipelines} get scheduledsparkapplication ${pipeline.name} -o yaml (status.lastRun); re-run a day with --date after fixing the cause.`,
              },
            },
          ]),
    ];
    new PrometheusRule(this, 'alerts', {
      metadata: { name: `${pipeline.name}-alerts`, namespace: NAMESPACES.pipelines },
      spec: {
        groups: [{ name: `pipeline-${pipeline.name}`, rules: rules.map((r) => ({ ...r, expr: PrometheusRuleSpecGroupsRulesExpr.fromString(r.expr) })) }],
      },
    });
  }

  private addDashboard(pipeline: LoadedPipeline, usesKafka: boolean): void {
    const app = `application_name=~"${pipeline.name}.*"`;
    const board = dashboard({
      uid: `driftless-pipeline-${pipeline.name}`,
      title: `Pipeline ${pipeline.name}`,
      description: pipeline.description,
      tags: ['driftless', 'pipeline'],
      panels: [
        ...(usesKafka && pipeline.source.type === 'kafka'
          ? [{ kind: 'timeseries' as const, title: 'Consumer lag', description: `Records of ${pipeline.source.topic} not yet processed.`, unit: 'short', queries: [{ expr: `sum(kafka_consumergroup_lag{consumergroup="${pipeline.name}"})`, legend: 'lag' }] }]
          : []),
        { kind: 'timeseries', title: 'Active tasks', description: 'Tasks running on the executors.', unit: 'short', queries: [{ expr: `sum(metrics_executor_activeTasks{${app}})`, legend: 'tasks' }] },
        { kind: 'stat', title: 'Failed driver pods', description: 'Driver pods of this pipeline in phase Failed.', unit: 'short', queries: [{ expr: `sum(kube_pod_status_phase{namespace="${NAMESPACES.pipelines}",pod=~"${pipeline.name}-(.+-)?driver",phase="Failed"})` }] },
      ],
    });
    new k8s.KubeConfigMap(this, 'dashboard', {
      metadata: { name: `grafana-dashboard-pipeline-${pipeline.name}`, namespace: NAMESPACES.pipelines, labels: { ...DASHBOARD_LABEL } },
      data: { [`pipeline-${pipeline.name}.json`]: JSON.stringify(board, null, 2) },
    });
  }
}

/** Whether a pipeline uses HDFS: its sink is there, or it is a stream (its checkpoint is). */
export const usesHdfs = (pipeline: Pipeline): boolean => pipeline.kind === 'streaming' || pipeline.sink.type === 'hdfs';

const title = (name: string) => name.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
