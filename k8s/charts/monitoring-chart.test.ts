import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import type { Environment } from '../../environments/schema';
import { NAMESPACES } from '../../environments/naming';
import { FIXTURE_INPUTS, fixtureEnvironment, fixtureEnvironments } from '../../scripts/fixtures/environments';
import { findObject, ofKind, renderChart, type KubeObject } from '../manifest-lookup';
import { MonitoringChart } from './monitoring-chart';

// The team's environments and the fixture environments: these properties hold for any valid environment.
const environments = [...(await loadEnvironments()), ...fixtureEnvironments()];

interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

/** Every alerting rule of the chart by alert name; throws on duplicates so a rule cannot hide another. */
function alertsOf(objects: readonly KubeObject[]): Map<string, Rule> {
  const alerts = new Map<string, Rule>();
  for (const rule of ofKind(objects, 'PrometheusRule', 'monitoring')) {
    for (const group of rule.spec.groups) {
      for (const r of group.rules as Rule[]) {
        if (alerts.has(r.alert)) throw new Error(`alert ${r.alert} is defined twice`);
        alerts.set(r.alert, r);
      }
    }
  }
  return alerts;
}

function alert(objects: readonly KubeObject[], name: string): Rule {
  const found = alertsOf(objects).get(name);
  if (found === undefined) throw new Error(`no alert ${name}`);
  return found;
}

const withReceivers = (env: Environment, alertReceivers: Environment['monitoring']['alertReceivers']): Environment => ({
  ...env,
  monitoring: { ...env.monitoring, alertReceivers },
});

const REQUIRED_ALERTS = [
  'KafkaBrokerDown',
  'KafkaUnderReplicatedPartitions',
  'KafkaOfflinePartitions',
  'KafkaNoActiveController',
  'KafkaConsumerLagHigh',
  'HdfsMissingBlocks',
  'HdfsCorruptBlocks',
  'HdfsCapacityHigh',
  'HdfsNamenodeDown',
  'ZooKeeperDown',
  'SparkApplicationFailed',
  'StrimziOperatorDown',
  'SparkOperatorDown',
  'StackableOperatorDown',
  'ExternalSecretsDown',
  'KarpenterDown',
];

