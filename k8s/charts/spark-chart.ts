import type { Construct } from 'constructs';
import {
  bucketName,
  dataKeyAlias,
  KAFKA_CLUSTER,
  NAMESPACES,
  pipelineServiceAccount,
  PLATFORM_SERVICE_ACCOUNTS,
  SPARK_EVENT_LOG_PREFIX,
} from '../../environments/naming';
import type { Environment } from '../../environments/schema';
import { topicsOf } from '../../pipelines/rules';
import type { Pipeline } from '../../pipelines/schema';
import { SecretStore, SecretStoreSpecProviderKubernetesServerCaProviderType } from '../imports/external-secrets.io';
import { k8s } from '../kube';
import { nodeSelectorFor } from '../placement';
import { cpus, gibibytes, sparkRuntimePods, type PodGroup } from '../sizing';
import { pipelineImage } from '../../pipelines/runtime/image';
import { EnvironmentChart, type EnvironmentChartProps } from './environment-chart';

/** The ConfigMap in NAMESPACES.pipelines with the platform's default Spark configuration, and its key. */
export const SPARK_DEFAULTS_CONFIG_MAP = { name: 'spark-defaults', key: 'spark-defaults.conf' } as const;

/** The SecretStore (and its reader service account) through which pipelines get their Kafka credentials. */
export const KAFKA_CREDENTIALS_STORE = 'kafka-credentials';

/** The Role every pipeline's Spark driver is bound to in NAMESPACES.pipelines. */
export const SPARK_DRIVER_ROLE = 'spark-driver';

/** The Spark History Server: its name (Deployment, Service, ConfigMap, pod label) and UI port. */
export const SPARK_HISTORY_SERVER = { name: PLATFORM_SERVICE_ACCOUNTS.sparkHistoryServer.name, port: 18080 } as const;

/**
 * What a Spark driver does with the Kubernetes API in its own namespace (Spark 4.0 with the default
 * `direct` executor allocator), and nothing more: no update, no secrets, no `*`. The driver pod, its
 * service and its configmap are created by spark-submit in the spark-operator, under the operator's role.
 */
export const SPARK_DRIVER_RULES: ReadonlyArray<{ readonly resources: readonly string[]; readonly verbs: readonly string[] }> = [
  // Executors: read its own pod (the owner of everything it creates), create, watch and poll executors,
  // label them (executor ids, decommissioning) and delete them one by one or by label when it stops.
  { resources: ['pods'], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'watch'] },
  // The driver deletes its own service by label on exit (spark.kubernetes.driver.service.deleteOnTermination).
  { resources: ['services'], verbs: ['deletecollection'] },
  // The executors' configuration: created at start, deleted by label at stop.
  { resources: ['configmaps'], verbs: ['create', 'deletecollection'] },
  // On-demand executor volumes: created per executor, listed for reuse, deleted by label at stop.
  { resources: ['persistentvolumeclaims'], verbs: ['create', 'deletecollection', 'list'] },
];

/** `s3a://<logs bucket>/<prefix>`: where every Spark application writes its event log and the History Server reads it. */
export const sparkEventLogDir = (env: Environment): string => `s3a://${bucketName(env, 'logs')}/${SPARK_EVENT_LOG_PREFIX}`;

/** S3A settings every Spark process of the platform needs to read the data lake. */
function s3aReadSettings(env: Environment): Record<string, string> {
  return {
    // Hadoop 3.4 uses the AWS SDK v2, whose default chain picks up the EKS Pod Identity credentials.
    'spark.hadoop.fs.s3a.aws.credentials.provider': 'software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider',
    'spark.hadoop.fs.s3a.endpoint.region': env.aws.region,
  };
}

/**
 * The platform's default Spark configuration for pipelines: S3A with Pod Identity credentials and
 * SSE-KMS with the data key on every write, event logs for the History Server, Prometheus metrics on
 * the driver UI (4040); the connectors are in the pipeline image, nothing is fetched at start. Exported so that a SparkApplication can carry
 * the same settings in `sparkConf` (Spark on Kubernetes starts the driver with `--properties-file`,
 * and then spark-submit does not read `spark-defaults.conf` by default).
 */
