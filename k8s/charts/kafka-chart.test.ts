import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import { FIXTURE_INPUTS, fixtureEnvironment, fixtureEnvironments } from '../../scripts/fixtures/environments';
import { findObject, ofKind, renderChart } from '../manifest-lookup';
import { KAFKA } from '../versions';
import { KafkaChart } from './kafka-chart';

// The team's environments and the fixture environments: these properties hold for any valid environment.
const environments = [...(await loadEnvironments()), ...fixtureEnvironments()];

describe.each(environments)('the $name Kafka cluster', (env) => {
  const objects = renderChart(KafkaChart, env);
  const kafka = findObject(objects, 'Kafka', 'events', 'kafka');
  const pools = ofKind(objects, 'KafkaNodePool', 'kafka');

  it('pins the Kafka version and the KRaft metadata version of k8s/versions.ts, the metadata no newer than the Kafka', () => {
    expect(ofKind(objects, 'Kafka').map((k) => [k.spec.kafka.version, k.spec.kafka.metadataVersion])).toEqual([[KAFKA.version, KAFKA.metadataVersion]]);
    const [, major, minor] = /^(\d+)\.(\d+)\.\d+$/.exec(kafka.spec.kafka.version) ?? [];
    const [, metadataMajor, metadataMinor] = /^(\d+)\.(\d+)-IV\d+$/.exec(kafka.spec.kafka.metadataVersion) ?? [];
    expect(metadataMajor, `metadata version ${kafka.spec.kafka.metadataVersion}`).toBeDefined();
    // Equal at rest; older only between the two steps of an upgrade (version first, then metadataVersion).
    expect(Number(metadataMajor) * 1000 + Number(metadataMinor)).toBeLessThanOrEqual(Number(major) * 1000 + Number(minor));
  });

  it('uses the only API version Strimzi 1.2 serves', () => {
    for (const object of [kafka, ...pools]) expect(object.apiVersion).toBe('kafka.strimzi.io/v1');
  });

  it('listens only on TLS with SCRAM-SHA-512 and authorizes with simple ACLs', () => {
    expect(kafka.spec.kafka.listeners).toEqual([
      expect.objectContaining({ name: 'tls', port: 9093, type: 'internal', tls: true, authentication: { type: 'scram-sha-512' } }),
    ]);
    expect(kafka.spec.kafka.authorization).toEqual({ type: 'simple' });
  });

  it('sets replication, min.insync.replicas, retention and no unclean leader election from the environment', () => {
    expect(kafka.spec.kafka.config).toMatchObject({
      'default.replication.factor': env.kafka.defaultReplicationFactor,
      'min.insync.replicas': env.kafka.minInSyncReplicas,
      'offsets.topic.replication.factor': env.kafka.defaultReplicationFactor,
      'unclean.leader.election.enable': false,
      'log.retention.hours': env.kafka.retentionHours,
      'auto.create.topics.enable': false,
    });
  });

  it('spreads replicas over zones', () => {
    expect(kafka.spec.kafka.rack).toEqual({ topologyKey: 'topology.kubernetes.io/zone' });
  });

  it(env.kafka.controllers > 0 ? 'runs dedicated controllers beside the brokers' : 'runs brokers that are also controllers', () => {
    const roles = Object.fromEntries(pools.map((p) => [p.metadata.name, [p.spec.roles, p.spec.replicas]]));
    expect(roles).toEqual(
      env.kafka.controllers > 0
        ? { controllers: [['controller'], env.kafka.controllers], brokers: [['broker'], env.kafka.brokers] }
        : { brokers: [['controller', 'broker'], env.kafka.brokers] },
    );
  });

  it('keeps every volume when its pool or claim goes (deleteClaim false, retaining StorageClass)', () => {
    for (const pool of pools) {
      expect(pool.metadata.labels?.['strimzi.io/cluster']).toBe('events');
      expect(pool.spec.storage.type).toBe('jbod');
      for (const volume of pool.spec.storage.volumes) {
        expect(volume).toMatchObject({ type: 'persistent-claim', deleteClaim: false, class: 'data-gp3-retain' });
      }
    }
    const brokers = findObject(objects, 'KafkaNodePool', 'brokers', 'kafka');
    expect(brokers.spec.storage.volumes[0].size).toBe(`${env.kafka.brokerStorageGiB}Gi`);
    expect(brokers.spec.resources).toEqual({
      requests: { cpu: String(env.kafka.brokerCpus), memory: `${env.kafka.brokerMemoryGiB}Gi` },
      limits: { memory: `${env.kafka.brokerMemoryGiB}Gi` },
    });
  });

  it('is never pruned or deleted by Argo CD', () => {
    for (const object of [kafka, ...pools]) {
      expect(object.metadata.annotations?.['argocd.argoproj.io/sync-options']).toBe('Prune=false,Delete=false');
    }
  });

  it('exports JMX metrics from a ConfigMap and consumer lag through Kafka Exporter, and runs the entity operator', () => {
    const { configMapKeyRef } = kafka.spec.kafka.metricsConfig.valueFrom;
    expect(kafka.spec.kafka.metricsConfig.type).toBe('jmxPrometheusExporter');
    const rules = parse(findObject(objects, 'ConfigMap', configMapKeyRef.name, 'kafka').data[configMapKeyRef.key]);
    expect(rules.rules.length).toBeGreaterThan(3);
    expect(kafka.spec.kafkaExporter).toMatchObject({ groupRegex: '.*', topicRegex: '.*' });
    expect(kafka.spec.entityOperator).toHaveProperty('topicOperator');
    expect(kafka.spec.entityOperator).toHaveProperty('userOperator');
  });
});

describe('KRaft controllers by environment', () => {
  const pools = (name: keyof typeof FIXTURE_INPUTS) =>
    Object.fromEntries(
      ofKind(renderChart(KafkaChart, fixtureEnvironment(name)), 'KafkaNodePool', 'kafka').map((p) => [p.metadata.name, [p.spec.roles, p.spec.replicas, p.spec.storage.volumes[0].size]]),
    );

  it('makes the brokers the controllers where the environment has no dedicated ones', () => {
    const { kafka } = FIXTURE_INPUTS.lab;
    expect(kafka.controllers).toBe(0);
    expect(pools('lab')).toEqual({ brokers: [['controller', 'broker'], kafka.brokers, `${kafka.brokerStorageGiB}Gi`] });
  });

  it('runs a pool of dedicated controllers, sized apart, where the environment has them', () => {
    const { kafka } = FIXTURE_INPUTS.trial;
    expect(kafka.controllers).toBeGreaterThan(0);
    expect(pools('trial')).toEqual({
      controllers: [['controller'], kafka.controllers, `${kafka.controllerStorageGiB}Gi`],
      brokers: [['broker'], kafka.brokers, `${kafka.brokerStorageGiB}Gi`],
    });
  });
});
