import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import { FIXTURE_INPUTS, fixtureEnvironments } from '../../scripts/fixtures/environments';
import { findObject, ofKind, renderChart } from '../manifest-lookup';
import { HdfsChart } from './hdfs-chart';

// The team's environments and the fixture environments: these properties hold for any valid environment.
const environments = [...(await loadEnvironments()), ...fixtureEnvironments()];

/** CPU quantity as cores: '500m' → 0.5, '2' → 2. */
const cores = (quantity: string) => (quantity.endsWith('m') ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity));

describe.each(environments)('the $name HDFS cluster', (env) => {
  const objects = renderChart(HdfsChart, env);
  const zookeeper = findObject(objects, 'ZookeeperCluster', 'lake-zookeeper', 'hdfs');
  const znode = findObject(objects, 'ZookeeperZnode', 'lake-znode', 'hdfs');
  const hdfs = findObject(objects, 'HdfsCluster', 'lake', 'hdfs');
  const { nameNodes, journalNodes, dataNodes } = hdfs.spec;
  const roles = { servers: zookeeper.spec.servers, nameNodes, journalNodes, dataNodes };

  it('renders only the ZooKeeper ensemble, its znode and the HDFS cluster, all in the hdfs namespace', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`).sort()).toEqual([
      'HdfsCluster/hdfs/lake',
      'ZookeeperCluster/hdfs/lake-zookeeper',
      'ZookeeperZnode/hdfs/lake-znode',
    ]);
  });

  it('uses the API versions the Stackable 26.7 operators serve and their LTS product versions', () => {
    expect(zookeeper.apiVersion).toBe('zookeeper.stackable.tech/v1alpha1');
    expect(znode.apiVersion).toBe('zookeeper.stackable.tech/v1alpha1');
    expect(hdfs.apiVersion).toBe('hdfs.stackable.tech/v1alpha1');
    expect(zookeeper.spec.image).toEqual({ productVersion: '3.9.5' });
    // 3.5.0 is the HDFS LTS line of the 26.7 operators, and the Hadoop client of Spark 4.2 that the local engines run.
    expect(hdfs.spec.image).toEqual({ productVersion: '3.5.0' });
  });

  it('wires HDFS to ZooKeeper through the znode and its ConfigMap', () => {
    expect(znode.spec.clusterRef).toEqual({ name: zookeeper.metadata.name, namespace: 'hdfs' });
    // The operator names the znode's discovery ConfigMap after the znode.
    expect(hdfs.spec.clusterConfig.zookeeperConfigMapName).toBe(znode.metadata.name);
  });

  it('replicates every block as often as the environment says, and never more often than there are datanodes', () => {
    const datanodes = dataNodes.roleGroups.default.replicas;
    expect(hdfs.spec.clusterConfig.dfsReplication).toBe(env.hdfs.dfsReplication);
    expect(datanodes).toBe(env.hdfs.datanodes);
    expect(hdfs.spec.clusterConfig.dfsReplication).toBeLessThanOrEqual(datanodes);
  });

  it('runs as many namenodes and journalnodes as the environment says, in one role group each', () => {
    expect(Object.keys(nameNodes.roleGroups)).toEqual(['default']);
    expect(Object.keys(journalNodes.roleGroups)).toEqual(['default']);
    expect(nameNodes.roleGroups.default.replicas).toBe(env.hdfs.namenodes);
    expect(journalNodes.roleGroups.default.replicas).toBe(env.hdfs.journalnodes);
  });

  it('runs an odd ZooKeeper ensemble: three servers when the namenodes fail over, one otherwise', () => {
    const servers = zookeeper.spec.servers.roleGroups.default.replicas;
    expect(servers).toBe(env.hdfs.namenodes > 1 ? 3 : 1);
    expect(servers % 2).toBe(1);
  });

  it('gives every datanode one disk of the environment size on the retaining StorageClass', () => {
    expect(dataNodes.config.resources.storage).toEqual({
      data: { capacity: `${env.hdfs.datanodeStorageGiB}Gi`, storageClass: 'data-gp3-retain', count: 1, hdfsStorageType: 'Disk' },
    });
    expect(nameNodes.config.resources.storage.data.capacity).toBe(`${env.hdfs.namenodeStorageGiB}Gi`);
  });

  it('keeps every volume of every role on the retaining StorageClass', () => {
    for (const [role, spec] of Object.entries(roles)) {
      const volumes = Object.values(spec.config.resources.storage) as { capacity: string; storageClass: string }[];
      expect(volumes.length, role).toBeGreaterThan(0);
      for (const volume of volumes) {
        expect(volume.storageClass, role).toBe('data-gp3-retain');
        expect(volume.capacity, role).toMatch(/^\d+(Mi|Gi)$/);
      }
    }
  });

  it('sets CPU, a CPU ceiling not below it, and memory on every role', () => {
    for (const [role, spec] of Object.entries(roles)) {
      const { cpu, memory } = spec.config.resources;
      expect(cpu.min, role).toMatch(/^\d+m?$/);
      expect(cores(cpu.max), role).toBeGreaterThanOrEqual(cores(cpu.min));
      expect(memory.limit, role).toMatch(/^\d+(Mi|Gi)$/);
    }
    expect(dataNodes.config.resources.cpu.min).toBe(String(env.hdfs.datanodeCpus));
    expect(dataNodes.config.resources.memory.limit).toBe(`${env.hdfs.datanodeMemoryGiB}Gi`);
  });

  it('exposes namenodes, datanodes and ZooKeeper only inside the cluster', () => {
    expect(nameNodes.config.listenerClass).toBe('cluster-internal');
    expect(dataNodes.config.listenerClass).toBe('cluster-internal');
    expect(zookeeper.spec.servers.roleConfig.listenerClass).toBe('cluster-internal');
  });

  it('is never pruned or deleted by Argo CD, znode included (deleting it wipes the HA state)', () => {
    for (const object of [zookeeper, znode, hdfs]) {
      expect(object.metadata.annotations?.['argocd.argoproj.io/sync-options'], object.kind).toBe('Prune=false,Delete=false');
    }
  });
});

describe('HDFS high availability', () => {
  it('runs two namenodes, at least three journalnodes and three ZooKeeper servers where the environment fails over, one of each otherwise', () => {
    expect(Object.fromEntries(Object.values(FIXTURE_INPUTS).map(({ name, hdfs }) => [name, [hdfs.namenodes, hdfs.journalnodes]]))).toEqual({
      lab: [1, 1],
      trial: [2, 3],
      live: [2, 3],
    });
    const shapes = Object.fromEntries(
      fixtureEnvironments().map((env) => {
        const objects = renderChart(HdfsChart, env);
        const hdfs = ofKind(objects, 'HdfsCluster', 'hdfs')[0]!;
        const zookeeper = ofKind(objects, 'ZookeeperCluster', 'hdfs')[0]!;
        return [
          env.name,
          {
            namenodes: hdfs.spec.nameNodes.roleGroups.default.replicas,
            journalQuorum: hdfs.spec.journalNodes.roleGroups.default.replicas >= 3,
            zookeeper: zookeeper.spec.servers.roleGroups.default.replicas,
          },
        ];
      }),
    );
    expect(shapes).toEqual({
      lab: { namenodes: 1, journalQuorum: false, zookeeper: 1 },
      trial: { namenodes: 2, journalQuorum: true, zookeeper: 3 },
      live: { namenodes: 2, journalQuorum: true, zookeeper: 3 },
    });
  });
});