describe.each(environments)('the $name monitoring', (env) => {
  const objects = renderChart(MonitoringChart, env);

  describe('scrape targets', () => {
    it('scrapes Kafka brokers and controllers on tcp-prometheus, without picking up Kafka Exporter', () => {
      const monitor = findObject(objects, 'PodMonitor', 'events-kafka-nodes', 'kafka');
      expect(monitor.spec.selector.matchLabels).toEqual({ 'strimzi.io/cluster': 'events', 'strimzi.io/kind': 'Kafka', 'strimzi.io/name': 'events-kafka' });
      expect(monitor.spec.podMetricsEndpoints).toEqual([expect.objectContaining({ port: 'tcp-prometheus' })]);
      // The broker-down alert counts pods by this label.
      expect(monitor.spec.podTargetLabels).toContain('strimzi.io/broker-role');
    });

    it('scrapes Kafka Exporter on tcp-prometheus', () => {
      const monitor = findObject(objects, 'PodMonitor', 'events-kafka-exporter', 'kafka');
      expect(monitor.spec.selector.matchLabels).toEqual({ 'strimzi.io/name': 'events-kafka-exporter' });
      expect(monitor.spec.podMetricsEndpoints).toEqual([expect.objectContaining({ port: 'tcp-prometheus' })]);
    });

    it('scrapes the Strimzi cluster operator on its http port', () => {
      const monitor = findObject(objects, 'PodMonitor', 'strimzi-cluster-operator', 'kafka');
      expect(monitor.spec.selector.matchLabels).toEqual({ 'strimzi.io/kind': 'cluster-operator' });
      expect(monitor.spec.podMetricsEndpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
    });

    it("scrapes every HDFS daemon's built-in /prom endpoint through the Stackable metrics Services", () => {
      const monitor = findObject(objects, 'ServiceMonitor', 'lake-hdfs', 'hdfs');
      expect(monitor.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'hdfs', 'app.kubernetes.io/instance': 'lake', 'prometheus.io/scrape': 'true' });
      expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/prom' })]);
      // The namenode-down alert selects on the role that this copies from the pods.
      expect(monitor.spec.podTargetLabels).toContain('app.kubernetes.io/component');
    });

    it('scrapes the ZooKeeper servers of HDFS through their metrics Services', () => {
      const monitor = findObject(objects, 'ServiceMonitor', 'lake-zookeeper', 'hdfs');
      expect(monitor.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'zookeeper', 'app.kubernetes.io/instance': 'lake-zookeeper', 'prometheus.io/scrape': 'true' });
      expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics' })]);
    });

    it('scrapes Spark drivers on the UI port, for the driver and through it for the executors', () => {
      const monitor = findObject(objects, 'PodMonitor', 'spark-drivers', 'pipelines');
      expect(monitor.spec.selector.matchLabels).toEqual({ 'spark-role': 'driver' });
      expect(monitor.spec.podMetricsEndpoints.map((e: { port: string; path: string }) => [e.port, e.path])).toEqual([
        ['spark-ui', '/metrics/prometheus/'],
        ['spark-ui', '/metrics/executors/prometheus/'],
      ]);
    });

    it('scrapes the spark-operator controller on its metrics port', () => {
      const monitor = findObject(objects, 'PodMonitor', 'spark-operator-controller', 'spark-operator');
      expect(monitor.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'spark-operator', 'app.kubernetes.io/component': 'controller' });
      expect(monitor.spec.podMetricsEndpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics' })]);
    });

    it("scrapes Karpenter's controller on the chart's metrics port, in the karpenter namespace", () => {
      const monitor = findObject(objects, 'PodMonitor', 'karpenter', NAMESPACES.karpenter);
      expect(monitor.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'karpenter', 'app.kubernetes.io/instance': 'karpenter' });
      expect(monitor.spec.podMetricsEndpoints).toEqual([expect.objectContaining({ port: 'http-metrics', path: '/metrics' })]);
    });

    it('names in every alert and dashboard only jobs that a PodMonitor of the chart produces', () => {
      const jobs = new Set(ofKind(objects, 'PodMonitor').map((m) => `${m.metadata.namespace}/${m.metadata.name}`));
      const queries = [
        ...[...alertsOf(objects).values()].map((r) => r.expr),
        ...ofKind(objects, 'ConfigMap', 'monitoring').flatMap((c) => Object.values(c.data as Record<string, string>)),
      ].join('\n');
      const referenced = [...queries.matchAll(/job=\\?"([^"\\]+)\\?"/g)].map((m) => m[1]);
      expect(referenced.length).toBeGreaterThan(0);
      for (const job of referenced) expect(jobs).toContain(job);
    });
  });

  describe('alerts', () => {
    it.each(REQUIRED_ALERTS)('alerts on %s with a severity, a for duration, a summary, a description and a runbook', (name) => {
      const rule = alert(objects, name);
      expect(['critical', 'warning']).toContain(rule.labels?.severity);
      expect(rule.for).toMatch(/^\d+[smh]$/);
      for (const key of ['summary', 'description', 'runbook']) expect(rule.annotations?.[key]?.trim()).toBeTruthy();
      // A runbook is one line: what to check first.
      expect(rule.annotations?.runbook).not.toContain('\n');
    });

    it('gives every alert of the chart a severity Alertmanager routes and a runbook', () => {
      for (const rule of alertsOf(objects).values()) {
        expect(['critical', 'warning'], rule.alert).toContain(rule.labels?.severity);
        expect(rule.annotations?.runbook, rule.alert).toBeTruthy();
      }
    });

    it(`pages when fewer than the environment's ${env.kafka.brokers} brokers are up, also when none is`, () => {
      const rule = alert(objects, 'KafkaBrokerDown');
      expect(rule.expr).toBe(`(count(up{namespace="kafka",job="kafka/events-kafka-nodes",strimzi_io_broker_role="true"} == 1) or vector(0)) < ${env.kafka.brokers}`);
      expect(rule.labels?.severity).toBe('critical');
    });

    it(`warns when a consumer group is more than ${env.monitoring.consumerLagThreshold} records behind on a topic`, () => {
      const rule = alert(objects, 'KafkaConsumerLagHigh');
      expect(rule.expr).toBe(`sum by (consumergroup, topic) (kafka_consumergroup_lag{namespace="kafka",job="kafka/events-kafka-exporter"}) > ${env.monitoring.consumerLagThreshold}`);
      const other = alert(renderChart(MonitoringChart, { ...env, monitoring: { ...env.monitoring, consumerLagThreshold: 4242 } }), 'KafkaConsumerLagHigh');
      expect(other.expr).toMatch(/ > 4242$/);
    });

    it('alerts on under-replicated and offline partitions and on a controller quorum without one active controller', () => {
      expect(alert(objects, 'KafkaUnderReplicatedPartitions').expr).toMatch(/kafka_server_replicamanager_underreplicatedpartitions\{[^}]+\}\) > 0$/);
      expect(alert(objects, 'KafkaOfflinePartitions').expr).toMatch(/^sum\(kafka_controller_kafkacontroller_offlinepartitionscount\{[^}]+\}\) > 0$/);
      expect(alert(objects, 'KafkaNoActiveController').expr).toMatch(/^\(sum\(kafka_controller_kafkacontroller_activecontrollercount\{[^}]+\}\) or vector\(0\)\) != 1$/);
      expect(alert(objects, 'KafkaOfflinePartitions').labels?.severity).toBe('critical');
    });

    it('alerts on missing and corrupt blocks and on HDFS above 80 % of its capacity', () => {
      expect(alert(objects, 'HdfsMissingBlocks').expr).toMatch(/^max\(fs_namesystem_missing_blocks\{.+\}\) > 0$/);
      expect(alert(objects, 'HdfsCorruptBlocks').expr).toMatch(/^max\(fs_namesystem_corrupt_blocks\{.+\}\) > 0$/);
      expect(alert(objects, 'HdfsCapacityHigh').expr).toMatch(/^max\(fs_namesystem_capacity_used\{.+\}\) \/ max\(fs_namesystem_capacity_total\{.+\}\) > 0\.8$/);
    });

    it(`pages when fewer than the environment's ${env.hdfs.namenodes} namenodes are up`, () => {
      expect(alert(objects, 'HdfsNamenodeDown').expr).toMatch(new RegExp(`app_kubernetes_io_component="namenode"\\} == 1\\) or vector\\(0\\)\\) < ${env.hdfs.namenodes}$`));
    });

    it('pages when ZooKeeper loses its quorum, and warns of a lost server only where the ensemble survives one', () => {
      const servers = env.hdfs.namenodes > 1 ? 3 : 1;
      expect(alert(objects, 'ZooKeeperDown').expr).toMatch(new RegExp(`instance="lake-zookeeper"\\} == 1\\) or vector\\(0\\)\\) < ${Math.floor(servers / 2) + 1}$`));
      expect(alertsOf(objects).has('ZooKeeperServerDown')).toBe(servers > 1);
    });

    it('alerts on failed Spark applications from the spark-operator counters, including the first failure', () => {
      const rule = alert(objects, 'SparkApplicationFailed');
      expect(rule.expr).toContain('increase(spark_application_failure_count{namespace="spark-operator",job="spark-operator/spark-operator-controller"}[15m])');
      expect(rule.expr).toContain('unless spark_application_failure_count{namespace="spark-operator",job="spark-operator/spark-operator-controller"} offset 15m');
    });

    it('alerts when an operator has no available replica, by its namespace and Deployment', () => {
      expect(alert(objects, 'StrimziOperatorDown').expr).toContain('kube_deployment_status_replicas_available{namespace="kafka",deployment=~"strimzi-cluster-operator"} == 0');
      expect(alert(objects, 'SparkOperatorDown').expr).toContain('namespace="spark-operator",deployment=~"spark-operator-(controller|webhook)"');
      expect(alert(objects, 'StackableOperatorDown').expr).toContain('kube_daemonset_status_number_unavailable{namespace="stackable-operators"}');
      expect(alert(objects, 'ExternalSecretsDown').expr).toContain('namespace="external-secrets"');
    });
  });

  describe('dashboards', () => {
    const dashboards = ofKind(objects, 'ConfigMap', 'monitoring').filter((c) => c.metadata.labels?.grafana_dashboard === '1');
    const parsed = (name: string) => {
      const map = findObject(objects, 'ConfigMap', `grafana-dashboard-${name}`, 'monitoring');
      return JSON.parse(map.data[`${name}.json`]) as { uid: string; panels: Array<{ id: number; title: string; targets: Array<{ expr: string; datasource: { uid: string } }> }> };
    };
    const queries = (name: string) => parsed(name).panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');

    it('ships a Kafka, an HDFS and a Spark dashboard as ConfigMaps that the Grafana sidecar picks up', () => {
      expect(dashboards.map((d) => d.metadata.name).sort()).toEqual(['grafana-dashboard-hdfs', 'grafana-dashboard-kafka', 'grafana-dashboard-spark']);
    });

    it.each(['kafka', 'hdfs', 'spark'])('makes the %s dashboard valid JSON with panels that query the chosen Prometheus', (name) => {
      const dashboard = parsed(name);
      expect(dashboard.uid).toBe(`driftless-${name}`);
      expect(dashboard.panels.length).toBeGreaterThan(3);
      expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
      for (const panel of dashboard.panels) {
        expect(panel.targets.length, panel.title).toBeGreaterThan(0);
        for (const target of panel.targets) {
          expect(target.expr.trim(), panel.title).toBeTruthy();
          expect(target.datasource.uid).toBe('${datasource}');
        }
      }
    });

    it('shows throughput, under-replicated and offline partitions and lag per consumer group for Kafka', () => {
      const kafka = queries('kafka');
      expect(kafka).toContain('kafka_server_brokertopicmetrics_messagesinpersec_count');
      expect(kafka).toContain('kafka_server_replicamanager_underreplicatedpartitions');
      expect(kafka).toContain('kafka_controller_kafkacontroller_offlinepartitionscount');
      expect(kafka).toContain('sum by (consumergroup, topic) (kafka_consumergroup_lag');
    });

    it('shows capacity, blocks and live datanodes for HDFS and running and failed applications for Spark', () => {
      const hdfs = queries('hdfs');
      for (const metric of ['capacity_used', 'capacity_total', 'missing_blocks', 'num_live_data_nodes']) expect(hdfs).toContain(`fs_namesystem_${metric}`);
      const spark = queries('spark');
      for (const metric of ['spark_application_running_count', 'spark_application_failure_count', 'metrics_executor_activeTasks']) expect(spark).toContain(metric);
    });

    it('renders the same dashboards every time', () => {
      const again = renderChart(MonitoringChart, env);
      for (const map of dashboards) expect(findObject(again, 'ConfigMap', map.metadata.name, 'monitoring').data).toEqual(map.data);
    });
  });

  describe('secrets', () => {
    it(`reads AWS Secrets Manager in ${env.aws.region} with External Secrets' own Pod Identity role, for the monitoring namespace only`, () => {
      const store = findObject(objects, 'ClusterSecretStore', 'aws-secrets-manager');
      expect(store.metadata.namespace).toBeUndefined();
      expect(store.spec.provider).toEqual({ aws: { service: 'SecretsManager', region: env.aws.region } });
      expect(store.spec.conditions).toEqual([{ namespaces: ['monitoring'] }]);
    });

    it("makes Grafana's admin Secret from the username and password of the environment's secret", () => {
      const secret = findObject(objects, 'ExternalSecret', 'grafana-admin', 'monitoring');
      expect(secret.spec.secretStoreRef).toEqual({ kind: 'ClusterSecretStore', name: 'aws-secrets-manager' });
      expect(secret.spec.target.name).toBe('grafana-admin');
      expect(secret.spec.refreshInterval).toBe('1h');
      expect(secret.spec.data).toEqual([
        { secretKey: 'admin-user', remoteRef: { key: `driftless/${env.name}/grafana-admin`, property: 'username' } },
        { secretKey: 'admin-password', remoteRef: { key: `driftless/${env.name}/grafana-admin`, property: 'password' } },
      ]);
    });

    it('gives Alertmanager the credentials of exactly the receivers the environment routes to', () => {
      const secret = findObject(objects, 'ExternalSecret', 'alertmanager-receivers', 'monitoring');
      expect(secret.spec.refreshInterval).toBe('1h');
      const types = new Set(Object.values(env.monitoring.alertReceivers).map((r) => r.type));
      const keys = secret.spec.data.map((d: { secretKey: string }) => d.secretKey);
      expect(keys.includes('pagerduty-routing-key')).toBe(types.has('pagerduty'));
      expect(keys.includes('slack-webhook-url')).toBe(types.has('slack'));
      for (const entry of secret.spec.data) expect(entry.remoteRef.key).toBe(`driftless/${env.name}/alertmanager`);
    });

    it('reads only the PagerDuty routing key when both severities page, and only the Slack webhook when both go to Slack', () => {
      const keysFor = (receivers: Environment['monitoring']['alertReceivers']) =>
        findObject(renderChart(MonitoringChart, withReceivers(env, receivers)), 'ExternalSecret', 'alertmanager-receivers', 'monitoring').spec.data.map(
          (d: { secretKey: string; remoteRef: { property: string } }) => [d.secretKey, d.remoteRef.property],
        );
      expect(keysFor({ critical: { type: 'pagerduty' }, warning: { type: 'pagerduty' } })).toEqual([['pagerduty-routing-key', 'pagerdutyRoutingKey']]);
      expect(keysFor({ critical: { type: 'slack', channel: '#a' }, warning: { type: 'slack', channel: '#b' } })).toEqual([['slack-webhook-url', 'slackWebhookUrl']]);
    });

    it("reads the dead man's switch URL where the environment has one, and only there", () => {
      const entries = (deadMansSwitch: Environment['monitoring']['deadMansSwitch']) =>
        findObject(renderChart(MonitoringChart, { ...env, monitoring: { ...env.monitoring, deadMansSwitch } }), 'ExternalSecret', 'alertmanager-receivers', 'monitoring').spec.data;
      const url = { secretKey: 'dead-mans-switch-url', remoteRef: { key: `driftless/${env.name}/alertmanager`, property: 'deadMansSwitchUrl' } };
      expect(entries(undefined)).not.toContainEqual(url);
      expect(entries({ type: 'webhook' })).toEqual([...entries(undefined), url]);
    });
  });
});

describe('the receivers by environment', () => {
  const secretKeys = (name: keyof typeof FIXTURE_INPUTS) =>
    findObject(renderChart(MonitoringChart, fixtureEnvironment(name)), 'ExternalSecret', 'alertmanager-receivers', 'monitoring').spec.data.map(
      (d: { secretKey: string }) => d.secretKey,
    );

  it('reads the PagerDuty routing key and the Slack webhook where critical alerts page and warnings post to Slack', () => {
    expect([FIXTURE_INPUTS.live.monitoring.alertReceivers.critical.type, FIXTURE_INPUTS.live.monitoring.alertReceivers.warning.type]).toEqual(['pagerduty', 'slack']);
    expect(secretKeys('live')).toEqual(['pagerduty-routing-key', 'slack-webhook-url']);
  });

  it('reads no PagerDuty key where alerts only post to Slack', () => {
    expect([FIXTURE_INPUTS.lab.monitoring.alertReceivers.critical.type, FIXTURE_INPUTS.lab.monitoring.alertReceivers.warning.type]).toEqual(['slack', 'slack']);
    expect(secretKeys('lab')).toEqual(['slack-webhook-url']);
  });
});
