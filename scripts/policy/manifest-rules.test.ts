import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import { INTERRUPTIBLE_TAINT, NODE_POOL_LABEL, NODE_POOLS } from '../../environments/naming';
import type { Environment, EnvironmentName } from '../../environments/schema';
import { fixtureEnvironment, fixtureEnvironments } from '../fixtures/environments';
import { pipelineImage, SPARK_WORK_DIR } from '../../pipelines/runtime/image';
import { imagePinProblem } from './container-rules';
import { evaluate } from './engine';
import type { KubeObject, ManifestOutput, Rule } from './rule';
import { RULES } from './rules';

// Each manifest (and environment) rule runs alone over a small set of rendered objects of one environment:
// a passing set (no finding of the rule) and at least one failing set (a finding whose message contains the text).
// The environment is a fixture (live, a production environment, unless said otherwise) and the objects are named
// after the fixture pipelines; how the rules treat the project's own environments is checked as a property.

const environments = fixtureEnvironments();
const envNamed = (name: EnvironmentName) => environments.find((env) => env.name === name)!;
const LIVE = fixtureEnvironment('live');
const LAB = fixtureEnvironment('lab');
/** The fixture environments and the project's own, however many and however named. */
const every = [...environments, ...(await loadEnvironments())];

interface Fixture {
  readonly env?: EnvironmentName;
  readonly objects: readonly ManifestOutput[];
}
interface RuleFixtures {
  readonly pass: Fixture;
  readonly fail: ReadonlyArray<Fixture & { readonly name: string; readonly message: string }>;
}

const clone = <T>(value: T): T => structuredClone(value);
/** An object as rendered into a folder of live (or `env`). */
const at = (object: KubeObject, folder = 'fixture', env: EnvironmentName = LIVE.name): ManifestOutput => ({
  environment: env,
  file: `k8s/rendered/${env}/${folder}/${object.kind.toLowerCase()}-${object.metadata.namespace ?? ''}-${object.metadata.name}.yaml`,
  object,
});
const set = (...objects: KubeObject[]): Fixture => ({ objects: objects.map((o) => at(o)) });
const edited = <T extends KubeObject>(object: T, edit: (o: any) => void): T => {
  const copy = clone(object);
  edit(copy);
  return copy;
};

function findingsOf(rule: Rule, fixture: Fixture, env: Environment = envNamed(fixture.env ?? LIVE.name)) {
  return evaluate([rule], { stacks: [], manifests: fixture.objects.map((m) => ({ ...m, environment: env.name })) }, [env]).findings;
}

const KEEP_DATA = { 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false' };
const IMAGE = 'docker.io/library/spark:4.0.1-scala2.13-java17-python3-ubuntu';
const restrictedContext = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsNonRoot: true };
const sized = { requests: { cpu: '500m', memory: '2Gi' }, limits: { memory: '2Gi' } };

const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'spark-history-server', namespace: 'spark-operator' },
  spec: {
    template: {
      spec: {
        securityContext: { runAsNonRoot: true, runAsUser: 185, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [{ name: 'history-server', image: IMAGE, securityContext: restrictedContext, resources: sized }],
        initContainers: [{ name: 'fetch-s3a', image: IMAGE, securityContext: restrictedContext, resources: sized }],
        volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '1Gi' } }],
      },
    },
  },
};
const sparkPod = {
  cores: 1,
  memory: '1024m',
  serviceAccount: 'spark-x',
  podSecurityContext: { runAsNonRoot: true, runAsUser: 185, fsGroup: 185, seccompProfile: { type: 'RuntimeDefault' } },
  securityContext: { ...restrictedContext, runAsUser: 185 },
};
const sparkApplication: KubeObject = {
  apiVersion: 'sparkoperator.k8s.io/v1beta2',
  kind: 'SparkApplication',
  metadata: { name: 'readings', namespace: 'pipelines' },
  spec: { image: IMAGE, driver: sparkPod, executor: { ...sparkPod, instances: 1 }, volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '2Gi' } }] },
};
const scheduledSparkApplication: KubeObject = {
  apiVersion: 'sparkoperator.k8s.io/v1beta2',
  kind: 'ScheduledSparkApplication',
  metadata: { name: 'ledger', namespace: 'pipelines' },
  spec: { schedule: '30 3 * * *', template: clone(sparkApplication.spec) },
};
const workloads = () => set(deployment, sparkApplication, scheduledSparkApplication);
/** A Spark application as the platform renders it: the environment's pipeline image, a writable work dir. */
const onPipelineImage = edited(sparkApplication, (s) => {
  s.spec.image = pipelineImage(LIVE);
  s.spec.volumes.push({ name: 'work-dir', emptyDir: {} });
  for (const role of [s.spec.driver, s.spec.executor]) role.volumeMounts = [{ name: 'work-dir', mountPath: SPARK_WORK_DIR }];
});

