import type { Construct } from 'constructs';
import { checkpointPath, HDFS_CLUSTER, NAMESPACES, PIPELINE_HDFS_USER } from '../../environments/naming';
import type { Pipeline } from '../../pipelines/schema';
import { KEEP_DATA, syncWave } from '../argocd';
import { k8s } from '../kube';
import { HdfsCluster } from '../imports/hdfs.stackable.tech';
import { ZookeeperCluster, ZookeeperZnode } from '../imports/zookeeper.stackable.tech';
import { nodeSelectorFor } from '../placement';
import { cpus, gibibytes, hdfsPods, type PodGroup } from '../sizing';
import { OPERATOR_CHARTS, STACKABLE_IMAGE_REGISTRY, STACKABLE_PRODUCTS } from '../versions';
import type { Environment } from '../../environments/schema';
import { EnvironmentChart, type EnvironmentChartProps } from './environment-chart';
import { DATA_STORAGE_CLASS } from './platform-chart';

/** The ZooKeeper ensemble that elects the active namenode (in NAMESPACES.hdfs). */
export const HDFS_ZOOKEEPER_CLUSTER = `${HDFS_CLUSTER}-zookeeper`;

/** The znode that holds HDFS's HA state; the operator publishes its connection string in a ConfigMap of the same name. */
export const HDFS_ZNODE = `${HDFS_CLUSTER}-znode`;

/**
 * The HDFS client settings (as Hadoop properties) for the `hdfs://<HDFS_CLUSTER>` name service, for pods in
 * other namespaces that cannot mount the discovery ConfigMap Stackable publishes here. The namenode ids and
 * addresses follow Stackable's naming: pod `<cluster>-namenode-<group>-<i>` behind the headless Service
 * `<cluster>-namenode-<group>-headless`; with one namenode there is simply no failover to choose from.
 */
export function hdfsClientConf(env: Environment): Record<string, string> {
  const statefulSet = `${HDFS_CLUSTER}-namenode-${ROLE_GROUP}`;
  const namenodes = Array.from({ length: hdfsPods(env).namenodes.replicas }, (_, i) => `${statefulSet}-${i}`);
  return {
    'dfs.nameservices': HDFS_CLUSTER,
    [`dfs.ha.namenodes.${HDFS_CLUSTER}`]: namenodes.join(','),
    ...Object.fromEntries(
      namenodes.map((pod) => [`dfs.namenode.rpc-address.${HDFS_CLUSTER}.${pod}`, `${pod}.${statefulSet}-headless.${NAMESPACES.hdfs}.svc.cluster.local:8020`]),
    ),
    [`dfs.client.failover.proxy.provider.${HDFS_CLUSTER}`]: 'org.apache.hadoop.hdfs.server.namenode.ha.ConfiguredFailoverProxyProvider',
    // The writing client sets a file's replication, not the namenode: without this every job writes 3 copies.
    'dfs.replication': String(env.hdfs.dfsReplication),
  };
}

/** An HDFS directory a pipeline needs, owned by PIPELINE_HDFS_USER, and its mode. */
export interface PipelineDirectory {
  readonly path: string;
  readonly mode: '700' | '750';
}

/**
 * The directories the pipelines write in HDFS, which the platform creates for them: a stream's checkpoint (no one
 * else reads it) and every HDFS sink (readable by the group). HDFS's root belongs to its superuser, so a pipeline
 * could not create them itself.
 */
