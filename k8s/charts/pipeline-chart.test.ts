import { rmSync } from 'node:fs';
import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import { bucketName } from '../../environments/naming';
import type { Environment } from '../../environments/schema';
import { loadPipelines, type LoadedPipeline } from '../../pipelines/load';
import { pipelineImageTag } from '../../pipelines/runtime/image';
import { topicFields, topicsOf } from '../../pipelines/rules';
import { FIXTURE_INPUTS, fixtureEnvironments } from '../../scripts/fixtures/environments';
import { pipeline as clicksSpec } from '../../scripts/fixtures/pipeline-specs/clicks/pipeline';
import { pipeline as ledgerSpec } from '../../scripts/fixtures/pipeline-specs/ledger/pipeline';
import { pipeline as readingsSpec } from '../../scripts/fixtures/pipeline-specs/readings/pipeline';
import { fixturePipelines } from '../../scripts/fixtures/pipelines';
import { findObject, ofKind, type KubeObject } from '../manifest-lookup';
import { PipelineChart } from './pipeline-chart';

function render(env: Environment, pipelines: readonly LoadedPipeline[], pipeline: LoadedPipeline): KubeObject[] {
  const app = Testing.app();
  try {
    return Testing.synth(new PipelineChart(app, 'pipeline', { env, pipelines, pipeline })) as KubeObject[];
  } finally {
    rmSync(app.outdir, { recursive: true, force: true });
  }
}

const acls = (user: KubeObject) =>
  user.spec.authorization.acls.map((acl: any) => `${acl.resource.type}:${acl.resource.name}:${acl.operations.join('+')}`).sort();

/** The Spark application spec of a rendered pipeline: the SparkApplication's, or the template of the ScheduledSparkApplication. */
const applicationSpec = (objects: KubeObject[], pipeline: LoadedPipeline) =>
  pipeline.kind === 'streaming'
    ? findObject(objects, 'SparkApplication', pipeline.name, 'pipelines').spec
    : findObject(objects, 'ScheduledSparkApplication', pipeline.name, 'pipelines').spec.template;

