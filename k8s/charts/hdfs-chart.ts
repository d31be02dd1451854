import type { Construct } from 'constructs';
import { HDFS_CLUSTER, NAMESPACES } from '../../environments/naming';
import { KEEP_DATA } from '../argocd';
import { HdfsCluster } from '../imports/hdfs.stackable.tech';
import { ZookeeperCluster, ZookeeperZnode } from '../imports/zookeeper.stackable.tech';
import { nodeSelectorFor } from '../placement';
import { cpus, gibibytes, hdfsPods, type PodGroup } from '../sizing';
import { STACKABLE_PRODUCTS } from '../versions';
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
