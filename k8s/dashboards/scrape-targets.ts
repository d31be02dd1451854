/**
 * Where the platform's metrics come from: the monitors the monitoring chart creates and the PromQL label
 * selectors that pick their series. Alerts and dashboards both build on these, so a renamed monitor
 * changes every query that depends on it instead of silently emptying a panel or muting an alert.
 */
import { HDFS_CLUSTER, KAFKA_CLUSTER, NAMESPACES } from '../../environments/naming';
import { HDFS_ZOOKEEPER_CLUSTER as ZOOKEEPER_CLUSTER } from '../charts/hdfs-chart';


/** A PodMonitor or ServiceMonitor: its namespace and name. */
export interface Monitor {
  readonly namespace: string;
  readonly name: string;
}

/** Every monitor of the platform, in the namespace of the pods it scrapes. */
export const MONITORS = {
  kafkaNodes: { namespace: NAMESPACES.kafka, name: `${KAFKA_CLUSTER}-kafka-nodes` },
  kafkaExporter: { namespace: NAMESPACES.kafka, name: `${KAFKA_CLUSTER}-kafka-exporter` },
  strimziOperator: { namespace: NAMESPACES.kafka, name: 'strimzi-cluster-operator' },
  hdfs: { namespace: NAMESPACES.hdfs, name: `${HDFS_CLUSTER}-hdfs` },
  zookeeper: { namespace: NAMESPACES.hdfs, name: ZOOKEEPER_CLUSTER },
  sparkDrivers: { namespace: NAMESPACES.pipelines, name: 'spark-drivers' },
  sparkOperator: { namespace: NAMESPACES.sparkOperator, name: 'spark-operator-controller' },
  karpenter: { namespace: NAMESPACES.karpenter, name: 'karpenter' },
} as const satisfies Record<string, Monitor>;

// prometheus-operator names the job of a PodMonitor's targets `<namespace>/<name>`.
const podMonitorJob = (monitor: Monitor) => `namespace="${monitor.namespace}",job="${monitor.namespace}/${monitor.name}"`;

/**
 * PromQL label matchers (without braces) for each source of series. The pod labels that the monitors
 * copy onto their targets (`podTargetLabels`) arrive sanitised: `strimzi.io/broker-role` → `strimzi_io_broker_role`.
 */
export const SELECTORS = {
  /** Kafka brokers and KRaft controllers (JMX exporter). */
  kafkaNodes: podMonitorJob(MONITORS.kafkaNodes),
  /** Kafka pods that hold the broker role. */
  kafkaBrokers: `${podMonitorJob(MONITORS.kafkaNodes)},strimzi_io_broker_role="true"`,
  /** Kafka Exporter: consumer group lag and offsets. */
  kafkaExporter: podMonitorJob(MONITORS.kafkaExporter),
  /** Every HDFS daemon of the cluster (namenodes, datanodes, journalnodes). */
  hdfs: `namespace="${NAMESPACES.hdfs}",app_kubernetes_io_name="hdfs",app_kubernetes_io_instance="${HDFS_CLUSTER}"`,
  /** The HDFS namenodes. */
  namenodes: `namespace="${NAMESPACES.hdfs}",app_kubernetes_io_name="hdfs",app_kubernetes_io_instance="${HDFS_CLUSTER}",app_kubernetes_io_component="namenode"`,
  /** The ZooKeeper servers of the HDFS cluster. */
  zookeeper: `namespace="${NAMESPACES.hdfs}",app_kubernetes_io_name="zookeeper",app_kubernetes_io_instance="${ZOOKEEPER_CLUSTER}"`,
  /** Spark drivers of the pipelines, and their executors as the drivers report them. */
  sparkDrivers: podMonitorJob(MONITORS.sparkDrivers),
  /** The spark-operator controller (application counts by state). */
  sparkOperator: podMonitorJob(MONITORS.sparkOperator),
} as const;
