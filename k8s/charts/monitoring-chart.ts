import type { Construct } from 'constructs';
import { HDFS_CLUSTER, KAFKA_CLUSTER, NAMESPACES } from '../../environments/naming';
import type { Environment } from '../../environments/schema';
import { HDFS_DASHBOARD } from '../dashboards/hdfs-dashboard';
import { KAFKA_DASHBOARD } from '../dashboards/kafka-dashboard';
import { MONITORS, SELECTORS, type Monitor } from '../dashboards/scrape-targets';
import { HDFS_ZOOKEEPER_CLUSTER as ZOOKEEPER_CLUSTER } from './hdfs-chart';
import { SPARK_DASHBOARD } from '../dashboards/spark-dashboard';
import type { GrafanaDashboard } from '../dashboards/grafana-dashboard';
import {
  ClusterSecretStore,
  ClusterSecretStoreSpecProviderAwsService,
  ExternalSecret,
  ExternalSecretSpecSecretStoreRefKind,
  ExternalSecretSpecTargetCreationPolicy,
} from '../imports/external-secrets.io';
import {
  PodMonitor,
  PodMonitorSpecPodMetricsEndpointsScheme as PodScheme,
  PrometheusRule,
  PrometheusRuleSpecGroupsRulesExpr,
  ServiceMonitor,
  ServiceMonitorSpecEndpointsScheme as ServiceScheme,
  type PodMonitorSpecPodMetricsEndpoints,
  type PrometheusRuleSpecGroupsRules,
} from '../imports/monitoring.coreos.com';
import { k8s } from '../kube';
import { ALERTMANAGER_SECRET, CLUSTER_SECRET_STORE, DASHBOARD_LABEL, GRAFANA_ADMIN_SECRET } from '../monitoring-wiring';
import { hdfsPods, kafkaPods } from '../sizing';
import { EnvironmentChart, type EnvironmentChartProps } from './environment-chart';

/** How often secrets are read again from Secrets Manager, so a rotated credential arrives within the hour. */
const SECRET_REFRESH_INTERVAL = '1h';

/**
 * Namespaces whose ExternalSecrets may use the ClusterSecretStore. Its role can read every secret of the
 * environment, so any other namespace is refused; a component that needs a secret adds its namespace here.
 */
const SECRET_STORE_NAMESPACES: readonly string[] = [NAMESPACES.monitoring];

/** An alert that an on-call engineer acts on. */
interface Alert {
  readonly name: string;
  /** `critical` pages; `warning` goes to the team channel (see the receivers in k8s/charts/apps-chart.ts). */
  readonly severity: 'critical' | 'warning';
  readonly expr: string;
  /** How long the condition must hold: short where data is at risk, longer for what usually heals itself. */
  readonly for: string;
  readonly summary: string;
  readonly description: string;
  /** What to check first, in one line. */
  readonly runbook: string;
}

type ReceiverType = Environment['monitoring']['alertReceivers']['critical']['type'];

/** The Alertmanager credentials each kind of receiver needs: the Secret key and the JSON property in Secrets Manager. */
const RECEIVER_CREDENTIALS: Record<ReceiverType, { readonly secretKey: string; readonly property: string }> = {
  pagerduty: { secretKey: ALERTMANAGER_SECRET.pagerdutyKey, property: 'pagerdutyRoutingKey' },
  slack: { secretKey: ALERTMANAGER_SECRET.slackKey, property: 'slackWebhookUrl' },
};

/** The dead man's switch URL: the Secret key and the JSON property in Secrets Manager. */
const DEAD_MANS_SWITCH_CREDENTIALS = { secretKey: ALERTMANAGER_SECRET.deadMansSwitchKey, property: 'deadMansSwitchUrl' } as const;

/**
 * `k8s/rendered/<env>/monitoring`: scrape targets, alerts and dashboards for Kafka, HDFS, ZooKeeper and Spark;
 * Grafana and Alertmanager credentials from AWS Secrets Manager. Prometheus, Alertmanager and Grafana come from
 * kube-prometheus-stack, which picks up every monitor, rule and labelled dashboard ConfigMap in the cluster.
 */