const SECURITY_CONTEXT = {
  runAsNonRoot: true,
  runAsUser: 185,
  runAsGroup: 185,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

const fixtureEnvs = fixtureEnvironments();
const fixtures = await fixturePipelines();

// Every pipeline in every environment: the team's pipelines in its environments, the fixture pipelines in the fixture environments.
const cases = [
  { environments: await loadEnvironments(), pipelines: await loadPipelines() },
  { environments: fixtureEnvs, pipelines: fixtures },
].flatMap(({ environments, pipelines }) =>
  environments.flatMap((env) => pipelines.map((pipeline) => ({ env, pipeline, objects: render(env, pipelines, pipeline) }))),
);

describe.each(cases)('the $pipeline.name pipeline in $env.name', ({ env, pipeline, objects }) => {
  const usesKafka = topicsOf(pipeline).length > 0;
  const touchesHdfs = pipeline.kind === 'streaming' || pipeline.sink.type === 'hdfs';
  const spec = applicationSpec(objects, pipeline);
  const size = { ...env.spark, ...pipeline.spark?.[env.name] };

  it('declares exactly the topics its spec names, sized for the environment and never pruned', () => {
    const topics = ofKind(objects, 'KafkaTopic');
    expect(topics.map((t) => t.metadata.name).sort()).toEqual(topicsOf(pipeline).sort());
    for (const topic of topics) {
      expect(topic.metadata.namespace).toBe('kafka');
      expect(topic.metadata.labels?.['strimzi.io/cluster']).toBe('events');
      expect(topic.metadata.annotations?.['argocd.argoproj.io/sync-options']).toBe('Prune=false,Delete=false');
      expect(topic.spec.partitions).toBe(pipeline.topics?.partitions[env.name] ?? env.kafka.topicPartitions);
      expect(topic.spec.replicas).toBe(env.kafka.defaultReplicationFactor);
      // A keyed sink is compacted, so that a replayed result replaces the one sent before under the same key.
      const keyed = pipeline.sink.type === 'kafka' && pipeline.sink.topic === topic.metadata.name && (pipeline.sink.key?.length ?? 0) > 0;
      expect(topic.spec.config).toEqual({
        'retention.ms': env.kafka.retentionHours * 3_600_000,
        'min.insync.replicas': env.kafka.minInSyncReplicas,
        ...(keyed ? { 'cleanup.policy': 'compact,delete', 'segment.ms': 3_600_000 } : {}),
      });
    }
  });

  it(usesKafka ? 'has a SCRAM user allowed exactly its topics and consumer group' : 'has no Kafka user', () => {
    const users = ofKind(objects, 'KafkaUser');
    expect(users.map((u) => `${u.metadata.namespace}/${u.metadata.name}`)).toEqual(usesKafka ? [`kafka/${pipeline.name}`] : []);
    if (usesKafka) {
      expect(users[0]!.spec.authentication).toEqual({ type: 'scram-sha-512' });
      // Reads its source, writes its sink and its dead letters, reads as its own consumer group.
      const topics = topicFields(pipeline).map(({ field, topic }) => (field === 'source.topic' ? `topic:${topic}:Read+Describe` : `topic:${topic}:Write+Describe`));
      const group = pipeline.source.type === 'kafka' ? [`group:${pipeline.name}:Read`] : [];
      expect(acls(users[0]!)).toEqual([...topics, ...group].sort());
    }
  });

  it(usesKafka ? 'copies its Kafka password and the cluster CA into the pipelines namespace, and nothing else' : 'copies no Kafka credentials', () => {
    const secrets = ofKind(objects, 'ExternalSecret');
    expect(secrets.map((s) => `${s.metadata.namespace}/${s.metadata.name}`)).toEqual(usesKafka ? [`pipelines/${pipeline.name}-kafka`] : []);
    if (usesKafka) {
      expect(secrets[0]!.spec.data.map((d: any) => `${d.remoteRef.key}/${d.remoteRef.property}`)).toEqual([`${pipeline.name}/password`, 'events-cluster-ca-cert/ca.crt']);
      expect(secrets[0]!.spec.secretStoreRef).toEqual({ name: 'kafka-credentials', kind: 'SecretStore' });
    }
  });

  it(pipeline.kind === 'streaming' ? 'runs as a SparkApplication, restarted whatever ended it' : 'runs as a ScheduledSparkApplication on its schedule, never overlapping', () => {
    const [streams, batches] = [ofKind(objects, 'SparkApplication'), ofKind(objects, 'ScheduledSparkApplication')];
    if (pipeline.kind === 'streaming') {
      expect([streams.map((a) => a.metadata.name), batches]).toEqual([[pipeline.name], []]);
      expect(spec.restartPolicy.type).toBe('Always');
    } else {
      expect([streams, batches.map((a) => a.metadata.name)]).toEqual([[], [pipeline.name]]);
      expect(batches[0]!.spec).toMatchObject({ schedule: pipeline.schedule, timeZone: 'UTC', concurrencyPolicy: 'Forbid' });
      expect(spec.restartPolicy).toMatchObject({ type: 'OnFailure', onFailureRetries: 3 });
    }
  });

  it('pins the image, the service account and the job code version', () => {
    // The environment's own registry, and the tag the image's content gives it.
    expect(spec.image).toBe(`${env.aws.accountId}.dkr.ecr.${env.aws.region}.amazonaws.com/driftless-${env.name}/spark:${pipelineImageTag()}`);
    expect(spec.driver.serviceAccount).toBe(`spark-${pipeline.name}`);
    expect(spec.executor.serviceAccount).toBe(`spark-${pipeline.name}`);
    expect(spec.mainApplicationFile).toBe(`s3a://${bucketName(env, 'artifacts')}/pipelines/${pipeline.name}/${pipeline.code.hash}/driftless_runtime.py`);
  });

  it('passes the job resolved for the environment: its name, checkpoint, Kafka connection and consumer group', () => {
    const [flag, json] = spec.arguments;
    expect(flag).toBe('--job');
    const job = JSON.parse(json);
    expect(job).toMatchObject({
      pipeline: pipeline.name,
      kind: pipeline.kind,
      kafka: { bootstrapServers: 'events-kafka-bootstrap.kafka.svc:9093', usernameEnv: 'KAFKA_USERNAME', passwordEnv: 'KAFKA_PASSWORD' },
    });
    expect(job.triggerSeconds).toBe(pipeline.triggerSeconds);
    // A stream's checkpoint is in HDFS, where Spark's commit by rename is atomic; a batch has none.
    expect(job.checkpointUri).toBe(pipeline.kind === 'streaming' ? `hdfs://lake/driftless/checkpoints/${pipeline.name}` : undefined);
    if (pipeline.source.type === 'kafka') expect(job.source).toMatchObject({ type: 'kafka', topic: pipeline.source.topic, consumerGroup: pipeline.name });
    if (touchesHdfs) {
      expect(spec.hadoopConf['dfs.nameservices']).toBe('lake');
      expect(spec.hadoopConf['dfs.ha.namenodes.lake'].split(',')).toHaveLength(env.hdfs.namenodes);
    } else {
      expect(spec.hadoopConf).toBeUndefined();
    }
  });

  it('runs drivers and executors non-root, read-only, without privileges, sized for the environment', () => {
    for (const role of [spec.driver, spec.executor]) {
      expect(role.securityContext).toEqual(SECURITY_CONTEXT);
      expect(role.env.filter((e: any) => e.valueFrom).map((e: any) => `${e.name}<-${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`)).toEqual(
        usesKafka ? [`KAFKA_USERNAME<-${pipeline.name}-kafka/username`, `KAFKA_PASSWORD<-${pipeline.name}-kafka/password`] : [],
      );
      // HDFS believes the client's user name: every pipeline that touches HDFS says it is the pipelines' user.
      expect(role.env.filter((e: any) => !e.valueFrom)).toEqual(touchesHdfs ? [{ name: 'HADOOP_USER_NAME', value: 'spark' }] : []);
    }
    expect(spec.driver).toMatchObject({ cores: size.driverCores, memory: `${size.driverMemoryMiB}m` });
    expect(spec.executor).toMatchObject({ instances: size.executorInstances, cores: size.executorCores, memory: `${size.executorMemoryMiB}m` });
  });

  it('sizes its shuffles, lets executors hand over their blocks when told to go, and reaches HDFS only if it uses it', () => {
    expect(spec.sparkConf['spark.sql.shuffle.partitions']).toBe(String(size.shufflePartitions));
    for (const key of ['spark.decommission.enabled', 'spark.storage.decommission.enabled', 'spark.storage.decommission.shuffleBlocks.enabled']) {
      expect(spec.sparkConf[key]).toBe('true');
    }
    expect(spec.sparkConf['spark.eventLog.rolling.enabled']).toBe('true');
    expect(spec.hadoopConf?.['dfs.nameservices']).toBe(touchesHdfs ? 'lake' : undefined);
  });

  it('alerts on failure, on lag over its threshold and on staleness, each with a severity and a runbook', () => {
    const rules = findObject(objects, 'PrometheusRule', `${pipeline.name}-alerts`, 'pipelines').spec.groups[0].rules;
    const prefix = pipeline.name.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
    const readsKafka = pipeline.source.type === 'kafka';
    expect(rules.map((r: any) => r.alert)).toEqual(readsKafka ? [`${prefix}Failed`, `${prefix}ConsumerLag`, `${prefix}Stale`] : [`${prefix}Failed`, `${prefix}Stale`]);
    if (readsKafka) {
      const lag = rules.find((r: any) => r.alert === `${prefix}ConsumerLag`);
      expect(lag.expr).toBe(`sum(kafka_consumergroup_lag{consumergroup="${pipeline.name}"}) > ${pipeline.alerts.maxLag ?? env.monitoring.consumerLagThreshold}`);
    } else {
      expect(rules.find((r: any) => r.alert === `${prefix}Stale`).expr).toMatch(new RegExp(` > ${pipeline.alerts.staleAfterMinutes * 60}$`));
    }
    for (const rule of rules) {
      expect(rule.labels).toEqual({ severity: expect.stringMatching(/^(critical|warning)$/), pipeline: pipeline.name });
      expect(rule.annotations.runbook.length).toBeGreaterThan(20);
    }
  });

  it('adds a dashboard', () => {
    const board = findObject(objects, 'ConfigMap', `grafana-dashboard-pipeline-${pipeline.name}`, 'pipelines');
    expect(board.metadata.labels?.grafana_dashboard).toBe('1');
    expect(JSON.parse(board.data[`pipeline-${pipeline.name}.json`]).panels.length).toBeGreaterThan(1);
  });
});

describe.each(fixtureEnvs)('the fixture pipelines in $name', (env) => {
  const rendered = (name: string) => cases.find((c) => c.env === env && c.pipeline.name === name)!.objects;
  const byName = (name: string) => fixtures.find((p) => p.name === name)!;
  const readings = rendered(readingsSpec.name);
  const ledger = rendered(ledgerSpec.name);
  const clicks = rendered(clicksSpec.name);
  const ownOr = (own: Partial<Record<string, number>>, fallback: number) => own[env.name] ?? fallback;

  it('declare exactly the topics each pipeline uses, with the partitions its spec sets for the environment, else the environment default', () => {
    expect(ofKind(readings, 'KafkaTopic').map((t) => t.metadata.name).sort()).toEqual(['sensor-readings', 'sensor-readings.dlq']);
    expect(ofKind(clicks, 'KafkaTopic').map((t) => t.metadata.name).sort()).toEqual(['click-counts', 'clicks', 'clicks.dlq']);
    expect(ofKind(ledger, 'KafkaTopic')).toEqual([]);
    expect(FIXTURE_INPUTS.live.kafka.topicPartitions).not.toBe(readingsSpec.topics.partitions.live);
    const partitions = { lab: FIXTURE_INPUTS.lab.kafka.topicPartitions, trial: FIXTURE_INPUTS.trial.kafka.topicPartitions, live: readingsSpec.topics.partitions.live };
    for (const topic of ofKind(readings, 'KafkaTopic')) expect(topic.spec.partitions).toBe(partitions[env.name as keyof typeof partitions]);
    for (const topic of ofKind(clicks, 'KafkaTopic')) expect(topic.spec.partitions).toBe(FIXTURE_INPUTS[env.name as keyof typeof FIXTURE_INPUTS].kafka.topicPartitions);
  });

  it('give each pipeline that uses Kafka a SCRAM user allowed exactly its topics and consumer group', () => {
    expect(findObject(readings, 'KafkaUser', 'readings', 'kafka').spec.authentication).toEqual({ type: 'scram-sha-512' });
    expect(acls(findObject(readings, 'KafkaUser', 'readings', 'kafka'))).toEqual(
      ['group:readings:Read', 'topic:sensor-readings.dlq:Write+Describe', 'topic:sensor-readings:Read+Describe'].sort(),
    );
    expect(acls(findObject(clicks, 'KafkaUser', 'clicks', 'kafka'))).toEqual(
      ['group:clicks:Read', 'topic:click-counts:Write+Describe', 'topic:clicks.dlq:Write+Describe', 'topic:clicks:Read+Describe'].sort(),
    );
    expect(ofKind(ledger, 'KafkaUser')).toEqual([]);
  });

  it('copy the Kafka password and cluster CA into the pipelines namespace, and nothing else', () => {
    const secret = findObject(readings, 'ExternalSecret', 'readings-kafka', 'pipelines');
    expect(secret.spec.data.map((d: any) => `${d.remoteRef.key}/${d.remoteRef.property}`)).toEqual(['readings/password', 'events-cluster-ca-cert/ca.crt']);
    expect(secret.spec.secretStoreRef).toEqual({ name: 'kafka-credentials', kind: 'SecretStore' });
    expect(ofKind(ledger, 'ExternalSecret')).toEqual([]);
  });

  it('run streams as SparkApplications and batches as ScheduledSparkApplications that never overlap', () => {
    expect(ofKind(readings, 'SparkApplication').map((a) => a.metadata.name)).toEqual(['readings']);
    expect(ofKind(clicks, 'SparkApplication').map((a) => a.metadata.name)).toEqual(['clicks']);
    const scheduled = findObject(ledger, 'ScheduledSparkApplication', 'ledger', 'pipelines');
    expect(scheduled.spec).toMatchObject({ schedule: '30 3 * * *', timeZone: 'UTC', concurrencyPolicy: 'Forbid' });
    expect(scheduled.spec.template.restartPolicy).toMatchObject({ type: 'OnFailure', onFailureRetries: 3 });
  });

  it('pin the image, the service account and the job code version', () => {
    for (const [objects, name] of [[readings, 'readings'], [clicks, 'clicks']] as const) {
      const app = findObject(objects, 'SparkApplication', name, 'pipelines');
      expect(app.spec.image).toBe(`${env.aws.accountId}.dkr.ecr.${env.aws.region}.amazonaws.com/driftless-${env.name}/spark:${pipelineImageTag()}`);
      expect(app.spec.driver.serviceAccount).toBe(`spark-${name}`);
      expect(app.spec.executor.serviceAccount).toBe(`spark-${name}`);
      expect(app.spec.mainApplicationFile).toBe(`s3a://driftless-${env.name}-artifacts-${env.aws.accountId}-${env.aws.region}/pipelines/${name}/${byName(name).code.hash}/driftless_runtime.py`);
      expect(app.spec.restartPolicy.type).toBe('Always');
    }
  });

  it('pass the environment-resolved job: trigger, checkpoint, source, sink and dead letters', () => {
    const app = findObject(readings, 'SparkApplication', 'readings', 'pipelines');
    const [flag, json] = app.spec.arguments;
    expect(flag).toBe('--job');
    expect(JSON.parse(json)).toMatchObject({
      pipeline: 'readings',
      triggerSeconds: 20,
      checkpointUri: 'hdfs://lake/driftless/checkpoints/readings',
      source: { type: 'kafka', topic: 'sensor-readings', consumerGroup: 'readings' },
      sink: { type: 'hdfs', uri: 'hdfs://lake/data/readings', partitionBy: ['sensor', 'year'] },
      rejects: { type: 'kafka', topic: 'sensor-readings.dlq' },
      kafka: { bootstrapServers: 'events-kafka-bootstrap.kafka.svc:9093', usernameEnv: 'KAFKA_USERNAME', passwordEnv: 'KAFKA_PASSWORD' },
    });
    expect(app.spec.hadoopConf['dfs.nameservices']).toBe('lake');
    expect(app.spec.hadoopConf['dfs.ha.namenodes.lake'].split(',')).toHaveLength(env.hdfs.namenodes);
    const bucket = (purpose: string) => `s3a://driftless-${env.name}-${purpose}-${env.aws.accountId}-${env.aws.region}`;
    const batch = JSON.parse(findObject(ledger, 'ScheduledSparkApplication', 'ledger', 'pipelines').spec.template.arguments[1]);
    expect(batch).toMatchObject({
      source: { type: 's3', uri: `${bucket('raw')}/ledger/`, format: 'csv', file: 'ledger_{yyyymmdd}.csv' },
      sink: { type: 's3', uri: `${bucket('curated')}/ledger/`, partitionBy: ['booked_on'] },
      rejects: { type: 's3', uri: `${bucket('curated')}/errors/ledger/` },
    });
    expect(batch).not.toHaveProperty('triggerSeconds');
    const windowed = JSON.parse(findObject(clicks, 'SparkApplication', 'clicks', 'pipelines').spec.arguments[1]);
    expect(windowed).toMatchObject({
      references: [{ as: 'pages', uri: `${bucket('curated')}/reference/pages/`, format: 'csv' }],
      window: { column: 'clicked_at', unit: 'minute', watermarkMinutes: 5 },
      sink: { type: 'kafka', topic: 'click-counts' },
      rejects: { type: 'kafka', topic: 'clicks.dlq' },
    });
  });

  it('run drivers and executors non-root, read-only, without privileges, sized for the environment unless the spec says otherwise', () => {
    const app = findObject(clicks, 'SparkApplication', 'clicks', 'pipelines');
    for (const role of [app.spec.driver, app.spec.executor]) {
      expect(role.securityContext).toEqual(SECURITY_CONTEXT);
      expect(role.env.filter((e: any) => e.valueFrom).map((e: any) => `${e.name}<-${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`)).toEqual([
        'KAFKA_USERNAME<-clicks-kafka/username',
        'KAFKA_PASSWORD<-clicks-kafka/password',
      ]);
    }
    expect(app.spec.executor.instances).toBe(env.spark.executorInstances);
    const own = findObject(readings, 'SparkApplication', 'readings', 'pipelines').spec.executor;
    expect(own.instances).toBe(ownOr({ live: readingsSpec.spark.live.executorInstances }, env.spark.executorInstances));
    expect(own.memory).toBe(`${ownOr({ live: readingsSpec.spark.live.executorMemoryMiB }, env.spark.executorMemoryMiB)}m`);
    const batch = findObject(ledger, 'ScheduledSparkApplication', 'ledger', 'pipelines').spec.template.executor;
    expect(batch.instances).toBe(ownOr({ trial: ledgerSpec.spark.trial.executorInstances }, env.spark.executorInstances));
  });

  it('alert on failure, lag over the threshold and staleness', () => {
    const rules = (objects: KubeObject[], name: string) => findObject(objects, 'PrometheusRule', `${name}-alerts`, 'pipelines').spec.groups[0].rules;
    const names = (objects: KubeObject[], name: string) => rules(objects, name).map((r: any) => r.alert);
    expect(names(readings, 'readings')).toEqual(['ReadingsFailed', 'ReadingsConsumerLag', 'ReadingsStale']);
    expect(names(ledger, 'ledger')).toEqual(['LedgerFailed', 'LedgerStale']);
    const lag = rules(clicks, 'clicks').find((r: any) => r.alert === 'ClicksConsumerLag');
    expect(lag.expr).toBe(`sum(kafka_consumergroup_lag{consumergroup="clicks"}) > ${clicksSpec.alerts.maxLag}`);
    const readingsLag = rules(readings, 'readings').find((r: any) => r.alert === 'ReadingsConsumerLag');
    expect(readingsLag.expr).toContain(`> ${env.monitoring.consumerLagThreshold}`);
    const stale = rules(ledger, 'ledger').find((r: any) => r.alert === 'LedgerStale');
    expect(stale.expr).toContain(`> ${ledgerSpec.alerts.staleAfterMinutes * 60}`);
    for (const rule of [...rules(readings, 'readings'), ...rules(ledger, 'ledger')]) {
      expect(rule.labels.severity).toMatch(/^(critical|warning)$/);
      expect(rule.annotations.runbook.length).toBeGreaterThan(20);
    }
  });

  it('add a dashboard for each pipeline', () => {
    const board = findObject(readings, 'ConfigMap', 'grafana-dashboard-pipeline-readings', 'pipelines');
    expect(board.metadata.labels?.grafana_dashboard).toBe('1');
    expect(JSON.parse(board.data['pipeline-readings.json']).panels.length).toBeGreaterThan(1);
  });
});
