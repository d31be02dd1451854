/**
 * The Kafka dashboard: is the cluster whole (brokers, controller, partitions), how much flows through it,
 * and how far each consumer group is behind. Metric names come from the JMX exporter rules in
 * k8s/charts/kafka-chart.ts (lower-cased) and from Strimzi's Kafka Exporter.
 */
import { dashboard, type GrafanaDashboard } from './grafana-dashboard';
import { SELECTORS } from './scrape-targets';

const { kafkaNodes, kafkaBrokers, kafkaExporter } = SELECTORS;

/** Kafka: health, throughput and consumer lag of the platform's Kafka cluster. */
export const KAFKA_DASHBOARD: GrafanaDashboard = dashboard({
  uid: 'driftless-kafka',
  title: 'Kafka',
  description: 'Brokers, partitions, throughput and consumer lag of the platform Kafka cluster.',
  tags: ['kafka'],
  panels: [
    {
      kind: 'stat',
      title: 'Brokers up',
      description: 'Broker pods whose metrics endpoint answers.',
      unit: 'short',
      thresholds: 'none',
      queries: [{ expr: `count(up{${kafkaBrokers}} == 1)` }],
      width: 6,
    },
    {
      kind: 'stat',
      title: 'Active controllers',
      description: 'Exactly one KRaft controller must be active; 0 means the quorum is lost.',
      unit: 'short',
      thresholds: 'none',
      queries: [{ expr: `sum(kafka_controller_kafkacontroller_activecontrollercount{${kafkaNodes}})` }],
      width: 6,
    },
    {
      kind: 'stat',
      title: 'Under-replicated partitions',
      description: 'Partitions with fewer in-sync replicas than replicas, summed over brokers.',
      unit: 'short',
      queries: [{ expr: `sum(kafka_server_replicamanager_underreplicatedpartitions{${kafkaNodes}})` }],
      width: 6,
    },
    {
      kind: 'stat',
      title: 'Offline partitions',
      description: 'Partitions without a leader: nobody can read or write them.',
      unit: 'short',
      queries: [{ expr: `sum(kafka_controller_kafkacontroller_offlinepartitionscount{${kafkaNodes}})` }],
      width: 6,
    },
    {
      kind: 'timeseries',
      title: 'Messages in per topic',
      description: 'Records produced per second, per topic.',
      unit: 'cps',
      queries: [{ expr: `sum by (topic) (rate(kafka_server_brokertopicmetrics_messagesinpersec_count{${kafkaNodes}}[5m]))`, legend: '{{topic}}' }],
      width: 12,
    },
    {
      kind: 'timeseries',
      title: 'Bytes in and out per broker',
      description: 'Bytes per second received from producers and sent to consumers and followers.',
      unit: 'Bps',
      queries: [
        { expr: `sum by (pod) (rate(kafka_server_brokertopicmetrics_bytesinpersec{${kafkaNodes}}[5m]))`, legend: 'in {{pod}}' },
        { expr: `sum by (pod) (rate(kafka_server_brokertopicmetrics_bytesoutpersec{${kafkaNodes}}[5m]))`, legend: 'out {{pod}}' },
      ],
      width: 12,
    },
    {
      kind: 'timeseries',
      title: 'Under-replicated and offline partitions',
      description: 'Should stay at 0; a rise during a rolling restart should clear within minutes.',
      unit: 'short',
      queries: [
        { expr: `sum by (pod) (kafka_server_replicamanager_underreplicatedpartitions{${kafkaNodes}})`, legend: 'under-replicated {{pod}}' },
        { expr: `sum(kafka_controller_kafkacontroller_offlinepartitionscount{${kafkaNodes}})`, legend: 'offline' },
      ],
      width: 12,
    },
    {
      kind: 'timeseries',
      title: 'Consumer lag per group and topic',
      description: 'Records each consumer group still has to read, summed over partitions.',
      unit: 'short',
      queries: [{ expr: `sum by (consumergroup, topic) (kafka_consumergroup_lag{${kafkaExporter}})`, legend: '{{consumergroup}} / {{topic}}' }],
      width: 12,
    },
  ],
});