/** A stream passing `job` to the runtime, as a pipeline's application does. */
const streamWith = (job: Record<string, unknown>) => edited(onPipelineImage, (s) => (s.spec.arguments = ['--job', JSON.stringify(job)]));
/** Karpenter's node class and a spot NodePool as the platform renders them. */
const nodeClass: KubeObject = {
  apiVersion: 'karpenter.k8s.aws/v1',
  kind: 'EC2NodeClass',
  metadata: { name: 'default', annotations: KEEP_DATA },
  spec: {
    role: 'platform-live-karpenter-node',
    amiSelectorTerms: [{ alias: 'al2023@v20260520' }],
    metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1 },
    blockDeviceMappings: [{ deviceName: '/dev/xvda', rootVolume: true, ebs: { volumeSize: '100Gi', volumeType: 'gp3', encrypted: true } }],
  },
};
const spotPool: KubeObject = {
  apiVersion: 'karpenter.sh/v1',
  kind: 'NodePool',
  metadata: { name: 'batch', annotations: KEEP_DATA },
  spec: {
    limits: { cpu: 64, memory: '256Gi' },
    template: {
      spec: {
        nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: 'default' },
        requirements: [{ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot', 'on-demand'] }],
        taints: [{ ...INTERRUPTIBLE_TAINT }],
      },
    },
  },
};
const nodes = () => set(nodeClass, spotPool);

const namespace = (name: string, enforce = 'restricted', annotations: Record<string, string> = KEEP_DATA): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: {
    name,
    labels: { 'pod-security.kubernetes.io/enforce': enforce, 'pod-security.kubernetes.io/audit': 'restricted', 'pod-security.kubernetes.io/warn': 'restricted' },
    annotations,
  },
});
const defaultDenyPolicy = (ns: string): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'default-deny', namespace: ns },
  spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
});
const storageClass: KubeObject = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name: 'data-gp3-retain', annotations: KEEP_DATA },
  provisioner: 'ebs.csi.aws.com',
  parameters: { type: 'gp3', encrypted: 'true' },
  reclaimPolicy: 'Retain',
};

const kafka: KubeObject = {
  apiVersion: 'kafka.strimzi.io/v1',
  kind: 'Kafka',
  metadata: { name: 'events', namespace: 'kafka', annotations: KEEP_DATA },
  spec: {
    kafka: {
      listeners: [{ name: 'tls', port: 9093, type: 'internal', tls: true, authentication: { type: 'scram-sha-512' } }],
      authorization: { type: 'simple' },
      config: {
        'default.replication.factor': LIVE.kafka.defaultReplicationFactor,
        'min.insync.replicas': LIVE.kafka.minInSyncReplicas,
        'offsets.topic.replication.factor': 3,
        'unclean.leader.election.enable': false,
      },
    },
  },
};
const nodePool: KubeObject = {
  apiVersion: 'kafka.strimzi.io/v1',
  kind: 'KafkaNodePool',
  metadata: { name: 'brokers', namespace: 'kafka', annotations: KEEP_DATA },
  spec: { replicas: 3, roles: ['broker'], storage: { type: 'jbod', volumes: [{ id: 0, type: 'persistent-claim', size: '500Gi', class: 'data-gp3-retain', deleteClaim: false }] } },
};
const topic: KubeObject = {
  apiVersion: 'kafka.strimzi.io/v1',
  kind: 'KafkaTopic',
  metadata: { name: 'clicks', namespace: 'kafka', annotations: KEEP_DATA },
  spec: { partitions: LIVE.kafka.topicPartitions, replicas: LIVE.kafka.defaultReplicationFactor, config: { 'min.insync.replicas': LIVE.kafka.minInSyncReplicas } },
};
const user: KubeObject = {
  apiVersion: 'kafka.strimzi.io/v1',
  kind: 'KafkaUser',
  metadata: { name: 'clicks', namespace: 'kafka' },
  spec: {
    authentication: { type: 'scram-sha-512' },
    authorization: { type: 'simple', acls: [{ resource: { type: 'topic', name: 'clicks', patternType: 'literal' }, operations: ['Read', 'Describe'] }] },
  },
};

const zookeeper: KubeObject = {
  apiVersion: 'zookeeper.stackable.tech/v1alpha1',
  kind: 'ZookeeperCluster',
  metadata: { name: 'lake-zookeeper', namespace: 'hdfs', annotations: KEEP_DATA },
  spec: { servers: { config: { resources: { storage: { data: { capacity: '5Gi', storageClass: 'data-gp3-retain' } } } }, roleGroups: { default: { replicas: 3 } } } },
};
const znode: KubeObject = {
  apiVersion: 'zookeeper.stackable.tech/v1alpha1',
  kind: 'ZookeeperZnode',
  metadata: { name: 'lake-znode', namespace: 'hdfs', annotations: KEEP_DATA },
  spec: { clusterRef: { name: 'lake-zookeeper', namespace: 'hdfs' } },
};
const role = (storageClassName: string | undefined) => ({ config: { resources: { storage: { data: { capacity: '10Gi', ...(storageClassName ? { storageClass: storageClassName } : {}) } } } }, roleGroups: { default: { replicas: 2 } } });
const hdfs: KubeObject = {
  apiVersion: 'hdfs.stackable.tech/v1alpha1',
  kind: 'HdfsCluster',
  metadata: { name: 'lake', namespace: 'hdfs', annotations: KEEP_DATA },
  spec: { clusterConfig: { zookeeperConfigMapName: 'lake-znode', dfsReplication: LIVE.hdfs.dfsReplication }, nameNodes: role('data-gp3-retain'), journalNodes: role('data-gp3-retain'), dataNodes: role('data-gp3-retain') },
};

const application = (name: string, extra: { annotations?: Record<string, string>; finalizers?: string[]; source?: object; automated?: object } = {}): KubeObject => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name, namespace: 'argocd', ...(extra.annotations ? { annotations: extra.annotations } : {}), ...(extra.finalizers ? { finalizers: extra.finalizers } : {}) },
  spec: {
    project: 'driftless',
    source: extra.source ?? { repoURL: 'https://github.com/example-org/driftless.git', targetRevision: 'main', path: `k8s/rendered/${LIVE.name}/${name}`, directory: { recurse: true } },
    destination: { server: 'https://kubernetes.default.svc', namespace: 'argocd' },
    syncPolicy: { automated: extra.automated ?? { prune: true, selfHeal: true } },
  },
});
/** The kafka folder's Application with the Kafka object it syncs, as rendered. */
const kafkaFolder = (app: KubeObject): Fixture => ({ objects: [at(app, 'apps'), at(kafka, 'kafka')] });

const role_ = (rules: object[]): KubeObject => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'reader', namespace: 'kafka' }, rules });