export class MonitoringChart extends EnvironmentChart {
  constructor(scope: Construct, id: string, props: EnvironmentChartProps) {
    super(scope, id, props);
    const { env } = props;
    this.addScrapeTargets();
    this.addAlerts(env);
    this.addDashboard('kafka', KAFKA_DASHBOARD);
    this.addDashboard('hdfs', HDFS_DASHBOARD);
    this.addDashboard('spark', SPARK_DASHBOARD);
    this.addSecrets(env);
  }

  private addScrapeTargets(): void {
    const podMonitor = (monitor: Monitor, selector: Record<string, string>, endpoints: PodMonitorSpecPodMetricsEndpoints[], podTargetLabels?: string[]) =>
      new PodMonitor(this, `monitor-${monitor.name}`, {
        metadata: { name: monitor.name, namespace: monitor.namespace },
        spec: { selector: { matchLabels: selector }, podMetricsEndpoints: endpoints, podTargetLabels },
      });
    const http = (port: string, path: string): PodMonitorSpecPodMetricsEndpoints => ({ port, path, scheme: PodScheme.HTTP });

    // Strimzi gives brokers and controllers `strimzi.io/name: <cluster>-kafka`; the name keeps Kafka Exporter
    // (which shares the cluster and kind labels and the port name) out of this job.
    podMonitor(
      MONITORS.kafkaNodes,
      { 'strimzi.io/cluster': KAFKA_CLUSTER, 'strimzi.io/kind': 'Kafka', 'strimzi.io/name': `${KAFKA_CLUSTER}-kafka` },
      [http('tcp-prometheus', '/metrics')],
      ['strimzi.io/pool-name', 'strimzi.io/broker-role', 'strimzi.io/controller-role'],
    );
    podMonitor(MONITORS.kafkaExporter, { 'strimzi.io/name': `${KAFKA_CLUSTER}-kafka-exporter` }, [http('tcp-prometheus', '/metrics')]);
    podMonitor(MONITORS.strimziOperator, { 'strimzi.io/kind': 'cluster-operator' }, [http('http', '/metrics')]);

    // The Stackable operators put each role group's metrics behind a `<cluster>-<role>-<group>-metrics` Service
    // labelled `prometheus.io/scrape: "true"`, whose `metrics` port is the product's built-in endpoint: Hadoop's
    // `/prom` (on each daemon's HTTP port) and ZooKeeper's metrics provider (7000, `/metrics`). The JMX exporter
    // ports (8183 and friends, now `jmx-metrics`) are deprecated since Stackable 25.7 and are not scraped.
    const stackable = (monitor: Monitor, product: string, instance: string, path: string) =>
      new ServiceMonitor(this, `monitor-${monitor.name}`, {
        metadata: { name: monitor.name, namespace: monitor.namespace },
        spec: {
          selector: { matchLabels: { 'app.kubernetes.io/name': product, 'app.kubernetes.io/instance': instance, 'prometheus.io/scrape': 'true' } },
          endpoints: [{ port: 'metrics', path, scheme: ServiceScheme.HTTP }],
          podTargetLabels: ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/component', 'app.kubernetes.io/role-group'],
        },
      });
    stackable(MONITORS.hdfs, 'hdfs', HDFS_CLUSTER, '/prom');
    stackable(MONITORS.zookeeper, 'zookeeper', ZOOKEEPER_CLUSTER, '/metrics');

    // The driver's UI port serves its own metrics and, on a second path, those of every executor, so executors
    // need no port of their own and no ingress from the monitoring namespace.
    podMonitor(
      MONITORS.sparkDrivers,
      { 'spark-role': 'driver' },
      [http('spark-ui', '/metrics/prometheus/'), http('spark-ui', '/metrics/executors/prometheus/')],
      ['sparkoperator.k8s.io/app-name'],
    );
    podMonitor(
      MONITORS.sparkOperator,
      { 'app.kubernetes.io/name': 'spark-operator', 'app.kubernetes.io/component': 'controller' },
      [http('metrics', '/metrics')],
    );
    // The Karpenter chart's pods (its selector labels, with the Application's release name); only the leader reports
    // the cluster's nodes and pools, the standby its own process.
    podMonitor(
      MONITORS.karpenter,
      { 'app.kubernetes.io/name': 'karpenter', 'app.kubernetes.io/instance': 'karpenter' },
      [http('http-metrics', '/metrics')],
    );
  }

