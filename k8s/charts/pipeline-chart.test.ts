import { rmSync } from 'node:fs';
import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import { loadPipelines, type LoadedPipeline } from '../../pipelines/load';
import { findObject, ofKind, type KubeObject } from '../manifest-lookup';
import { PipelineChart } from './pipeline-chart';

const environments = await loadEnvironments();
const pipelines = await loadPipelines();
const byName = (name: string) => pipelines.find((p) => p.name === name)!;

function render(envName: string, pipeline: LoadedPipeline): KubeObject[] {
  const env = environments.find((e) => e.name === envName)!;
  const app = Testing.app();
  try {
    return Testing.synth(new PipelineChart(app, 'pipeline', { env, pipelines, pipeline })) as KubeObject[];
  } finally {
    rmSync(app.outdir, { recursive: true, force: true });
  }
}

const acls = (user: KubeObject) =>
  user.spec.authorization.acls.map((acl: any) => `${acl.resource.type}:${acl.resource.name}:${acl.operations.join('+')}`).sort();

describe.each(environments)('the $name pipelines', (env) => {
  const temperature = render(env.name, byName('temperature'));
  const dailySales = render(env.name, byName('daily-sales'));
  const orderEvents = render(env.name, byName('order-events'));

  it('declare exactly the topics each pipeline uses, sized for the environment and never pruned', () => {
    expect(ofKind(temperature, 'KafkaTopic').map((t) => t.metadata.name).sort()).toEqual(['temperature', 'temperature.dlq']);
    expect(ofKind(orderEvents, 'KafkaTopic').map((t) => t.metadata.name).sort()).toEqual(['order-summary', 'orders', 'orders.dlq']);
    expect(ofKind(dailySales, 'KafkaTopic')).toEqual([]);
    for (const topic of [...ofKind(temperature, 'KafkaTopic'), ...ofKind(orderEvents, 'KafkaTopic')]) {
      expect(topic.metadata.labels?.['strimzi.io/cluster']).toBe('events');
      expect(topic.metadata.annotations?.['argocd.argoproj.io/sync-options']).toBe('Prune=false,Delete=false');
      expect(topic.spec.replicas).toBe(env.kafka.defaultReplicationFactor);
      expect(topic.spec.config).toEqual({ 'retention.ms': env.kafka.retentionHours * 3_600_000, 'min.insync.replicas': env.kafka.minInSyncReplicas });
    }
    expect(findObject(temperature, 'KafkaTopic', 'temperature', 'kafka').spec.partitions).toBe(byName('temperature').topics?.partitions[env.name] ?? env.kafka.topicPartitions);
  });

  it('give each pipeline a SCRAM user allowed exactly its topics and consumer group', () => {
    expect(findObject(temperature, 'KafkaUser', 'temperature', 'kafka').spec.authentication).toEqual({ type: 'scram-sha-512' });
    expect(acls(findObject(temperature, 'KafkaUser', 'temperature', 'kafka'))).toEqual(
      ['group:temperature:Read', 'topic:temperature.dlq:Write+Describe', 'topic:temperature:Read+Describe'].sort(),
    );
    expect(acls(findObject(orderEvents, 'KafkaUser', 'order-events', 'kafka'))).toEqual(
      ['group:order-events:Read', 'topic:order-summary:Write+Describe', 'topic:orders.dlq:Write+Describe', 'topic:orders:Read+Describe'].sort(),
    );
    expect(ofKind(dailySales, 'KafkaUser')).toEqual([]);
  });

  it('copies the Kafka password and cluster CA into the pipelines namespace, and nothing else', () => {
    const secret = findObject(temperature, 'ExternalSecret', 'temperature-kafka', 'pipelines');
    expect(secret.spec.data.map((d: any) => `${d.remoteRef.key}/${d.remoteRef.property}`)).toEqual(['temperature/password', 'events-cluster-ca-cert/ca.crt']);
    expect(secret.spec.secretStoreRef).toEqual({ name: 'kafka-credentials', kind: 'SecretStore' });
  });

  it('runs streams as SparkApplications and batches as ScheduledSparkApplications that never overlap', () => {
    expect(ofKind(temperature, 'SparkApplication').map((a) => a.metadata.name)).toEqual(['temperature']);
    expect(ofKind(orderEvents, 'SparkApplication').map((a) => a.metadata.name)).toEqual(['order-events']);
    const scheduled = findObject(dailySales, 'ScheduledSparkApplication', 'daily-sales', 'pipelines');
    expect(scheduled.spec).toMatchObject({ schedule: '0 2 * * *', timeZone: 'UTC', concurrencyPolicy: 'Forbid' });
    expect(scheduled.spec.template.restartPolicy).toMatchObject({ type: 'OnFailure', onFailureRetries: 3 });
  });

  it('pins the image, the service account and the job code version', () => {
    for (const [objects, name] of [[temperature, 'temperature'], [orderEvents, 'order-events']] as const) {
      const app = findObject(objects, 'SparkApplication', name, 'pipelines');
      const pipeline = byName(name);
      expect(app.spec.image).toMatch(/^docker\.io\/library\/spark:\d+\.\d+\.\d+-/);
      expect(app.spec.driver.serviceAccount).toBe(`spark-${name}`);
      expect(app.spec.executor.serviceAccount).toBe(`spark-${name}`);
      expect(app.spec.mainApplicationFile).toBe(`s3a://driftless-${env.name}-artifacts-${env.aws.accountId}-${env.aws.region}/pipelines/${name}/${pipeline.code.hash}/driftless_runtime.py`);
      expect(app.spec.restartPolicy.type).toBe('Always');
    }
  });

  it('passes the environment-resolved job: trigger, checkpoint, source, sink and dead letters', () => {
    const app = findObject(temperature, 'SparkApplication', 'temperature', 'pipelines');
    const [flag, json] = app.spec.arguments;
    expect(flag).toBe('--job');
    const job = JSON.parse(json);
    expect(job).toMatchObject({
      pipeline: 'temperature',
      triggerSeconds: 10,
      checkpointUri: `s3a://driftless-${env.name}-checkpoints-${env.aws.accountId}-${env.aws.region}/temperature/`,
      source: { type: 'kafka', topic: 'temperature', consumerGroup: 'temperature' },
      sink: { type: 'hdfs', uri: 'hdfs://lake/data/temperature', partitionBy: ['station', 'year'] },
      rejects: { type: 'kafka', topic: 'temperature.dlq' },
      kafka: { bootstrapServers: 'events-kafka-bootstrap.kafka.svc:9093', usernameEnv: 'KAFKA_USERNAME', passwordEnv: 'KAFKA_PASSWORD' },
    });
    expect(app.spec.hadoopConf['dfs.nameservices']).toBe('lake');
    expect(app.spec.hadoopConf['dfs.ha.namenodes.lake'].split(',')).toHaveLength(env.hdfs.namenodes);
  });

  it('runs drivers and executors non-root, read-only, without privileges, sized for the environment', () => {
    const app = findObject(orderEvents, 'SparkApplication', 'order-events', 'pipelines');
    for (const role of [app.spec.driver, app.spec.executor]) {
      expect(role.securityContext).toEqual({
        runAsNonRoot: true,
        runAsUser: 185,
        runAsGroup: 185,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(role.env.map((e: any) => `${e.name}<-${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`)).toEqual([
        'KAFKA_USERNAME<-order-events-kafka/username',
        'KAFKA_PASSWORD<-order-events-kafka/password',
      ]);
    }
    expect(app.spec.executor.instances).toBe(env.spark.executorInstances);
    const temperatureApp = findObject(temperature, 'SparkApplication', 'temperature', 'pipelines');
    expect(temperatureApp.spec.executor.instances).toBe(byName('temperature').spark?.[env.name]?.executorInstances ?? env.spark.executorInstances);
  });

  it('alerts on failure, lag over the threshold and staleness', () => {
    const rules = (objects: KubeObject[], name: string) => findObject(objects, 'PrometheusRule', `${name}-alerts`, 'pipelines').spec.groups[0].rules;
    const names = (objects: KubeObject[], name: string) => rules(objects, name).map((r: any) => r.alert);
    expect(names(temperature, 'temperature')).toEqual(['TemperatureFailed', 'TemperatureConsumerLag', 'TemperatureStale']);
    expect(names(dailySales, 'daily-sales')).toEqual(['DailySalesFailed', 'DailySalesStale']);
    const lag = rules(orderEvents, 'order-events').find((r: any) => r.alert === 'OrderEventsConsumerLag');
    expect(lag.expr).toBe('sum(kafka_consumergroup_lag{consumergroup="order-events"}) > 5000');
    const temperatureLag = rules(temperature, 'temperature').find((r: any) => r.alert === 'TemperatureConsumerLag');
    expect(temperatureLag.expr).toContain(`> ${env.monitoring.consumerLagThreshold}`);
    const stale = rules(dailySales, 'daily-sales').find((r: any) => r.alert === 'DailySalesStale');
    expect(stale.expr).toContain(`> ${26 * 60 * 60}`);
    for (const rule of [...rules(temperature, 'temperature'), ...rules(dailySales, 'daily-sales')]) {
      expect(rule.labels.severity).toMatch(/^(critical|warning)$/);
      expect(rule.annotations.runbook.length).toBeGreaterThan(20);
    }
  });

  it('adds a dashboard for each pipeline', () => {
    const board = findObject(temperature, 'ConfigMap', 'grafana-dashboard-pipeline-temperature', 'pipelines');
    expect(board.metadata.labels?.grafana_dashboard).toBe('1');
    expect(JSON.parse(board.data['pipeline-temperature.json']).panels.length).toBeGreaterThan(1);
  });
});