const FIXTURES: Record<string, RuleFixtures> = {
  'DL-K8S-001': {
    pass: workloads(),
    fail: [
      { name: 'a container that may run as root', ...set(edited(deployment, (d) => {
        delete d.spec.template.spec.securityContext.runAsNonRoot;
        delete d.spec.template.spec.containers[0].securityContext.runAsNonRoot;
      })), message: 'container history-server may run as root' },
      { name: 'a driver as uid 0', ...set(edited(sparkApplication, (s) => (s.spec.driver.securityContext.runAsUser = 0))), message: 'driver runs as root (runAsUser 0)' },
    ],
  },
  'DL-K8S-002': {
    pass: workloads(),
    fail: [
      { name: 'a writable executor', ...set(edited(sparkApplication, (s) => (s.spec.executor.securityContext.readOnlyRootFilesystem = false))), message: 'executor has a writable root filesystem' },
      { name: 'a writable init container', ...set(edited(deployment, (d) => delete d.spec.template.spec.initContainers[0].securityContext.readOnlyRootFilesystem)), message: 'init container fetch-s3a has a writable root filesystem' },
    ],
  },
  'DL-K8S-003': {
    pass: workloads(),
    fail: [{ name: 'escalation allowed in a scheduled driver', ...set(edited(scheduledSparkApplication, (s) => delete s.spec.template.driver.securityContext.allowPrivilegeEscalation)), message: 'driver may escalate privileges' }],
  },
  'DL-K8S-004': {
    pass: workloads(),
    fail: [
      { name: 'capabilities kept', ...set(edited(deployment, (d) => delete d.spec.template.spec.containers[0].securityContext.capabilities)), message: "keeps the default Linux capabilities" },
      { name: 'a capability added', ...set(edited(deployment, (d) => (d.spec.template.spec.containers[0].securityContext.capabilities.add = ['NET_ADMIN']))), message: 'adds the capabilities NET_ADMIN' },
    ],
  },
  'DL-K8S-005': {
    pass: workloads(),
    fail: [
      { name: 'no memory limit', ...set(edited(deployment, (d) => delete d.spec.template.spec.containers[0].resources.limits)), message: 'container history-server sets no limits.memory' },
      { name: 'an executor without memory', ...set(edited(sparkApplication, (s) => delete s.spec.executor.memory)), message: 'executor sets no memory' },
    ],
  },
  'DL-K8S-006': {
    pass: workloads(),
    fail: [
      { name: 'latest', ...set(edited(deployment, (d) => (d.spec.template.spec.containers[0].image = 'docker.io/library/spark:latest'))), message: "with the moving tag 'latest'" },
      { name: 'no tag', ...set(edited(sparkApplication, (s) => (s.spec.image = 'registry.example.com:5000/spark'))), message: 'without a tag' },
    ],
  },
  'DL-K8S-007': {
    pass: workloads(),
    fail: [
      { name: 'a hostPath volume', ...set(edited(deployment, (d) => d.spec.template.spec.volumes.push({ name: 'proc', hostPath: { path: '/proc' } }))), message: 'pod template mounts the host path /proc as volume proc' },
      { name: 'a hostPath in a Spark application', ...set(edited(sparkApplication, (s) => s.spec.volumes.push({ name: 'docker', hostPath: { path: '/var/run/docker.sock' } }))), message: 'driver mounts the host path /var/run/docker.sock' },
    ],
  },
  'DL-K8S-008': {
    pass: workloads(),
    fail: [
      { name: 'hostNetwork', ...set(edited(deployment, (d) => (d.spec.template.spec.hostNetwork = true))), message: 'pod template sets hostNetwork: true' },
      { name: 'hostPID on an executor', ...set(edited(sparkApplication, (s) => (s.spec.executor.hostPID = true))), message: 'executor sets hostPID: true' },
    ],
  },
  'DL-K8S-009': {
    pass: workloads(),
    fail: [{ name: 'a privileged container', ...set(edited(deployment, (d) => (d.spec.template.spec.containers[0].securityContext.privileged = true))), message: 'container history-server is privileged' }],
  },
  'DL-K8S-010': {
    pass: workloads(),
    fail: [{ name: 'no seccomp profile', ...set(edited(deployment, (d) => delete d.spec.template.spec.securityContext.seccompProfile)), message: 'runs without a seccomp profile' }],
  },
  'DL-K8S-011': {
    pass: set(namespace('kafka'), topic, edited(topic, (t) => (t.metadata.name = 'clicks.dlq'))),
    fail: [
      { name: 'a topic name with an empty part', ...set(edited(topic, (t) => (t.metadata.name = 'clicks..dlq'))), message: 'the name "clicks..dlq" is not an RFC 1123 subdomain' },
      { name: 'a namespace name with a dot', ...set(namespace('data.lake')), message: 'the name "data.lake" is not an RFC 1123 label' },
      { name: 'an object in a namespace with upper-case letters', ...set(edited(topic, (t) => (t.metadata.namespace = 'Kafka'))), message: 'the namespace "Kafka" is not an RFC 1123 label' },
    ],
  },
  'DL-NS-001': {
    pass: set(namespace('kafka')),
    fail: [
      { name: 'no enforce label', ...set(edited(namespace('kafka'), (n) => delete n.metadata.labels['pod-security.kubernetes.io/enforce'])), message: 'namespace kafka enforces no Pod Security level' },
      { name: 'warn relaxed', ...set(edited(namespace('kafka'), (n) => (n.metadata.labels['pod-security.kubernetes.io/warn'] = 'baseline'))), message: 'does not warn at restricted' },
    ],
  },
  'DL-NS-002': {
    pass: set(namespace('kafka')),
    fail: [{ name: 'baseline', ...set(namespace('hdfs', 'baseline')), message: "namespace hdfs enforces Pod Security 'baseline', not 'restricted'" }],
  },
  'DL-NS-003': {
    pass: set(namespace('kafka'), defaultDenyPolicy('kafka')),
    fail: [
      { name: 'no NetworkPolicy', ...set(namespace('kafka')), message: 'namespace kafka has no default-deny NetworkPolicy' },
      { name: 'a default deny of another namespace', ...set(namespace('kafka'), defaultDenyPolicy('hdfs')), message: 'has no default-deny' },
      { name: 'a policy that denies ingress only', ...set(namespace('kafka'), edited(defaultDenyPolicy('kafka'), (p) => (p.spec.policyTypes = ['Ingress']))), message: 'has no default-deny' },
      { name: 'a policy that allows something', ...set(namespace('kafka'), edited(defaultDenyPolicy('kafka'), (p) => (p.spec.egress = [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }]))), message: 'has no default-deny' },
    ],
  },
  'DL-STORAGE-001': {
    pass: set(storageClass),
    fail: [
      { name: 'reclaim policy Delete', ...set(edited(storageClass, (s) => delete s.reclaimPolicy)), message: 'deletes volumes with their claims (reclaimPolicy Delete)' },
      { name: 'unencrypted', ...set(edited(storageClass, (s) => delete s.parameters.encrypted)), message: 'does not encrypt its volumes' },
    ],
  },
  'DL-KAFKA-001': {
    pass: set(kafka),
    fail: [
      { name: 'a plaintext listener', ...set(edited(kafka, (k) => k.spec.kafka.listeners.push({ name: 'plain', port: 9092, type: 'internal', tls: false, authentication: { type: 'scram-sha-512' } }))), message: 'listener plain (port 9092) does not use TLS' },
      { name: 'an unauthenticated listener', ...set(edited(kafka, (k) => delete k.spec.kafka.listeners[0].authentication)), message: 'listener tls (port 9093) lets clients in without authentication' },
    ],
  },
  'DL-KAFKA-002': {
    pass: set(kafka),
    fail: [{ name: 'no authorization', ...set(edited(kafka, (k) => delete k.spec.kafka.authorization)), message: 'Kafka events has no authorization' }],
  },
  'DL-KAFKA-003': {
    pass: set(kafka),
    fail: [
      { name: "min.insync.replicas below the environment's", ...set(edited(kafka, (k) => (k.spec.kafka.config['min.insync.replicas'] = 1))), message: `sets min.insync.replicas 1, below kafka.minInSyncReplicas (${LIVE.kafka.minInSyncReplicas}) of environment '${LIVE.name}'` },
      { name: 'replication left at the default', ...set(edited(kafka, (k) => delete k.spec.kafka.config['default.replication.factor'])), message: `sets default.replication.factor 1, below kafka.defaultReplicationFactor (${LIVE.kafka.defaultReplicationFactor})` },
      { name: 'unclean leader election', ...set(edited(kafka, (k) => (k.spec.kafka.config['unclean.leader.election.enable'] = true))), message: 'enables unclean leader election' },
    ],
  },
  'DL-KAFKA-004': {
    pass: set(topic),
    fail: [
      { name: 'one replica in a replicated environment', ...set(edited(topic, (t) => (t.spec.replicas = 1))), message: `topic clicks has 1 replicas, below kafka.defaultReplicationFactor (${LIVE.kafka.defaultReplicationFactor}) of environment '${LIVE.name}'` },
      { name: 'a lower min.insync.replicas', ...set(edited(topic, (t) => (t.spec.config['min.insync.replicas'] = 1))), message: `sets min.insync.replicas 1, below kafka.minInSyncReplicas (${LIVE.kafka.minInSyncReplicas})` },
    ],
  },
  'DL-KAFKA-005': {
    pass: set(nodePool, storageClass),
    fail: [
      { name: 'deleteClaim true', ...set(edited(nodePool, (p) => (p.spec.storage.volumes[0].deleteClaim = true)), storageClass), message: 'KafkaNodePool brokers volume 0 does not set deleteClaim: false' },
      { name: 'ephemeral storage', ...set(edited(nodePool, (p) => (p.spec.storage = { type: 'ephemeral' })), storageClass), message: 'is ephemeral: its data dies with the pod' },
      { name: 'a deleting StorageClass', ...set(nodePool, edited(storageClass, (s) => (s.reclaimPolicy = 'Delete'))), message: 'uses the StorageClass data-gp3-retain, which is not a StorageClass of this environment with reclaimPolicy Retain' },
    ],
  },
  'DL-KAFKA-006': {
    pass: set(user),
    fail: [
      { name: 'an ACL on every topic', ...set(edited(user, (u) => (u.spec.authorization.acls[0].resource.name = '*'))), message: "ACL 0 applies to every topic ('*')" },
      { name: 'operation All', ...set(edited(user, (u) => (u.spec.authorization.acls[0].operations = ['All']))), message: 'grants operation All' },
    ],
  },
  'DL-HDFS-001': {
    pass: set(hdfs, znode, zookeeper),
    fail: [
      { name: 'no HdfsCluster', ...set(znode, zookeeper), message: `environment '${LIVE.name}' renders no HdfsCluster` },
      { name: 'no znode', ...set(hdfs, zookeeper), message: 'uses the ZooKeeper znode "lake-znode", which is not rendered in its namespace' },
      { name: 'no ZookeeperCluster', ...set(hdfs, znode), message: 'refers to the ZookeeperCluster "lake-zookeeper", which is not rendered' },
    ],
  },
  'DL-HDFS-002': {
    pass: set(hdfs, zookeeper, storageClass),
    fail: [
      { name: 'datanodes on the default StorageClass', ...set(edited(hdfs, (h) => (h.spec.dataNodes = role(undefined))), zookeeper, storageClass), message: "HdfsCluster lake dataNodes volume data uses the cluster's default StorageClass" },
      { name: 'ZooKeeper without storage', ...set(hdfs, edited(zookeeper, (z) => delete z.spec.servers.config), storageClass), message: 'ZookeeperCluster lake-zookeeper servers declares no storage' },
    ],
  },
  'DL-HDFS-003': {
    pass: set(hdfs),
    fail: [{ name: 'replication 1 in a replicated environment', ...set(edited(hdfs, (h) => (h.spec.clusterConfig.dfsReplication = 1))), message: `replicates blocks 1 times, below hdfs.dfsReplication (${LIVE.hdfs.dfsReplication}) of environment '${LIVE.name}'` }],
  },
  'DL-ARGO-001': {
    pass: set(kafka, nodePool, topic, hdfs, namespace('kafka'), storageClass),
    fail: [
      { name: 'a KafkaNodePool that a sync may prune', ...set(edited(nodePool, (p) => delete p.metadata.annotations)), message: 'KafkaNodePool brokers can be pruned or deleted by an Argo CD sync' },
      { name: 'a namespace without Delete=false', ...set(namespace('kafka', 'restricted', { 'argocd.argoproj.io/sync-options': 'Prune=false' })), message: 'Namespace kafka can be pruned or deleted' },
    ],
  },
  'DL-ARGO-002': {
    pass: { objects: [...kafkaFolder(application('kafka', { annotations: KEEP_DATA })).objects, at(application('spark', { finalizers: ['resources-finalizer.argocd.argoproj.io'] }), 'apps')] },
    fail: [
      { name: 'a data folder Application without Prune=false,Delete=false', ...kafkaFolder(application('kafka')), message: 'Application kafka syncs objects that hold data (e.g. Kafka events) but lacks Prune=false,Delete=false' },
      { name: 'a data folder Application that cascades', ...kafkaFolder(application('kafka', { annotations: KEEP_DATA, finalizers: ['resources-finalizer.argocd.argoproj.io'] })), message: 'deleting it cascades' },
    ],
  },
  'DL-ARGO-003': {
    pass: set(application('spark')),
    fail: [
      { name: 'no self-heal', ...set(application('spark', { automated: { prune: true, selfHeal: false } })), message: 'Application spark does not sync automatically with self-heal' },
      { name: 'manual sync', ...set(edited(application('spark'), (a) => delete a.spec.syncPolicy.automated)), message: 'does not sync automatically' },
    ],
  },
  'DL-ARGO-004': {
    pass: set(application('strimzi', { source: { repoURL: 'https://strimzi.io/charts/', chart: 'strimzi-kafka-operator', targetRevision: '1.2.0' } })),
    fail: [{ name: 'a chart version range', ...set(application('strimzi', { source: { repoURL: 'https://strimzi.io/charts/', chart: 'strimzi-kafka-operator', targetRevision: '1.*' } })), message: 'installs chart strimzi-kafka-operator at "1.*", not an exact version' }],
  },
  'DL-SECRET-001': {
    pass: set({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'placeholder', namespace: 'argocd' } }),
    fail: [{ name: 'a committed credential', ...set({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'grafana', namespace: 'monitoring' }, stringData: { password: 'hunter2' } }), message: 'Secret grafana is committed to Git with the keys password' }],
  },
  'DL-RBAC-001': {
    pass: set(role_([{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'create'] }])),
    fail: [
      { name: 'a wildcard verb', ...set(role_([{ apiGroups: [''], resources: ['pods'], verbs: ['*'] }])), message: "Role reader rule 0 grants '*' in verbs" },
      { name: 'bind', ...set(role_([{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: ['create', 'bind'] }])), message: 'grants the escalating verb bind' },
    ],
  },
  'DL-SPARK-001': {
    pass: set(onPipelineImage),
    fail: [{ name: 'packages resolved at start', ...set(edited(onPipelineImage, (s) => (s.spec.sparkConf = { 'spark.jars.packages': 'org.apache.hadoop:hadoop-aws:3.4.1' }))), message: 'sets spark.jars.packages' }],
  },
  'DL-SPARK-002': {
    pass: set(onPipelineImage),
    fail: [{ name: 'the upstream Spark image', ...set(edited(onPipelineImage, (s) => (s.spec.image = IMAGE))), message: `runs ${IMAGE}, not the pipeline image` }],
  },
  'DL-SPARK-003': {
    pass: set(onPipelineImage),
    fail: [{ name: 'an executor without a work dir', ...set(edited(onPipelineImage, (s) => (s.spec.executor.volumeMounts = []))), message: `the executor mounts no volume at ${SPARK_WORK_DIR}` }],
  },
  'DL-SPARK-004': {
    pass: set(streamWith({ kind: 'streaming', checkpointUri: 'hdfs://lake/driftless/checkpoints/readings' })),
    fail: [{ name: 'a checkpoint in S3', ...set(streamWith({ kind: 'streaming', checkpointUri: 's3a://checkpoints/readings/' })), message: 'checkpoints to s3a://checkpoints/readings/, where renames are not atomic' }],
  },
  'DL-SPARK-005': {
    pass: set(edited(onPipelineImage, (s) => (s.spec.sparkConf = { 'spark.sql.shuffle.partitions': '16' }))),
    fail: [{ name: "Spark's default", ...set(edited(onPipelineImage, (s) => (s.spec.sparkConf = {}))), message: 'sets spark.sql.shuffle.partitions to undefined' }],
  },
  'DL-SPARK-006': {
    pass: set(edited(onPipelineImage, (s) => (s.spec.sparkConf = { 'spark.eventLog.enabled': 'true', 'spark.eventLog.rolling.enabled': 'true' }))),
    fail: [{ name: 'one endless log', ...set(edited(onPipelineImage, (s) => (s.spec.sparkConf = { 'spark.eventLog.enabled': 'true' }))), message: 'writes an event log that never rolls' }],
  },
  'DL-KARP-001': {
    pass: nodes(),
    fail: [
      { name: 'IMDSv1 allowed', ...set(edited(nodeClass, (n) => (n.spec.metadataOptions.httpTokens = 'optional'))), message: "EC2NodeClass default allows IMDSv1 (metadataOptions.httpTokens is not 'required')" },
      { name: 'a hop limit of 2', ...set(edited(nodeClass, (n) => (n.spec.metadataOptions.httpPutResponseHopLimit = 2))), message: 'lets pods reach the instance metadata (hop limit 2, not 1)' },
      { name: 'no metadata options', ...set(edited(nodeClass, (n) => delete n.spec.metadataOptions)), message: 'allows IMDSv1' },
    ],
  },
  'DL-KARP-002': {
    pass: nodes(),
    fail: [
      { name: 'an unencrypted root volume', ...set(edited(nodeClass, (n) => (n.spec.blockDeviceMappings[0].ebs.encrypted = false))), message: 'EC2NodeClass default does not encrypt the volume /dev/xvda' },
      { name: 'no block device mapping', ...set(edited(nodeClass, (n) => delete n.spec.blockDeviceMappings)), message: 'declares no block device mapping' },
    ],
  },
  'DL-KARP-003': {
    pass: set(nodeClass, edited(nodeClass, (n) => { n.metadata.name = 'by-id'; n.spec.amiSelectorTerms = [{ id: 'ami-0123456789abcdef0' }]; })),
    fail: [
      { name: 'the latest AMI', ...set(edited(nodeClass, (n) => (n.spec.amiSelectorTerms = [{ alias: 'al2023@latest' }]))), message: 'selects the AMI alias al2023@latest' },
      { name: 'AMIs by tag', ...set(edited(nodeClass, (n) => (n.spec.amiSelectorTerms = [{ tags: { team: 'data' } }]))), message: 'amiSelectorTerms[0] selects AMIs by name, owner or tags' },
    ],
  },
  'DL-KARP-004': {
    pass: nodes(),
    fail: [
      { name: 'no limits', ...set(nodeClass, edited(spotPool, (p) => delete p.spec.limits)), message: 'NodePool batch sets no cpu limit' },
      { name: 'no memory limit', ...set(nodeClass, edited(spotPool, (p) => delete p.spec.limits.memory)), message: 'NodePool batch sets no memory limit' },
    ],
  },
  'DL-KARP-005': {
    pass: set(
      nodeClass,
      spotPool,
      // On-demand only, with no requirement (Karpenter's default) or an explicit one: no taint needed.
      edited(spotPool, (p) => { p.metadata.name = 'plain'; p.spec.template.spec.requirements = []; delete p.spec.template.spec.taints; }),
      edited(spotPool, (p) => { p.metadata.name = 'on-demand'; p.spec.template.spec.requirements[0].values = ['on-demand']; delete p.spec.template.spec.taints; }),
    ),
    fail: [
      { name: 'spot without the taint', ...set(nodeClass, edited(spotPool, (p) => delete p.spec.template.spec.taints)), message: 'NodePool batch may launch spot instances but lacks the taint' },
      { name: 'spot by NotIn on-demand', ...set(nodeClass, edited(spotPool, (p) => { p.spec.template.spec.requirements[0] = { key: 'karpenter.sh/capacity-type', operator: 'NotIn', values: ['on-demand'] }; p.spec.template.spec.taints[0].effect = 'PreferNoSchedule'; })), message: 'may launch spot instances' },
    ],
  },
  'DL-KARP-006': {
    pass: nodes(),
    fail: [
      { name: 'a node class that is not rendered', ...set(spotPool), message: 'NodePool batch launches from EC2NodeClass default, which is not an EC2NodeClass of this environment' },
      { name: 'another kind of node class', ...set(nodeClass, edited(spotPool, (p) => (p.spec.template.spec.nodeClassRef = { group: 'example.com', kind: 'NodeClass', name: 'default' }))), message: 'launches from NodeClass default' },
    ],
  },
  'DL-RBAC-002': {
    pass: set(role_([{ apiGroups: [''], resources: ['secrets'], resourceNames: ['clicks'], verbs: ['get'] }])),
    fail: [
      { name: 'every Secret', ...set(role_([{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }])), message: 'Role reader rule 0 reaches every Secret of its scope (no resourceNames)' },
      { name: 'list on named Secrets', ...set(role_([{ apiGroups: [''], resources: ['secrets'], resourceNames: ['clicks'], verbs: ['get', 'list'] }])), message: 'may list Secrets' },
    ],
  },
};