  private addAlerts(env: Environment): void {
    const groups: Record<string, readonly Alert[]> = {
      kafka: kafkaAlerts(env),
      hdfs: hdfsAlerts(env),
      spark: sparkAlerts(),
      operators: operatorAlerts(),
    };
    for (const [area, alerts] of Object.entries(groups)) {
      new PrometheusRule(this, `rules-${area}`, {
        metadata: { name: `${area}-alerts`, namespace: NAMESPACES.monitoring },
        spec: { groups: [{ name: `driftless.${area}`, rules: alerts.map(toRule) }] },
      });
    }
  }

  private addDashboard(name: string, dashboard: GrafanaDashboard): void {
    new k8s.KubeConfigMap(this, `dashboard-${name}`, {
      metadata: { name: `grafana-dashboard-${name}`, namespace: NAMESPACES.monitoring, labels: { ...DASHBOARD_LABEL } },
      data: { [`${name}.json`]: JSON.stringify(dashboard, null, 2) },
    });
  }

  private addSecrets(env: Environment): void {
    // No auth block: External Secrets calls AWS with the role that EKS Pod Identity binds to its own service
    // account (PLATFORM_SERVICE_ACCOUNTS.externalSecrets), so no credential is stored anywhere in the cluster.
    new ClusterSecretStore(this, 'secret-store', {
      metadata: { name: CLUSTER_SECRET_STORE },
      spec: {
        provider: { aws: { service: ClusterSecretStoreSpecProviderAwsService.SECRETS_MANAGER, region: env.aws.region } },
        conditions: [{ namespaces: [...SECRET_STORE_NAMESPACES] }],
      },
    });

    const externalSecret = (id: string, name: string, remoteKey: string, keys: ReadonlyArray<{ secretKey: string; property: string }>) =>
      new ExternalSecret(this, id, {
        metadata: { name, namespace: NAMESPACES.monitoring },
        spec: {
          refreshInterval: SECRET_REFRESH_INTERVAL,
          secretStoreRef: { kind: ExternalSecretSpecSecretStoreRefKind.CLUSTER_SECRET_STORE, name: CLUSTER_SECRET_STORE },
          target: { name, creationPolicy: ExternalSecretSpecTargetCreationPolicy.OWNER },
          data: keys.map(({ secretKey, property }) => ({ secretKey, remoteRef: { key: remoteKey, property } })),
        },
      });

    externalSecret('secret-grafana-admin', GRAFANA_ADMIN_SECRET.name, GRAFANA_ADMIN_SECRET.remoteKey(env.name), [
      { secretKey: GRAFANA_ADMIN_SECRET.userKey, property: 'username' },
      { secretKey: GRAFANA_ADMIN_SECRET.passwordKey, property: 'password' },
    ]);
    // Only the credentials of receivers the environment uses: a missing property would fail the whole sync.
    const used = new Set(Object.values(env.monitoring.alertReceivers).map((receiver) => receiver.type));
    const receiverKeys = (Object.keys(RECEIVER_CREDENTIALS) as ReceiverType[]).filter((type) => used.has(type)).map((type) => RECEIVER_CREDENTIALS[type]);
    const deadMansSwitchKeys = env.monitoring.deadMansSwitch === undefined ? [] : [DEAD_MANS_SWITCH_CREDENTIALS];
    externalSecret('secret-alertmanager', ALERTMANAGER_SECRET.name, ALERTMANAGER_SECRET.remoteKey(env.name), [...receiverKeys, ...deadMansSwitchKeys]);
  }
}

function toRule(alert: Alert): PrometheusRuleSpecGroupsRules {
  return {
    alert: alert.name,
    expr: PrometheusRuleSpecGroupsRulesExpr.fromString(alert.expr),
    for: alert.for,
    labels: { severity: alert.severity },
    annotations: { summary: alert.summary, description: alert.description, runbook: alert.runbook },
  };
}

// `count(...)` of nothing is no series at all, which never fires: `or vector(0)` makes "none up" a 0.
const upCount = (selector: string) => `(count(up{${selector}} == 1) or vector(0))`;

/** The minimum of an ensemble that keeps a majority. */
const quorum = (replicas: number) => Math.floor(replicas / 2) + 1;