export function sparkDefaults(env: Environment): Record<string, string> {
  return {
    ...s3aReadSettings(env),
    'spark.hadoop.fs.s3a.encryption.algorithm': 'SSE-KMS',
    // S3 accepts the alias ARN as the key id, so no key id has to be copied from Terraform.
    'spark.hadoop.fs.s3a.encryption.key': `arn:aws:kms:${env.aws.region}:${env.aws.accountId}:${dataKeyAlias(env.name)}`,
    'spark.eventLog.enabled': 'true',
    'spark.eventLog.dir': sparkEventLogDir(env),
    // An S3 object appears only when it is closed: a stream that never ends would show nothing in the History Server
    // and lose its whole log with its driver. Rolling closes a file of the log every 128 MiB (and at the end).
    'spark.eventLog.rolling.enabled': 'true',
    'spark.eventLog.rolling.maxFileSize': '128m',
    'spark.ui.prometheus.enabled': 'true',
    'spark.metrics.conf.*.sink.prometheusServlet.class': 'org.apache.spark.metrics.sink.PrometheusServlet',
    'spark.metrics.conf.*.sink.prometheusServlet.path': '/metrics/prometheus',
    // Metric names then carry the application's name rather than its per-run id, so dashboards and alerts stay stable.
    'spark.metrics.namespace': '${spark.app.name}',
  };
}

/** The History Server's configuration: the event log directory, read with the same S3A settings, never cleaned. */
function historyServerConf(env: Environment): Record<string, string> {
  return {
    ...s3aReadSettings(env),
    'spark.history.fs.logDirectory': sparkEventLogDir(env),
    // Its role may only read the logs; the logs bucket's lifecycle rules expire them.
    'spark.history.fs.cleaner.enabled': 'false',
    'spark.history.ui.port': String(SPARK_HISTORY_SERVER.port),
  };
}

/** A `spark-defaults.conf`: one `key value` line per setting, sorted so the output never changes by itself. */
export function sparkDefaultsFile(conf: Record<string, string>): string {
  const lines = Object.entries(conf)
    .map(([key, value]) => `${key} ${value}`)
    .sort();
  return `# Rendered from k8s/charts/spark-chart.ts; edit it there.\n${lines.join('\n')}\n`;
}

const CONF_DIR = '/etc/spark/conf';
const TMP_DIR = '/tmp';
/** The non-root user and group of the official Spark image. */
const SPARK_UID = 185;

/**
 * `k8s/rendered/<env>/spark`: the Spark runtime every pipeline shares. Per pipeline, the service account
 * that EKS Pod Identity binds to its IAM role and the RBAC its driver needs to run executors; the default
 * Spark configuration; and the Spark History Server, reading the event logs from S3.
 */
export class SparkChart extends EnvironmentChart {
  constructor(scope: Construct, id: string, props: EnvironmentChartProps) {
    super(scope, id, props);
    const { env } = props;
    const namespace = NAMESPACES.pipelines;

    new k8s.KubeRole(this, 'driver-role', {
      metadata: { name: SPARK_DRIVER_ROLE, namespace },
      rules: SPARK_DRIVER_RULES.map((rule) => ({ apiGroups: [''], resources: [...rule.resources], verbs: [...rule.verbs] })),
    });
    for (const pipeline of props.pipelines) {
      const name = pipelineServiceAccount(pipeline.name);
      const labels = { 'driftless.io/pipeline': pipeline.name };
      // No annotations: Pod Identity binds the pipeline's role to exactly this namespace and name.
      new k8s.KubeServiceAccount(this, `${pipeline.name}-service-account`, { metadata: { name, namespace, labels } });
      new k8s.KubeRoleBinding(this, `${pipeline.name}-driver-binding`, {
        metadata: { name, namespace, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: SPARK_DRIVER_ROLE },
        subjects: [{ kind: 'ServiceAccount', name, namespace }],
      });
    }

    new k8s.KubeConfigMap(this, 'spark-defaults', {
      metadata: { name: SPARK_DEFAULTS_CONFIG_MAP.name, namespace },
      data: { [SPARK_DEFAULTS_CONFIG_MAP.key]: sparkDefaultsFile(sparkDefaults(env)) },
    });

    this.addKafkaCredentialsStore(props.pipelines);
    this.addHistoryServer(env, sparkRuntimePods().historyServer);
  }