/** Objects as the platform places them: everything on the stable pool, a spot executor on the executors pool. */
const onStable = { [NODE_POOL_LABEL]: NODE_POOLS.stable };
const interruptible = { key: INTERRUPTIBLE_TAINT.key, operator: 'Equal', value: INTERRUPTIBLE_TAINT.value, effect: INTERRUPTIBLE_TAINT.effect };
const stableAffinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: NODE_POOL_LABEL, operator: 'In', values: [NODE_POOLS.stable] }] }] } } };
const placedDeployment = edited(deployment, (d) => (d.spec.template.spec.nodeSelector = onStable));
const placedSpark = edited(onPipelineImage, (s) => {
  s.spec.driver.nodeSelector = onStable;
  s.spec.executor.nodeSelector = { [NODE_POOL_LABEL]: NODE_POOLS.executors };
  s.spec.executor.tolerations = [interruptible];
});
const onDemandSpark = edited(onPipelineImage, (s) => {
  s.spec.driver.nodeSelector = onStable;
  s.spec.executor.nodeSelector = onStable;
});
const placedScheduledSpark = edited(scheduledSparkApplication, (s) => (s.spec.template = clone(placedSpark.spec)));
const placedNodePool = edited(nodePool, (p) => (p.spec.template = { pod: { affinity: stableAffinity } }));
const placedKafka = edited(kafka, (k) => {
  k.spec.entityOperator = { topicOperator: {}, userOperator: {}, template: { pod: { affinity: stableAffinity } } };
  k.spec.kafkaExporter = { template: { pod: { affinity: stableAffinity } } };
});
const stableRole = (r: any) => (r.config.affinity = { nodeSelector: onStable });
const placedHdfs = edited(hdfs, (h) => [h.spec.nameNodes, h.spec.journalNodes, h.spec.dataNodes].forEach(stableRole));
const placedZookeeper = edited(zookeeper, (z) => stableRole(z.spec.servers));
const daemonSet: KubeObject = { ...clone(deployment), kind: 'DaemonSet', metadata: { name: 'node-agent', namespace: 'monitoring-node' } };
const everywhereDaemonSet = edited(daemonSet, (d) => (d.spec.template.spec.tolerations = [{ operator: 'Exists' }]));
/** A system workload: in Argo CD's namespace, on the managed node groups by their taint, no NodePool. */
const systemDeployment = edited(deployment, (d) => {
  d.metadata.namespace = 'argocd';
  d.spec.template.spec.tolerations = [{ key: 'CriticalAddonsOnly', operator: 'Exists', effect: 'NoSchedule' }];
});
const placed = () => set(placedDeployment, placedSpark, onDemandSpark, placedScheduledSpark, placedNodePool, placedKafka, placedHdfs, placedZookeeper, everywhereDaemonSet, systemDeployment);