function kafkaAlerts(env: Environment): Alert[] {
  const { kafkaNodes, kafkaBrokers, kafkaExporter } = SELECTORS;
  const brokers = kafkaPods(env).brokers.replicas;
  return [
    {
      name: 'KafkaBrokerDown',
      severity: 'critical',
      expr: `${upCount(kafkaBrokers)} < ${brokers}`,
      for: '5m',
      summary: `Fewer than ${brokers} Kafka brokers are up`,
      description: `{{ $value }} of ${brokers} brokers of the Kafka cluster answer; partitions led by the missing brokers move or go offline.`,
      runbook: `kubectl -n ${NAMESPACES.kafka} get pods -l strimzi.io/broker-role=true; describe the pod that is not Running (events, OOMKilled, unbound PVC) and read the Strimzi operator log.`,
    },
    {
      name: 'KafkaUnderReplicatedPartitions',
      severity: 'warning',
      expr: `sum by (pod) (kafka_server_replicamanager_underreplicatedpartitions{${kafkaNodes}}) > 0`,
      for: '10m',
      summary: 'Kafka partitions are under-replicated on {{ $labels.pod }}',
      description: '{{ $labels.pod }} leads {{ $value }} partitions with fewer in-sync replicas than replicas; one more failure may stop writes (min.insync.replicas).',
      runbook: 'Check that every broker is up and not restarting, then broker disk and network (Kafka dashboard, bytes in/out); a rolling restart clears it within minutes.',
    },
    {
      name: 'KafkaOfflinePartitions',
      severity: 'critical',
      expr: `sum(kafka_controller_kafkacontroller_offlinepartitionscount{${kafkaNodes}}) > 0`,
      for: '1m',
      summary: 'Kafka has partitions without a leader',
      description: '{{ $value }} partitions have no leader: producers and consumers of those partitions are stopped.',
      runbook: `Find the brokers that hold the replicas (kafka-topics --describe --unavailable-partitions) and bring them back; unclean leader election is off, so a replica must return.`,
    },
    {
      name: 'KafkaNoActiveController',
      severity: 'critical',
      expr: `(sum(kafka_controller_kafkacontroller_activecontrollercount{${kafkaNodes}}) or vector(0)) != 1`,
      for: '2m',
      summary: 'The Kafka KRaft controller quorum has no single active controller',
      description: '{{ $value }} controllers report themselves active (must be exactly 1): metadata changes, leader elections and topic changes are stuck.',
      runbook: `kubectl -n ${NAMESPACES.kafka} get pods -l strimzi.io/controller-role=true; a majority of controllers must be Running; read their logs for quorum (raft) errors.`,
    },
    {
      name: 'KafkaConsumerLagHigh',
      severity: 'warning',
      expr: `sum by (consumergroup, topic) (kafka_consumergroup_lag{${kafkaExporter}}) > ${env.monitoring.consumerLagThreshold}`,
      for: '15m',
      summary: 'Consumer group {{ $labels.consumergroup }} is behind on {{ $labels.topic }}',
      description: `{{ $labels.consumergroup }} has {{ $value }} unread records on {{ $labels.topic }} (threshold ${env.monitoring.consumerLagThreshold}).`,
      runbook: 'Check that the consuming Spark application is running (Spark dashboard, kubectl get sparkapplications -n pipelines) and not failing tasks; then compare its input rate with messages in.',
    },
    {
      name: 'KafkaExporterDown',
      severity: 'warning',
      expr: `absent(up{${kafkaExporter}} == 1)`,
      for: '10m',
      summary: 'Kafka Exporter is not scraped: consumer lag is not monitored',
      description: 'No Kafka Exporter target answers, so KafkaConsumerLagHigh cannot fire.',
      runbook: `kubectl -n ${NAMESPACES.kafka} get pods -l strimzi.io/name=${KAFKA_CLUSTER}-kafka-exporter; if Running, check the NetworkPolicy allows port 9404 from ${NAMESPACES.monitoring}.`,
    },
  ];
}

