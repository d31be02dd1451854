/**
 * Rules for Strimzi Kafka: only authenticated TLS listeners, authorization on, replication at least what the
 * environment asks for, volumes that outlive their claims, and users limited to named topics and groups.
 */
import type { ManifestRule } from './rule';
import { storageClassProblem } from './storage-rules';

export const listenersSecured: ManifestRule = {
  id: 'DL-KAFKA-001',
  severity: 'error',
  target: 'manifest',
  kinds: ['Kafka'],
  description: 'Every Kafka listener encrypts with TLS and authenticates clients.',
  hint: "Give each listener tls: true and authentication (e.g. { type: 'scram-sha-512' }).",
  check: (kafka) => {
    const listeners: Array<Record<string, any>> = Array.isArray(kafka.spec?.kafka?.listeners) ? kafka.spec.kafka.listeners : [];
    return listeners.flatMap((listener) => [
      ...(listener.tls === true ? [] : [`listener ${listener.name ?? '?'} (port ${listener.port ?? '?'}) does not use TLS`]),
      ...(typeof listener.authentication?.type === 'string' ? [] : [`listener ${listener.name ?? '?'} (port ${listener.port ?? '?'}) lets clients in without authentication`]),
    ]);
  },
};

export const authorizationOn: ManifestRule = {
  id: 'DL-KAFKA-002',
  severity: 'error',
  target: 'manifest',
  kinds: ['Kafka'],
  description: 'Kafka authorizes every request (spec.kafka.authorization), so users reach only their ACLs.',
  hint: "Set spec.kafka.authorization: { type: 'simple' }.",
  check: (kafka) =>
    typeof kafka.spec?.kafka?.authorization?.type === 'string' ? [] : [`Kafka ${kafka.metadata.name} has no authorization: every authenticated user can read and write every topic`],
};

export const replicationMeetsEnvironment: ManifestRule = {
  id: 'DL-KAFKA-003',
  severity: 'error',
  target: 'manifest',
  kinds: ['Kafka'],
  description: "Kafka's replication settings meet the environment's kafka.defaultReplicationFactor and kafka.minInSyncReplicas, and unclean leader election is off.",
  hint: 'Set default.replication.factor, offsets.topic.replication.factor and min.insync.replicas in spec.kafka.config from the environment.',
  check: (kafka, { env }) => {
    const config: Record<string, unknown> = kafka.spec?.kafka?.config ?? {};
    // Kafka's own defaults where a key is absent.
    const value = (key: string, fallback: number) => Number(config[key] ?? fallback);
    const atLeast = (key: string, fallback: number, minimum: number, field: string) =>
      value(key, fallback) >= minimum ? [] : [`Kafka ${kafka.metadata.name} sets ${key} ${value(key, fallback)}, below ${field} (${minimum}) of environment '${env.name}'`];
    return [
      ...atLeast('default.replication.factor', 1, env.kafka.defaultReplicationFactor, 'kafka.defaultReplicationFactor'),
      ...atLeast('offsets.topic.replication.factor', 3, env.kafka.defaultReplicationFactor, 'kafka.defaultReplicationFactor'),
      ...atLeast('min.insync.replicas', 1, env.kafka.minInSyncReplicas, 'kafka.minInSyncReplicas'),
      ...(String(config['unclean.leader.election.enable']) === 'true' ? [`Kafka ${kafka.metadata.name} enables unclean leader election, which loses acknowledged writes`] : []),
    ];
  },
};

export const topicReplication: ManifestRule = {
  id: 'DL-KAFKA-004',
  severity: 'error',
  target: 'manifest',
  kinds: ['KafkaTopic'],
  description: "Every topic has at least the environment's replication factor and min.insync.replicas.",
  hint: 'Set spec.replicas to kafka.defaultReplicationFactor and config min.insync.replicas to kafka.minInSyncReplicas (PipelineChart does).',
  check: (topic, { env }) => {
    const replicas = topic.spec?.replicas;
    const minIsr = topic.spec?.config?.['min.insync.replicas'];
    return [
      ...(typeof replicas === 'number' && replicas >= env.kafka.defaultReplicationFactor
        ? []
        : [`topic ${topic.metadata.name} has ${replicas ?? 'no'} replicas, below kafka.defaultReplicationFactor (${env.kafka.defaultReplicationFactor}) of environment '${env.name}'`]),
      ...(minIsr !== undefined && Number(minIsr) < env.kafka.minInSyncReplicas
        ? [`topic ${topic.metadata.name} sets min.insync.replicas ${minIsr}, below kafka.minInSyncReplicas (${env.kafka.minInSyncReplicas}) of environment '${env.name}'`]
        : []),
    ];
  },
};

export const volumesKept: ManifestRule = {
  id: 'DL-KAFKA-005',
  severity: 'error',
  target: 'manifest',
  kinds: ['KafkaNodePool', 'Kafka'],
  description: 'Kafka volumes are persistent claims with deleteClaim: false on a StorageClass that retains volumes.',
  hint: "Give every volume type 'persistent-claim', deleteClaim: false and class DATA_STORAGE_CLASS.",
  check: (object, { manifests }) => {
    const storage = object.kind === 'Kafka' ? object.spec?.kafka?.storage : object.spec?.storage;
    if (storage === undefined) return object.kind === 'KafkaNodePool' ? [`node pool ${object.metadata.name} declares no storage`] : [];
    const volumes: Array<Record<string, any>> = storage.type === 'jbod' ? (Array.isArray(storage.volumes) ? storage.volumes : []) : [storage];
    return volumes.flatMap((volume) => {
      const label = `${object.kind} ${object.metadata.name} volume ${volume.id ?? 0}`;
      if (volume.type !== 'persistent-claim') return [`${label} is ${volume.type ?? 'of no type'}: its data dies with the pod`];
      const classProblem = storageClassProblem(volume.class, manifests);
      return [
        ...(volume.deleteClaim === false ? [] : [`${label} does not set deleteClaim: false, so scaling down or deleting the pool deletes its claim`]),
        ...(classProblem === undefined ? [] : [`${label} ${classProblem}`]),
      ];
    });
  },
};

export const usersScoped: ManifestRule = {
  id: 'DL-KAFKA-006',
  severity: 'error',
  target: 'manifest',
  kinds: ['KafkaUser'],
  description: "Every Kafka user authenticates and is granted named topics and groups, never '*' or operation All.",
  hint: 'Grant literal topic and group names with the exact operations (PipelineChart derives them from the spec).',
  check: (user) => {
    const spec = user.spec ?? {};
    const acls: Array<Record<string, any>> = Array.isArray(spec.authorization?.acls) ? spec.authorization.acls : [];
    return [
      ...(typeof spec.authentication?.type === 'string' ? [] : [`KafkaUser ${user.metadata.name} has no authentication`]),
      ...acls.flatMap((acl, index) => [
        ...(acl.resource?.name === '*' ? [`KafkaUser ${user.metadata.name} ACL ${index} applies to every ${acl.resource?.type ?? 'resource'} ('*')`] : []),
        ...((Array.isArray(acl.operations) ? acl.operations : [acl.operation]).includes('All') ? [`KafkaUser ${user.metadata.name} ACL ${index} grants operation All`] : []),
      ]),
    ];
  },
};

/** The Kafka rules. */
export const KAFKA_RULES: readonly ManifestRule[] = [listenersSecured, authorizationOn, replicationMeetsEnvironment, topicReplication, volumesKept, usersScoped];
