import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import { FIXTURE_INPUTS, fixtureEnvironments } from '../../scripts/fixtures/environments';
import { findObject, ofKind, renderChart } from '../manifest-lookup';
import { fixturePipelines } from '../../scripts/fixtures/pipelines';
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

describe.each(fixtureEnvironments())('the directories the $name HDFS cluster creates for the pipelines', async (env) => {
  const pipelines = await fixturePipelines();
  const job = findObject(renderChart(HdfsChart, env, pipelines), 'Job', 'pipeline-directories', 'hdfs');
  const pod = job.spec.template.spec;
  const script: string = pod.containers[0].command.at(-1);
  // Each `hdfs dfs` line as its arguments.
  const commands = script.split('\n').filter((line) => line.startsWith('hdfs dfs ')).map((line) => line.split(' ').slice(2));
  const argsOf = (verb: string) => commands.filter((c) => c[0] === verb);

  it("creates each stream's checkpoint (private) and each HDFS sink (group-readable), owned by the pipelines' user", () => {
    const streams = pipelines.filter((p) => p.kind === 'streaming').map((p) => `/driftless/checkpoints/${p.name}`);
    const sinks = pipelines.flatMap((p) => (p.sink.type === 'hdfs' ? [p.sink.path] : []));
    expect(streams.length + sinks.length).toBeGreaterThan(0);
    const all = [...streams, ...sinks].sort();
    expect(argsOf('-mkdir')).toEqual([['-mkdir', '-p', ...all]]);
    expect(argsOf('-chown')).toEqual([['-chown', 'spark:spark', ...all]]);
    const modes = Object.fromEntries(argsOf('-chmod').map(([, mode, ...paths]) => [mode, paths]));
    expect(modes).toEqual({ ...(streams.length ? { 700: streams.sort() } : {}), ...(sinks.length ? { 750: sinks.sort() } : {}) });
  });

  it('runs as an Argo CD sync hook after the cluster, as the HDFS superuser, retrying while the namenode starts', () => {
    expect(job.metadata.annotations).toMatchObject({ 'argocd.argoproj.io/hook': 'Sync', 'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation' });
    expect(Number(job.metadata.annotations!['argocd.argoproj.io/sync-wave'])).toBeGreaterThan(0);
    expect(job.spec.backoffLimit).toBeGreaterThan(0);
    expect(pod.containers[0].env).toContainEqual({ name: 'HADOOP_USER_NAME', value: 'stackable' });
    expect(pod.containers[0].image).toBe('oci.stackable.tech/sdp/hadoop:3.5.0-stackable26.7.0');
    // The discovery ConfigMap the operator publishes under the cluster's name holds core-site.xml and hdfs-site.xml.
    expect(pod.volumes).toContainEqual({ name: 'conf', configMap: { name: 'lake' } });
  });

  it('runs non-root with a read-only root, no privileges and no API token', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.nodeSelector).toEqual({ 'karpenter.sh/nodepool': 'stable' });
    expect(pod.containers[0].securityContext).toEqual({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(pod.containers[0].resources.limits.memory).toBeDefined();
  });
});

describe('the pipeline directories without pipelines', () => {
  it('renders no Job when no pipeline writes to HDFS', () => {
    const [env] = fixtureEnvironments();
    expect(ofKind(renderChart(HdfsChart, env!), 'Job')).toEqual([]);
  });
});