function hdfsAlerts(env: Environment): Alert[] {
  const { hdfs, namenodes, zookeeper } = SELECTORS;
  const pods = hdfsPods(env);
  // Every namenode reports the namesystem; `max` counts an HA pair once.
  const namesystem = (metric: string) => `max(fs_namesystem_${metric}{${hdfs}})`;
  const zookeeperServers = pods.zookeeper.replicas;
  const alerts: Alert[] = [
    {
      name: 'HdfsNamenodeDown',
      severity: 'critical',
      expr: `${upCount(namenodes)} < ${pods.namenodes.replicas}`,
      for: '5m',
      summary: `Fewer than ${pods.namenodes.replicas} HDFS namenodes are up`,
      description: `{{ $value }} of ${pods.namenodes.replicas} namenodes answer; without an active namenode HDFS can be neither read nor written.`,
      runbook: `kubectl -n ${NAMESPACES.hdfs} get pods -l app.kubernetes.io/component=namenode; read the namenode and zkfc container logs (safe mode, journalnode quorum, ZooKeeper).`,
    },
    {
      name: 'HdfsMissingBlocks',
      severity: 'critical',
      expr: `${namesystem('missing_blocks')} > 0`,
      for: '5m',
      summary: 'HDFS has blocks with no replica left',
      description: '{{ $value }} blocks have no live replica: files that contain them cannot be read.',
      runbook: 'Bring back every dead datanode first (HDFS dashboard, datanodes); then hdfs fsck / -list-corruptfileblocks to see which files are affected.',
    },
    {
      name: 'HdfsCorruptBlocks',
      severity: 'warning',
      expr: `${namesystem('corrupt_blocks')} > 0`,
      for: '15m',
      summary: 'HDFS has blocks with corrupt replicas',
      description: '{{ $value }} blocks have at least one corrupt replica; HDFS re-replicates from a good copy if one exists.',
      runbook: 'hdfs fsck / -list-corruptfileblocks; if it persists, check the disks of the datanodes named in the namenode log.',
    },
    {
      name: 'HdfsCapacityHigh',
      severity: 'warning',
      expr: `${namesystem('capacity_used')} / ${namesystem('capacity_total')} > 0.8`,
      for: '15m',
      summary: 'HDFS is more than 80 % full',
      description: 'HDFS uses {{ $value | humanizePercentage }} of its capacity; writes fail when datanodes fill up.',
      runbook: 'Find what grew (hdfs dfs -du -h /), expire old partitions or checkpoints, or raise hdfs.datanodes / datanodeStorageGiB in the environment file.',
    },
    {
      name: 'HdfsDatanodesDown',
      severity: 'warning',
      expr: `${namesystem('num_live_data_nodes')} < ${pods.datanodes.replicas}`,
      for: '10m',
      summary: `Fewer than ${pods.datanodes.replicas} HDFS datanodes are live`,
      description: `The namenode sees {{ $value }} of ${pods.datanodes.replicas} datanodes; blocks on the missing ones are under-replicated.`,
      runbook: `kubectl -n ${NAMESPACES.hdfs} get pods -l app.kubernetes.io/component=datanode; describe the missing pod (node, PVC, OOMKilled).`,
    },
    {
      name: 'ZooKeeperDown',
      severity: 'critical',
      expr: `${upCount(zookeeper)} < ${quorum(zookeeperServers)}`,
      for: '5m',
      summary: 'ZooKeeper of HDFS has lost its quorum',
      description: `{{ $value }} of ${zookeeperServers} ZooKeeper servers answer (a quorum needs ${quorum(zookeeperServers)}); namenode failover stops working.`,
      runbook: `kubectl -n ${NAMESPACES.hdfs} get pods -l app.kubernetes.io/instance=${ZOOKEEPER_CLUSTER}; read the logs of the servers that are not Running.`,
    },
  ];
  // With one server, "fewer than all" is the quorum alert above; only an ensemble can lose a server and stay up.
  if (zookeeperServers > quorum(zookeeperServers)) {
    alerts.push({
      name: 'ZooKeeperServerDown',
      severity: 'warning',
      expr: `${upCount(zookeeper)} < ${zookeeperServers}`,
      for: '10m',
      summary: 'A ZooKeeper server of HDFS is down',
      description: `{{ $value }} of ${zookeeperServers} ZooKeeper servers answer; the quorum holds, but one more loss stops namenode failover.`,
      runbook: `kubectl -n ${NAMESPACES.hdfs} get pods -l app.kubernetes.io/instance=${ZOOKEEPER_CLUSTER}; describe the pod that is not Running.`,
    });
  }
  return alerts;
}

