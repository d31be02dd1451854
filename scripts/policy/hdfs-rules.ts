/**
 * Rules for HDFS and its ZooKeeper (Stackable): they exist in every environment and are wired together, their
 * volumes outlive their claims, and blocks are replicated as the environment asks.
 */
import type { EnvironmentRule, KubeObject, ManifestRule } from './rule';
import { storageClassProblem } from './storage-rules';

export const hdfsPresent: EnvironmentRule = {
  id: 'DL-HDFS-001',
  severity: 'error',
  target: 'environment',
  description: 'Every environment renders an HdfsCluster whose ZooKeeper znode and ZookeeperCluster exist in the same namespace.',
  hint: 'Render HdfsChart for the environment: HdfsCluster (clusterConfig.zookeeperConfigMapName) → ZookeeperZnode (clusterRef) → ZookeeperCluster.',
  check: ({ env, manifests }) => {
    const objects = manifests.map((m) => m.object);
    const find = (kind: string, name: unknown, namespace: unknown) =>
      objects.find((o) => o.kind === kind && o.metadata.name === name && (o.metadata.namespace ?? '') === (namespace ?? ''));
    const clusters = objects.filter((o) => o.kind === 'HdfsCluster');
    if (clusters.length === 0) return [`environment '${env.name}' renders no HdfsCluster`];
    return clusters.flatMap((hdfs) => {
      const znodeName = hdfs.spec?.clusterConfig?.zookeeperConfigMapName;
      const znode = find('ZookeeperZnode', znodeName, hdfs.metadata.namespace);
      if (znode === undefined) return [`HdfsCluster ${hdfs.metadata.name} uses the ZooKeeper znode ${JSON.stringify(znodeName ?? null)}, which is not rendered in its namespace`];
      const ref = znode.spec?.clusterRef ?? {};
      return find('ZookeeperCluster', ref.name, ref.namespace ?? znode.metadata.namespace) === undefined
        ? [`ZookeeperZnode ${znode.metadata.name} refers to the ZookeeperCluster ${JSON.stringify(ref.name ?? null)}, which is not rendered`]
        : [];
    });
  },
};

/** Each role of a Stackable cluster and the storage of its role config and role groups. */
function roleStorages(object: KubeObject): Array<{ where: string; storage: Record<string, any> }> {
  const roles = object.kind === 'HdfsCluster' ? ['nameNodes', 'journalNodes', 'dataNodes'] : ['servers'];
  return roles.flatMap((role) => {
    const spec = object.spec?.[role];
    if (spec === undefined) return [];
    const groups = Object.entries((spec.roleGroups ?? {}) as Record<string, any>);
    return [
      { where: role, storage: spec.config?.resources?.storage ?? {} },
      ...groups.filter(([, g]) => g?.config?.resources?.storage !== undefined).map(([name, g]) => ({ where: `${role}.${name}`, storage: g.config.resources.storage })),
    ];
  });
}

export const hdfsVolumesKept: ManifestRule = {
  id: 'DL-HDFS-002',
  severity: 'error',
  target: 'manifest',
  kinds: ['HdfsCluster', 'ZookeeperCluster'],
  description: "Every HDFS and ZooKeeper volume is on a StorageClass that retains volumes, so deleting a claim never deletes blocks or the namenodes' state.",
  hint: 'Set storageClass: DATA_STORAGE_CLASS on every role storage (HdfsChart volumeOf does).',
  check: (object, { manifests }) =>
    roleStorages(object).flatMap(({ where, storage }) => {
      // A role without declared storage gets the operator's default claim on the cluster's default StorageClass.
      if (!where.includes('.') && Object.keys(storage).length === 0) return [`${object.kind} ${object.metadata.name} ${where} declares no storage, so it gets the default StorageClass`];
      return Object.entries(storage).flatMap(([volume, settings]) => {
        const problem = storageClassProblem((settings as Record<string, unknown> | undefined)?.storageClass, manifests);
        return problem === undefined ? [] : [`${object.kind} ${object.metadata.name} ${where} volume ${volume} ${problem}`];
      });
    }),
};

export const hdfsReplication: ManifestRule = {
  id: 'DL-HDFS-003',
  severity: 'error',
  target: 'manifest',
  kinds: ['HdfsCluster'],
  description: "HDFS replicates blocks at least hdfs.dfsReplication times, as the environment asks.",
  hint: 'Set clusterConfig.dfsReplication from env.hdfs.dfsReplication.',
  check: (hdfs, { env }) => {
    // Stackable's default is 3 when the field is absent.
    const replication = Number(hdfs.spec?.clusterConfig?.dfsReplication ?? 3);
    return replication >= env.hdfs.dfsReplication
      ? []
      : [`HdfsCluster ${hdfs.metadata.name} replicates blocks ${replication} times, below hdfs.dfsReplication (${env.hdfs.dfsReplication}) of environment '${env.name}'`];
  },
};

/** The HDFS environment rules. */
export const HDFS_ENVIRONMENT_RULES: readonly EnvironmentRule[] = [hdfsPresent];

/** The HDFS manifest rules. */
export const HDFS_RULES: readonly ManifestRule[] = [hdfsVolumesKept, hdfsReplication];