FIXTURES['DL-NODE-001'] = {
  pass: placed(),
  fail: [
    { name: 'a tolerating driver', ...set(edited(placedSpark, (s) => (s.spec.driver.tolerations = [interruptible]))), message: 'the driver tolerates driftless.io/interruptible=true:NoSchedule' },
    { name: 'a Deployment tolerating every taint', ...set(edited(placedDeployment, (d) => (d.spec.template.spec.tolerations = [{ operator: 'Exists' }]))), message: 'the pod template tolerates' },
    { name: 'a tolerating scheduled driver', ...set(edited(placedScheduledSpark, (s) => (s.spec.template.driver.tolerations = [{ key: INTERRUPTIBLE_TAINT.key, operator: 'Exists' }]))), message: 'the driver tolerates' },
    { name: 'brokers tolerating the taint', ...set(edited(placedNodePool, (p) => (p.spec.template.pod.tolerations = [interruptible]))), message: 'the pod template tolerates' },
    { name: 'datanodes tolerating it through podOverrides', ...set(edited(placedHdfs, (h) => (h.spec.dataNodes.roleGroups.default.podOverrides = { spec: { tolerations: [interruptible] } }))), message: 'the dataNodes role group default tolerates' },
  ],
};
FIXTURES['DL-NODE-002'] = {
  pass: placed(),
  fail: [
    { name: 'a Deployment without a pool', ...set(deployment), message: 'the pod template selects no NodePool by karpenter.sh/nodepool' },
    { name: 'a driver without a pool', ...set(edited(placedSpark, (s) => delete s.spec.driver.nodeSelector)), message: 'the driver selects no NodePool' },
    { name: 'an executor on the executors pool without the toleration', ...set(edited(placedSpark, (s) => delete s.spec.executor.tolerations)), message: 'the executor selects the spark-executors pool without tolerating its taint' },
    { name: 'a pool that does not exist', ...set(edited(placedDeployment, (d) => (d.spec.template.spec.nodeSelector = { [NODE_POOL_LABEL]: 'general' }))), message: 'selects general, not a NodePool of the platform' },
    { name: 'a node pool of Kafka without affinity', ...set(nodePool), message: 'the pod template selects no NodePool' },
    { name: "the entity operator left to the operator's default", ...set(edited(placedKafka, (k) => delete k.spec.entityOperator.template)), message: 'the entityOperator selects no NodePool' },
    { name: 'an affinity term that leaves the pool open', ...set(edited(placedNodePool, (p) => p.spec.template.pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.push({ matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] }))), message: 'selects no NodePool' },
    { name: 'journalnodes without a pool', ...set(edited(placedHdfs, (h) => delete h.spec.journalNodes.config.affinity)), message: 'the journalNodes role group default selects no NodePool' },
    { name: 'ZooKeeper without a pool', ...set(zookeeper), message: 'the servers role group default selects no NodePool' },
    { name: 'a system workload without the system toleration', ...set(edited(systemDeployment, (d) => delete d.spec.template.spec.tolerations)), message: 'the pod template of a system workload does not tolerate CriticalAddonsOnly=true:NoSchedule' },
  ],
};
FIXTURES['DL-NODE-003'] = {
  pass: placed(),
  fail: [
    { name: 'a platform workload on the system nodes', ...set(edited(placedDeployment, (d) => (d.spec.template.spec.tolerations = [{ key: 'CriticalAddonsOnly', operator: 'Exists' }]))), message: 'the pod template tolerates CriticalAddonsOnly=true:NoSchedule' },
    { name: 'a driver tolerating every taint', ...set(edited(placedSpark, (s) => (s.spec.driver.tolerations = [{ operator: 'Exists' }]))), message: 'the driver tolerates CriticalAddonsOnly' },
  ],
};