function sparkAlerts(): Alert[] {
  const { sparkOperator } = SELECTORS;
  // Counters appear at their first increment, which `increase` cannot see; `unless ... offset` catches that first failure.
  const newFailures = (metric: string) =>
    `sum(increase(${metric}{${sparkOperator}}[15m])) > 0 or sum(${metric}{${sparkOperator}} unless ${metric}{${sparkOperator}} offset 15m) > 0`;
  return [
    {
      name: 'SparkApplicationFailed',
      severity: 'warning',
      expr: newFailures('spark_application_failure_count'),
      for: '1m',
      summary: 'A Spark application failed',
      description: '{{ $value }} SparkApplications reached FAILED in the last 15 minutes.',
      runbook: `kubectl -n ${NAMESPACES.pipelines} get sparkapplications; kubectl describe the FAILED one (status.applicationState.errorMessage), then read its driver log.`,
    },
    {
      name: 'SparkApplicationSubmissionFailed',
      severity: 'warning',
      expr: newFailures('spark_application_failed_submission_count'),
      for: '1m',
      summary: 'A Spark application could not be submitted',
      description: '{{ $value }} SparkApplications failed submission in the last 15 minutes: no driver pod was started.',
      runbook: `kubectl -n ${NAMESPACES.pipelines} describe sparkapplication <name>; usually quota, a missing service account or an image that cannot be pulled; then the spark-operator controller log.`,
    },
  ];
}

function operatorAlerts(): Alert[] {
  // A Deployment that should run but has no available replica, from kube-state-metrics (part of kube-prometheus-stack).
  const unavailable = (namespace: string, deployment: string) => {
    const selector = `namespace="${namespace}",deployment=~"${deployment}"`;
    return `kube_deployment_status_replicas_available{${selector}} == 0 and on (namespace, deployment) kube_deployment_spec_replicas{${selector}} > 0`;
  };
  const operator = (name: string, product: string, namespace: string, deployment: string, consequence: string): Alert => ({
    name,
    severity: 'warning',
    expr: unavailable(namespace, deployment),
    for: '10m',
    summary: `The ${product} operator is down ({{ $labels.deployment }})`,
    description: `{{ $labels.namespace }}/{{ $labels.deployment }} has no available replica: ${consequence}`,
    runbook: `kubectl -n ${namespace} describe deployment {{ $labels.deployment }} and its pods (image pull, crash loop, OOMKilled); then the Argo CD Application of the operator.`,
  });
  return [
    operator('StrimziOperatorDown', 'Strimzi', NAMESPACES.kafka, 'strimzi-cluster-operator', 'Kafka keeps running, but no change to Kafka, node pools, topics or users is applied.'),
    operator('SparkOperatorDown', 'spark-operator', NAMESPACES.sparkOperator, 'spark-operator-(controller|webhook)', 'no SparkApplication is submitted or restarted, scheduled runs are skipped.'),
    {
      ...operator('StackableOperatorDown', 'Stackable', NAMESPACES.stackableOperators, '.+', 'HDFS and ZooKeeper keep running, but are not reconciled or repaired.'),
      // The secret and listener operators also run CSI node drivers as DaemonSets: without them no HDFS pod starts.
      expr: `${unavailable(NAMESPACES.stackableOperators, '.+')} or kube_daemonset_status_number_unavailable{namespace="${NAMESPACES.stackableOperators}"} > 0`,
      summary: 'A Stackable operator is down ({{ $labels.deployment }}{{ $labels.daemonset }})',
      description: '{{ $labels.namespace }}/{{ $labels.deployment }}{{ $labels.daemonset }} is unavailable: HDFS and ZooKeeper are not reconciled, and without the CSI drivers no HDFS pod can start.',
      runbook: `kubectl -n ${NAMESPACES.stackableOperators} get deployments,daemonsets; describe the one that is not ready (image pull from oci.stackable.tech, crash loop); then the Argo CD Application of the operator.`,
    },
    operator('KarpenterDown', 'Karpenter', NAMESPACES.karpenter, 'karpenter', 'no node is launched for pending pods, and no empty, drifted or interrupted node is replaced.'),
    operator('ExternalSecretsDown', 'External Secrets', NAMESPACES.externalSecrets, '.+', 'secrets from AWS Secrets Manager are neither created nor rotated.'),
  ];
}