  /**
   * Strimzi keeps each Kafka user's password, and the cluster CA, as Secrets in the kafka namespace. A
   * SecretStore in the pipelines namespace lets External Secrets copy them over, through a service account
   * that may `get` exactly those Secrets and nothing else.
   */
  private addKafkaCredentialsStore(pipelines: readonly Pipeline[]): void {
    const users = pipelines.filter((p) => topicsOf(p).length > 0).map((p) => p.name);
    const reader = KAFKA_CREDENTIALS_STORE;
    new k8s.KubeServiceAccount(this, 'kafka-credentials-reader', { metadata: { name: reader, namespace: NAMESPACES.pipelines } });
    new k8s.KubeRole(this, 'kafka-credentials-role', {
      metadata: { name: reader, namespace: NAMESPACES.kafka },
      rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: [...users, `${KAFKA_CLUSTER}-cluster-ca-cert`], verbs: ['get'] }],
    });
    new k8s.KubeRoleBinding(this, 'kafka-credentials-binding', {
      metadata: { name: reader, namespace: NAMESPACES.kafka },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: reader },
      subjects: [{ kind: 'ServiceAccount', name: reader, namespace: NAMESPACES.pipelines }],
    });
    new SecretStore(this, 'kafka-credentials-store', {
      metadata: { name: KAFKA_CREDENTIALS_STORE, namespace: NAMESPACES.pipelines },
      spec: {
        provider: {
          kubernetes: {
            remoteNamespace: NAMESPACES.kafka,
            server: { caProvider: { type: SecretStoreSpecProviderKubernetesServerCaProviderType.CONFIG_MAP, name: 'kube-root-ca.crt', key: 'ca.crt' } },
            auth: { serviceAccount: { name: reader } },
          },
        },
      },
    });
  }

  private addHistoryServer(env: Environment, size: PodGroup): void {
    const { name, port } = SPARK_HISTORY_SERVER;
    const namespace = NAMESPACES.sparkOperator;
    const labels = { 'app.kubernetes.io/name': name };

    new k8s.KubeServiceAccount(this, 'history-server-service-account', {
      metadata: { name: PLATFORM_SERVICE_ACCOUNTS.sparkHistoryServer.name, namespace },
      // It never calls the Kubernetes API; Pod Identity injects its own token for AWS.
      automountServiceAccountToken: false,
    });
    new k8s.KubeConfigMap(this, 'history-server-conf', {
      metadata: { name, namespace },
      data: { [SPARK_DEFAULTS_CONFIG_MAP.key]: sparkDefaultsFile(historyServerConf(env)) },
    });

    const resources = {
      requests: { cpu: k8s.Quantity.fromString(cpus(size.cpu)), memory: k8s.Quantity.fromString(gibibytes(size.memoryGiB)) },
      limits: { memory: k8s.Quantity.fromString(gibibytes(size.memoryGiB)) },
    };
    const securityContext = {
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    };
    const http = (path: string) => ({ httpGet: { path, port: k8s.IntOrString.fromString('http') } });

    new k8s.KubeDeployment(this, 'history-server', {
      metadata: { name, namespace, labels },
      spec: {
        replicas: size.replicas,
        selector: { matchLabels: labels },
        // A surge pod would not fit the namespace quota, and a short gap in a read-only UI costs nothing.
        strategy: { type: 'Recreate' },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: PLATFORM_SERVICE_ACCOUNTS.sparkHistoryServer.name,
            automountServiceAccountToken: false,
            nodeSelector: nodeSelectorFor('stable'),
            securityContext: {
              runAsNonRoot: true,
              runAsUser: SPARK_UID,
              runAsGroup: SPARK_UID,
              fsGroup: SPARK_UID,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: 'history-server',
                // The pipeline image: Spark with S3A and the AWS SDK in its jars, so nothing is fetched at start.
                image: pipelineImage(env),
                imagePullPolicy: 'IfNotPresent',
                // Not the image's entrypoint: it would try to edit /etc/passwd and runs drivers and executors only.
                command: ['/opt/spark/bin/spark-class', 'org.apache.spark.deploy.history.HistoryServer'],
                env: [
                  { name: 'SPARK_CONF_DIR', value: CONF_DIR },
                  // Half the container for the heap; the rest for metaspace, threads and S3A buffers.
                  { name: 'SPARK_DAEMON_MEMORY', value: `${Math.floor((size.memoryGiB * 1024) / 2)}m` },
                ],
                ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
                resources,
                securityContext,
                startupProbe: { ...http('/api/v1/version'), periodSeconds: 5, failureThreshold: 36 },
                readinessProbe: { ...http('/api/v1/version'), periodSeconds: 10, timeoutSeconds: 5 },
                livenessProbe: { ...http('/api/v1/version'), periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
                volumeMounts: [
                  { name: 'conf', mountPath: CONF_DIR, readOnly: true },
                  // Java and Hadoop (S3A buffers under hadoop.tmp.dir) write here.
                  { name: 'tmp', mountPath: TMP_DIR },
                ],
              },
            ],
            volumes: [
              { name: 'conf', configMap: { name } },
              { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('1Gi') } },
            ],
          },
        },
      },
    });

    new k8s.KubeService(this, 'history-server-service', {
      metadata: { name, namespace, labels },
      spec: {
        selector: labels,
        ports: [{ name: 'http', port, targetPort: k8s.IntOrString.fromString('http'), protocol: 'TCP' }],
      },
    });
  }
}