const manifestRules = RULES.filter((rule) => rule.target !== 'terraform');

describe('manifest and environment rules', () => {
  it('has a passing and a failing fixture for every manifest and environment rule, and none for rules that do not exist', () => {
    expect(Object.keys(FIXTURES).sort()).toEqual(manifestRules.map((rule) => rule.id).sort());
    for (const [id, fixtures] of Object.entries(FIXTURES)) expect(fixtures.fail.length, id).toBeGreaterThan(0);
  });

  describe.each(manifestRules.map((rule) => [rule.id, rule] as const))('%s', (id, rule) => {
    const fixtures = FIXTURES[id]!;

    it('finds nothing in its passing fixture', () => {
      expect(findingsOf(rule, fixtures.pass)).toEqual([]);
    });

    it.each(fixtures.fail.map((f) => [f.name, f] as const))('finds %s', (_, fixture) => {
      const findings = findingsOf(rule, fixture);
      expect(findings.length).toBeGreaterThan(0);
      expect(findings.every((f) => f.ruleId === id && f.severity === rule.severity)).toBe(true);
      expect(findings.map((f) => f.message).join('\n')).toContain(fixture.message);
    });
  });

  it("holds each environment to its own replication, not another's", () => {
    const topicRule = RULES.find((r) => r.id === 'DL-KAFKA-004')!;
    const single = edited(topic, (t) => {
      t.spec.replicas = 1;
      t.spec.config['min.insync.replicas'] = 1;
    });
    expect(LAB.kafka.defaultReplicationFactor).toBe(1);
    expect(findingsOf(topicRule, { env: LAB.name, objects: [at(single, 'pipelines/x', LAB.name)] })).toEqual([]);
    expect(findingsOf(topicRule, { env: LIVE.name, objects: [at(single)] })).not.toEqual([]);
  });

  describe.each(every.map((env) => [env.name, env] as const))('in environment %s', (name, env) => {
    const findingsIn = (id: string, object: KubeObject) => findingsOf(RULES.find((r) => r.id === id)!, { objects: [at(object, 'fixture', name)] }, env);
    const replicatedKafka = (rf: number, minIsr: number) =>
      edited(kafka, (k) => Object.assign(k.spec.kafka.config, { 'default.replication.factor': rf, 'offsets.topic.replication.factor': rf, 'min.insync.replicas': minIsr }));
    const replicatedTopic = (replicas: number, minIsr: number) => edited(topic, (t) => ((t.spec.replicas = replicas), (t.spec.config['min.insync.replicas'] = minIsr)));
    const replicatedHdfs = (replication: number) => edited(hdfs, (h) => (h.spec.clusterConfig.dfsReplication = replication));
    const { defaultReplicationFactor: rf, minInSyncReplicas: minIsr } = env.kafka;

    it('accepts Kafka, topics and HDFS replicated as the environment asks', () => {
      expect(findingsIn('DL-KAFKA-003', replicatedKafka(rf, minIsr))).toEqual([]);
      expect(findingsIn('DL-KAFKA-004', replicatedTopic(rf, minIsr))).toEqual([]);
      expect(findingsIn('DL-HDFS-003', replicatedHdfs(env.hdfs.dfsReplication))).toEqual([]);
    });

    // One less than the environment asks is a finding even where it asks for 1: the rules compare, they do not guess.
    it('finds Kafka and topics replicated once less than the environment asks', () => {
      const below = `below kafka.defaultReplicationFactor (${rf}) of environment '${name}'`;
      expect(findingsIn('DL-KAFKA-003', replicatedKafka(rf - 1, minIsr)).map((f) => f.message).join('\n')).toContain(below);
      expect(findingsIn('DL-KAFKA-004', replicatedTopic(rf - 1, minIsr)).map((f) => f.message).join('\n')).toContain(below);
    });

    it('finds Kafka and topics that accept writes on fewer in-sync replicas than the environment asks', () => {
      const below = `below kafka.minInSyncReplicas (${minIsr}) of environment '${name}'`;
      expect(findingsIn('DL-KAFKA-003', replicatedKafka(rf, minIsr - 1)).map((f) => f.message).join('\n')).toContain(below);
      expect(findingsIn('DL-KAFKA-004', replicatedTopic(rf, minIsr - 1)).map((f) => f.message).join('\n')).toContain(below);
    });

    it('finds HDFS replicated once less than the environment asks', () => {
      expect(findingsIn('DL-HDFS-003', replicatedHdfs(env.hdfs.dfsReplication - 1)).map((f) => f.message).join('\n')).toContain(
        `below hdfs.dfsReplication (${env.hdfs.dfsReplication}) of environment '${name}'`,
      );
    });
  });

  it('checks only containers this repository defines, not operator-owned custom resources', () => {
    const containerRules = RULES.filter((r) => r.id.startsWith('DL-K8S-'));
    const operatorOwned = { ...kafka, spec: { ...kafka.spec, kafka: { ...kafka.spec.kafka, template: { pod: { securityContext: {} } } } } };
    for (const rule of containerRules) expect(findingsOf(rule, set(operatorOwned)), rule.id).toEqual([]);
  });

  it('names the environment, the file and the object in a finding', () => {
    const [finding] = findingsOf(RULES.find((r) => r.id === 'DL-NS-003')!, set(namespace('kafka')));
    expect(finding).toMatchObject({ environment: LIVE.name, location: `k8s/rendered/${LIVE.name}/fixture/namespace--kafka.yaml`, subject: 'Namespace/kafka', ruleId: 'DL-NS-003' });
  });

  it.each([
    ['docker.io/library/spark:4.0.1-scala2.13-java17-python3-ubuntu', undefined],
    ['registry.example.com:5000/team/app:1.2.3', undefined],
    [`quay.io/x/y@sha256:${'a'.repeat(64)}`, undefined],
    ['registry.example.com:5000/team/app', 'without a tag'],
    ['spark', 'without a tag'],
    ['spark:latest', "moving tag 'latest'"],
    ['', 'names no image'],
  ])('judges the image %j as pinned or not', (image, problem) => {
    const found = imagePinProblem(image);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });
});