export function pipelineDirectories(pipelines: readonly Pipeline[]): PipelineDirectory[] {
  const directories = pipelines.flatMap((pipeline): PipelineDirectory[] => [
    ...(pipeline.kind === 'streaming' ? [{ path: checkpointPath(pipeline.name), mode: '700' as const }] : []),
    ...(pipeline.sink.type === 'hdfs' ? [{ path: pipeline.sink.path, mode: '750' as const }] : []),
  ]);
  return directories.sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * The shell script of the directories Job: one `hdfs dfs` command per line, with plain arguments (paths are
 * validated to hold no spaces or quotes), so that the local plane runs the very same commands (scripts/local/plane.ts).
 * `mkdir -p`, `chown` and `chmod` are idempotent: every sync runs it again.
 */
export function pipelineDirectoriesScript(directories: readonly PipelineDirectory[]): string {
  const paths = directories.map((d) => d.path);
  const modes = [...new Set(directories.map((d) => d.mode))].sort();
  return [
    `hdfs dfs -mkdir -p ${paths.join(' ')}`,
    `hdfs dfs -chown ${PIPELINE_HDFS_USER}:${PIPELINE_HDFS_USER} ${paths.join(' ')}`,
    ...modes.map((mode) => `hdfs dfs -chmod ${mode} ${directories.filter((d) => d.mode === mode).map((d) => d.path).join(' ')}`),
  ].join('\n');
}

/** The Job that creates the pipelines' HDFS directories. */
export const PIPELINE_DIRECTORIES_JOB = 'pipeline-directories';

/** The user Stackable's HDFS runs as: the HDFS superuser, the only one that may create directories under `/` and chown. */
const HDFS_SUPERUSER = 'stackable';

/** Stackable's ListenerClass for addresses reachable only from inside the cluster. */
const CLUSTER_INTERNAL = 'cluster-internal';

/**
 * Every role on the stable NodePool: their volumes hold the file system and its quorum. `config.affinity.nodeSelector`
 * is merged into the operator's own affinity (its anti-affinity between replicas stays), unlike a podOverride.
 */
const STABLE = { nodeSelector: nodeSelectorFor('stable') };

/** Every role has one role group; the name ends up in pod and Service names, so it is a contract like a construct ID. */
const ROLE_GROUP = 'default';

/**
 * `k8s/rendered/<env>/hdfs`: ZooKeeper and HDFS through the Stackable operators.
 * Replicas, CPU, memory and volumes come from `hdfsPods(env)` (the same numbers the namespace quota is summed
 * from); every volume is on the retaining StorageClass, nothing is exposed outside the cluster, and the three
 * objects that hold data are never pruned or deleted by Argo CD.
 */
export class HdfsChart extends EnvironmentChart {
  constructor(scope: Construct, id: string, props: EnvironmentChartProps) {
    super(scope, id, props);
    const { env } = props;
    const pods = hdfsPods(env);
    const namespace = NAMESPACES.hdfs;

    new ZookeeperCluster(this, 'zookeeper', {
      metadata: { name: HDFS_ZOOKEEPER_CLUSTER, namespace, annotations: KEEP_DATA },
      spec: {
        image: { productVersion: STACKABLE_PRODUCTS.zookeeper },
        servers: {
          roleConfig: { listenerClass: CLUSTER_INTERNAL },
          config: { affinity: STABLE, resources: { ...computeOf(pods.zookeeper), storage: { data: volumeOf(pods.zookeeper) } } },
          roleGroups: { [ROLE_GROUP]: { replicas: pods.zookeeper.replicas } },
        },
      },
    });

    // Deleting the znode deletes the chroot under it, and with it the namenodes' HA state.
    new ZookeeperZnode(this, 'znode', {
      metadata: { name: HDFS_ZNODE, namespace, annotations: KEEP_DATA },
      spec: { clusterRef: { name: HDFS_ZOOKEEPER_CLUSTER, namespace } },
    });

    // With 2 namenodes the operator runs them active/standby with ZKFC and the journal quorum; with 1 there is no failover.
    new HdfsCluster(this, 'hdfs', {
      metadata: { name: HDFS_CLUSTER, namespace, annotations: KEEP_DATA },
      spec: {
        image: { productVersion: STACKABLE_PRODUCTS.hdfs },
        clusterConfig: { zookeeperConfigMapName: HDFS_ZNODE, dfsReplication: env.hdfs.dfsReplication },
        nameNodes: {
          config: {
            listenerClass: CLUSTER_INTERNAL,
            affinity: STABLE,
            resources: { ...computeOf(pods.namenodes), storage: { data: volumeOf(pods.namenodes) } },
          },
          roleGroups: { [ROLE_GROUP]: { replicas: pods.namenodes.replicas } },
        },
        journalNodes: {
          // Journalnodes have no listener: only the namenodes talk to them, through the headless Service.
          config: { affinity: STABLE, resources: { ...computeOf(pods.journalnodes), storage: { data: volumeOf(pods.journalnodes) } } },
          roleGroups: { [ROLE_GROUP]: { replicas: pods.journalnodes.replicas } },
        },
        dataNodes: {
          config: {
            listenerClass: CLUSTER_INTERNAL,
            affinity: STABLE,
            resources: {
              ...computeOf(pods.datanodes),
              // One disk per datanode; `data` is the operator's default PVC name, so renaming it would orphan every block.
              storage: { data: { ...volumeOf(pods.datanodes), count: 1, hdfsStorageType: 'Disk' } },
            },
          },
          roleGroups: { [ROLE_GROUP]: { replicas: pods.datanodes.replicas } },
        },
      },
    });

    this.addPipelineDirectories(props.pipelines);
  }

  /**
   * An Argo CD Sync hook, after the HdfsCluster's wave, recreated on every sync: the namenode may still be starting,
   * so the Job retries with Kubernetes' back-off. It reads the client configuration Stackable publishes in the
   * discovery ConfigMap named after the cluster.
   */
  private addPipelineDirectories(pipelines: readonly Pipeline[]): void {
    const directories = pipelineDirectories(pipelines);
    if (directories.length === 0) return;
    const labels = { 'app.kubernetes.io/name': PIPELINE_DIRECTORIES_JOB };
    new k8s.KubeJob(this, 'pipeline-directories', {
      metadata: {
        name: PIPELINE_DIRECTORIES_JOB,
        namespace: NAMESPACES.hdfs,
        labels,
        annotations: { 'argocd.argoproj.io/hook': 'Sync', 'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation', ...syncWave(1) },
      },
      spec: {
        backoffLimit: 10,
        activeDeadlineSeconds: 1800,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: 'Never',
            automountServiceAccountToken: false,
            nodeSelector: nodeSelectorFor('stable'),
            securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'hdfs',
                image: `${STACKABLE_IMAGE_REGISTRY}/hadoop:${STACKABLE_PRODUCTS.hdfs}-stackable${OPERATOR_CHARTS.stackableHdfs.version}`,
                command: ['/bin/bash', '-euo', 'pipefail', '-c', `export PATH="/stackable/hadoop/bin:$PATH"\n${pipelineDirectoriesScript(directories)}\n`],
                env: [
                  { name: 'HADOOP_CONF_DIR', value: '/stackable/conf' },
                  { name: 'HADOOP_USER_NAME', value: HDFS_SUPERUSER },
                  { name: 'HADOOP_CLIENT_OPTS', value: '-Xmx256m' },
                ],
                resources: { requests: { cpu: k8s.Quantity.fromString('100m'), memory: k8s.Quantity.fromString('512Mi') }, limits: { memory: k8s.Quantity.fromString('512Mi') } },
                securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                volumeMounts: [
                  { name: 'conf', mountPath: '/stackable/conf', readOnly: true },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [
              { name: 'conf', configMap: { name: HDFS_CLUSTER } },
              { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } },
            ],
          },
        },
      },
    });
  }
}

/**
 * CPU and memory in Stackable's shape. `min` is the request the quota counts; `max` leaves room for JVM start-up,
 * GC and block reports, and is always set because an unset one falls back to the operator's default, which can be
 * below the request. Memory is one figure: the operator makes it request and limit and derives the heap from it.
 */
function computeOf(group: PodGroup) {
  return {
    cpu: { min: cpus(group.cpu), max: cpus(group.cpu * 2) },
    memory: { limit: gibibytes(group.memoryGiB) },
  };
}

/** A persistent volume per replica on the StorageClass that keeps the disk when its claim goes. */
function volumeOf(group: PodGroup) {
  return { capacity: gibibytes(group.storageGiB), storageClass: DATA_STORAGE_CLASS };
}
