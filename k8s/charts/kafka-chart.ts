import type { Construct } from 'constructs';
import { stringify } from 'yaml';
import { KAFKA_CLUSTER, NAMESPACES } from '../../environments/naming';
import {
  Kafka,
  KafkaNodePool,
  KafkaNodePoolSpecResourcesLimits as Limit,
  KafkaNodePoolSpecResourcesRequests as Request,
  KafkaNodePoolSpecRoles,
  KafkaNodePoolSpecStorageType,
  KafkaNodePoolSpecStorageVolumesKraftMetadata,
  KafkaNodePoolSpecStorageVolumesType,
  KafkaSpecKafkaAuthorizationType,
  KafkaSpecKafkaListenersAuthenticationType,
  KafkaSpecKafkaListenersType,
  KafkaSpecEntityOperatorTopicOperatorResourcesLimits as TopicOperatorLimit,
  KafkaSpecEntityOperatorTopicOperatorResourcesRequests as TopicOperatorRequest,
  KafkaSpecEntityOperatorUserOperatorResourcesLimits as UserOperatorLimit,
  KafkaSpecEntityOperatorUserOperatorResourcesRequests as UserOperatorRequest,
  KafkaSpecKafkaExporterResourcesLimits as ExporterLimit,
  KafkaSpecKafkaExporterResourcesRequests as ExporterRequest,
  KafkaSpecKafkaMetricsConfigType,
} from '../imports/kafka.strimzi.io';
import { KEEP_DATA } from '../argocd';
import { KAFKA } from '../versions';
import { k8s } from '../kube';
import { nodeAffinityFor } from '../placement';
import { cpus, gibibytes, kafkaPods, type PodGroup } from '../sizing';
import { EnvironmentChart, type EnvironmentChartProps } from './environment-chart';
import { DATA_STORAGE_CLASS } from './platform-chart';

/** The only listener: TLS on 9093 with SCRAM-SHA-512; there is no plaintext or unauthenticated way in. */
export const KAFKA_LISTENER = { name: 'tls', port: 9093 } as const;

/** ConfigMap with the JMX Prometheus exporter rules for brokers and controllers. */
const METRICS_CONFIG_MAP = `${KAFKA_CLUSTER}-metrics`;
const METRICS_KEY = 'kafka-metrics-config.yml';

/**
 * JMX exporter rules: the broker, controller, network, log and KRaft quorum MBeans as Prometheus
 * metrics, lower-cased (e.g. `kafka_server_replicamanager_underreplicatedpartitions`,
 * `kafka_controller_kafkacontroller_offlinepartitionscount`, `kafka_server_raft_metrics_current_leader`).
 */
const JMX_EXPORTER_RULES = {
  lowercaseOutputName: true,
  lowercaseOutputLabelNames: true,
  rules: [
    { pattern: 'kafka.server<type=(.+), name=(.+), clientId=(.+), topic=(.+), partition=(.*)><>Value', name: 'kafka_server_$1_$2', type: 'GAUGE', labels: { clientId: '$3', topic: '$4', partition: '$5' } },
    { pattern: 'kafka.server<type=(.+), name=(.+), topic=(.+)><>(Count|OneMinuteRate)', name: 'kafka_server_$1_$2_$4', type: 'GAUGE', labels: { topic: '$3' } },
    { pattern: 'kafka.server<type=raft-metrics><>([a-z-]+)', name: 'kafka_server_raft_metrics_$1', type: 'GAUGE' },
    { pattern: 'kafka.server<type=(.+), name=(.+)><>(Value|Count)', name: 'kafka_server_$1_$2', type: 'GAUGE' },
    { pattern: 'kafka.controller<type=(.+), name=(.+)><>(Value|Count)', name: 'kafka_controller_$1_$2', type: 'GAUGE' },
    { pattern: 'kafka.network<type=(.+), name=(.+), request=(.+)><>(Count|99thPercentile)', name: 'kafka_network_$1_$2_$4', type: 'GAUGE', labels: { request: '$3' } },
    { pattern: 'kafka.log<type=(.+), name=(.+), topic=(.+), partition=(.*)><>Value', name: 'kafka_log_$1_$2', type: 'GAUGE', labels: { topic: '$3', partition: '$4' } },
  ],
};

/**
 * `k8s/rendered/<env>/kafka`: the Strimzi Kafka cluster in KRaft mode.
 * Node pools are sized from the environment: dedicated controllers when `kafka.controllers` > 0, else
 * brokers that are also controllers. Storage is JBOD on the retaining StorageClass with `deleteClaim: false`,
 * and the Kafka and pool objects are never pruned or deleted by Argo CD.
 */
