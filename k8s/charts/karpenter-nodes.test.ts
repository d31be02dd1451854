import { describe, expect, it } from 'vitest';
import { loadEnvironments, validateEnvironments } from '../../environments/load';
import { clusterName, INTERRUPTIBLE_TAINT, KARPENTER_DISCOVERY_TAG, karpenterNodeRoleName, NODE_POOLS } from '../../environments/naming';
import type { Environment } from '../../environments/schema';
import { FIXTURE_INPUTS, fixtureEnvironments, withValues } from '../../scripts/fixtures/environments';
import { KARPENTER_RULES } from '../../scripts/policy/karpenter-rules';
import { findObject, ofKind, renderChart, type KubeObject } from '../manifest-lookup';
import { NODE_AMI_ALIAS } from '../versions';
import { NODE_CLASS } from './karpenter-nodes';
import { PlatformChart } from './platform-chart';

// The team's environments and the fixture environments: these properties hold for any valid environment.
const environments = [...(await loadEnvironments()), ...fixtureEnvironments()];

const requirement = (pool: KubeObject, key: string) => pool.spec.template.spec.requirements.find((r: any) => r.key === key);
const keepsData = (object: KubeObject) => object.metadata.annotations?.['argocd.argoproj.io/sync-options'] === 'Prune=false,Delete=false';
const manifests = (objects: readonly KubeObject[], env: Environment) => objects.map((object) => ({ environment: env.name, file: 'fixture', object }));

describe.each(environments)('the $name nodes of Karpenter', (env) => {
  const objects = renderChart(PlatformChart, env);
  const nodeClass = findObject(objects, 'EC2NodeClass', NODE_CLASS);
  const executors = findObject(objects, 'NodePool', NODE_POOLS.executors);
  const stable = findObject(objects, 'NodePool', NODE_POOLS.stable);

  it('launches nodes with the node role, in the subnets and security groups tagged for the cluster, from the pinned AMI', () => {
    expect(nodeClass.apiVersion).toBe('karpenter.k8s.aws/v1');
    expect(nodeClass.spec.role).toBe(karpenterNodeRoleName(env.name));
    const discovery = [{ tags: { [KARPENTER_DISCOVERY_TAG]: clusterName(env.name) } }];
    expect(nodeClass.spec.subnetSelectorTerms).toEqual(discovery);
    expect(nodeClass.spec.securityGroupSelectorTerms).toEqual(discovery);
    expect(nodeClass.spec.amiSelectorTerms).toEqual([{ alias: NODE_AMI_ALIAS }]);
    expect(NODE_AMI_ALIAS).toMatch(/^al2023@v\d{8}$/);
    expect(nodeClass.spec.associatePublicIPAddress).toBe(false);
  });

  it('requires IMDSv2 with a hop limit of 1 and encrypts every gp3 volume, tagged as the stacks tag their resources', () => {
    expect(nodeClass.spec.metadataOptions).toEqual({ httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1 });
    expect(nodeClass.spec.blockDeviceMappings.length).toBeGreaterThan(0);
    for (const mapping of nodeClass.spec.blockDeviceMappings) expect(mapping.ebs).toMatchObject({ volumeType: 'gp3', encrypted: true });
    expect(nodeClass.spec.tags).toMatchObject({ environment: env.name, owner: env.tags.owner, 'cost-centre': env.tags.costCentre });
  });

  it("bounds each NodePool by the environment's CPU and memory and takes its instance categories", () => {
    for (const [pool, data] of [[executors, env.cluster.nodePools.executors], [stable, env.cluster.nodePools.stable]] as const) {
      expect(pool.apiVersion).toBe('karpenter.sh/v1');
      expect(pool.spec.limits).toEqual({ cpu: data.cpuLimit, memory: `${data.memoryLimitGiB}Gi` });
      expect(requirement(pool, 'karpenter.k8s.aws/instance-category')).toEqual({ key: 'karpenter.k8s.aws/instance-category', operator: 'In', values: data.instanceCategories });
      expect(pool.spec.template.spec.nodeClassRef).toEqual({ group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: NODE_CLASS });
    }
  });

  it('buys the capacity types the environment lists for executors, behind the interruptible taint, consolidating when empty or underutilized', () => {
    expect(requirement(executors, 'karpenter.sh/capacity-type').values).toEqual(env.cluster.nodePools.executors.capacityTypes);
    expect(executors.spec.template.spec.taints).toEqual([INTERRUPTIBLE_TAINT]);
    expect(executors.spec.disruption.consolidationPolicy).toBe('WhenEmptyOrUnderutilized');
  });

  it('runs everything else on on-demand nodes that are removed only when empty, one at a time, and never expire', () => {
    expect(requirement(stable, 'karpenter.sh/capacity-type')).toEqual({ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] });
    expect(stable.spec.template.spec.taints).toBeUndefined();
    expect(stable.spec.disruption).toMatchObject({ consolidationPolicy: 'WhenEmpty', budgets: [{ nodes: '1' }] });
    expect(stable.spec.template.spec.expireAfter).toBe('Never');
  });

  it('keeps the node class and the pools through every sync: deleting one terminates its nodes', () => {
    for (const object of [nodeClass, executors, stable]) expect(keepsData(object), object.metadata.name).toBe(true);
  });

  it('passes every Karpenter rule of the policy gate', () => {
    const all = manifests(objects, env);
    const karpenterObjects = [...ofKind(objects, 'EC2NodeClass'), ...ofKind(objects, 'NodePool')];
    expect(karpenterObjects).toHaveLength(3);
    for (const rule of KARPENTER_RULES) {
      for (const object of karpenterObjects.filter((o) => rule.kinds.includes(o.kind))) expect(rule.check(object, { env, manifests: all }), `${rule.id} ${object.metadata.name}`).toEqual([]);
    }
  });
});

describe('NodePools follow the environment data', () => {
  const [onDemandOnly] = validateEnvironments({
    lab: withValues(FIXTURE_INPUTS.lab, { 'cluster.nodePools.executors.capacityTypes': ['on-demand'], 'cluster.nodePools.stable.instanceCategories': ['m', 'r'] }),
  });
  const objects = renderChart(PlatformChart, onDemandOnly!);

  it('buys only on-demand executors where the environment says so, still behind the taint that keeps other pods off', () => {
    const executors = findObject(objects, 'NodePool', NODE_POOLS.executors);
    expect(requirement(executors, 'karpenter.sh/capacity-type').values).toEqual(['on-demand']);
    expect(executors.spec.template.spec.taints).toEqual([INTERRUPTIBLE_TAINT]);
    expect(requirement(findObject(objects, 'NodePool', NODE_POOLS.stable), 'karpenter.k8s.aws/instance-category').values).toEqual(['m', 'r']);
  });
});