export class KafkaChart extends EnvironmentChart {
  constructor(scope: Construct, id: string, props: EnvironmentChartProps) {
    super(scope, id, props);
    const { env } = props;
    const pods = kafkaPods(env);
    const namespace = NAMESPACES.kafka;

    new k8s.KubeConfigMap(this, 'metrics', {
      metadata: { name: METRICS_CONFIG_MAP, namespace },
      data: { [METRICS_KEY]: stringify(JMX_EXPORTER_RULES, { lineWidth: 0 }) },
    });

    const resources = (group: PodGroup) => resourcesOf(Request, Limit, group);
    const stable = nodeAffinityFor('stable');
    const pool = (name: string, roles: KafkaNodePoolSpecRoles[], group: PodGroup) =>
      new KafkaNodePool(this, `pool-${name}`, {
        metadata: { name, namespace, labels: { 'strimzi.io/cluster': KAFKA_CLUSTER }, annotations: KEEP_DATA },
        spec: {
          replicas: group.replicas,
          roles,
          resources: resources(group),
          // JVM heap at half the container, the rest for the page cache Kafka relies on.
          jvmOptions: { xms: heap(group), xmx: heap(group) },
          // Brokers and controllers hold partitions and the quorum: never on nodes that may be reclaimed.
          template: { pod: { affinity: stable } },
          storage: {
            type: KafkaNodePoolSpecStorageType.JBOD,
            volumes: [
              {
                id: 0,
                type: KafkaNodePoolSpecStorageVolumesType.PERSISTENT_HYPHEN_CLAIM,
                size: gibibytes(group.storageGiB),
                class: DATA_STORAGE_CLASS,
                deleteClaim: false,
                kraftMetadata: KafkaNodePoolSpecStorageVolumesKraftMetadata.SHARED,
              },
            ],
          },
        },
      });
    if (env.kafka.controllers > 0) {
      pool('controllers', [KafkaNodePoolSpecRoles.CONTROLLER], pods.controllers);
      pool('brokers', [KafkaNodePoolSpecRoles.BROKER], pods.brokers);
    } else {
      pool('brokers', [KafkaNodePoolSpecRoles.CONTROLLER, KafkaNodePoolSpecRoles.BROKER], pods.brokers);
    }

    const half = (group: PodGroup): PodGroup => ({ ...group, cpu: group.cpu / 2, memoryGiB: group.memoryGiB / 2 });
    new Kafka(this, 'kafka', {
      metadata: { name: KAFKA_CLUSTER, namespace, annotations: KEEP_DATA },
      spec: {
        kafka: {
          version: KAFKA.version,
          metadataVersion: KAFKA.metadataVersion,
          listeners: [
            {
              ...KAFKA_LISTENER,
              type: KafkaSpecKafkaListenersType.INTERNAL,
              tls: true,
              authentication: { type: KafkaSpecKafkaListenersAuthenticationType.SCRAM_HYPHEN_SHA_HYPHEN_512 },
              networkPolicyPeers: [NAMESPACES.pipelines, NAMESPACES.kafka].map((name) => ({
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } },
              })),
            },
          ],
          authorization: { type: KafkaSpecKafkaAuthorizationType.SIMPLE },
          // Replicas of a partition are spread over zones, so losing an AZ loses no data.
          rack: { topologyKey: 'topology.kubernetes.io/zone' },
          config: {
            'default.replication.factor': env.kafka.defaultReplicationFactor,
            'min.insync.replicas': env.kafka.minInSyncReplicas,
            'offsets.topic.replication.factor': env.kafka.defaultReplicationFactor,
            'transaction.state.log.replication.factor': env.kafka.defaultReplicationFactor,
            'transaction.state.log.min.isr': env.kafka.minInSyncReplicas,
            // A replica that missed writes never becomes leader: availability never costs acknowledged data.
            'unclean.leader.election.enable': false,
            'log.retention.hours': env.kafka.retentionHours,
            // Topics exist only as KafkaTopics in Git.
            'auto.create.topics.enable': false,
          },
          metricsConfig: {
            type: KafkaSpecKafkaMetricsConfigType.JMX_PROMETHEUS_EXPORTER,
            valueFrom: { configMapKeyRef: { name: METRICS_CONFIG_MAP, key: METRICS_KEY } },
          },
        },
        entityOperator: {
          // The entity operator pod runs both operators; they share its size.
          topicOperator: { resources: resourcesOf(TopicOperatorRequest, TopicOperatorLimit, half(pods.entityOperator)) },
          userOperator: { resources: resourcesOf(UserOperatorRequest, UserOperatorLimit, half(pods.entityOperator)) },
          template: { pod: { affinity: stable } },
        },
        // Consumer lag per group and topic, for the lag alerts.
        kafkaExporter: { groupRegex: '.*', topicRegex: '.*', resources: resourcesOf(ExporterRequest, ExporterLimit, pods.kafkaExporter), template: { pod: { affinity: stable } } },
      },
    });
  }
}

/** Requests and a memory limit (no CPU limit: throttling a broker hurts more than it protects) in the generated quantity types. */
function resourcesOf<R, L>(request: { fromString(value: string): R }, limit: { fromString(value: string): L }, group: PodGroup) {
  return {
    requests: { cpu: request.fromString(cpus(group.cpu)), memory: request.fromString(gibibytes(group.memoryGiB)) },
    limits: { memory: limit.fromString(gibibytes(group.memoryGiB)) },
  };
}

const heap = (group: PodGroup) => `${Math.max(256, Math.floor((group.memoryGiB * 1024) / 2))}m`;
