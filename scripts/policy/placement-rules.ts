/**
 * Rules for where pods run. The managed node groups are tainted for the system workloads, so a pod of the platform
 * that selects no Karpenter NodePool has nowhere to go; and the nodes of the executors pool may be spot instances,
 * reclaimed at two minutes' notice, which only a pipeline's executors may run on (their tasks are re-run elsewhere).
 * Covers the pod templates this repository renders: workloads, Spark drivers and executors, and the pods of the
 * custom resources whose operators take placement from them (Strimzi's templates, Stackable's roles).
 */
import { INTERRUPTIBLE_TAINT, NAMESPACES, NODE_POOL_LABEL, NODE_POOLS, SYSTEM_NODE_TAINT } from '../../environments/naming';
import { podTemplate, sparkSpec, WORKLOAD_KINDS } from './containers';
import type { KubeObject, ManifestRule } from './rule';

type Fields = Readonly<Record<string, any>>;

/** Where one pod template puts its pods. */
export interface Placement {
  /** For messages: `pod template`, `driver`, `executor`, `entityOperator`, `nameNodes role group default`. */
  readonly where: string;
  readonly nodeSelector: Fields | undefined;
  readonly affinity: Fields | undefined;
  readonly tolerations: readonly Fields[];
  /** A Spark executor: the only pod that may run on interruptible nodes. */
  readonly executor: boolean;
  /** A DaemonSet's pods run on every node they tolerate; no pool to choose. */
  readonly daemonSet: boolean;
}

const PLACED_CUSTOM_KINDS = ['Kafka', 'KafkaNodePool', 'HdfsCluster', 'ZookeeperCluster'] as const;
const KINDS = [...WORKLOAD_KINDS, ...PLACED_CUSTOM_KINDS];

const list = (value: unknown): Fields[] => (Array.isArray(value) ? value.filter((v) => v !== null && typeof v === 'object') : []);

const placement = (where: string, pod: Fields | undefined, extra: Partial<Placement> = {}): Placement => ({
  where,
  nodeSelector: pod?.nodeSelector,
  affinity: pod?.affinity,
  tolerations: list(pod?.tolerations),
  executor: false,
  daemonSet: false,
  ...extra,
});

/** Stackable's roles of each kind, with their pods: role config, then role groups, each with podOverrides. */
const STACKABLE_ROLES: Readonly<Record<string, readonly string[]>> = { HdfsCluster: ['nameNodes', 'journalNodes', 'dataNodes'], ZookeeperCluster: ['servers'] };

/** Every pod template the object renders, with where it puts its pods. */
export function placementsOf(object: KubeObject): Placement[] {
  const template = podTemplate(object);
  if (template !== undefined) return [placement('pod template', template.spec, { daemonSet: object.kind === 'DaemonSet' })];
  const spark = sparkSpec(object);
  if (spark !== undefined) return (['driver', 'executor'] as const).map((role) => placement(role, spark[role], { executor: role === 'executor' }));
  const spec: Fields = object['spec'] ?? {};
  switch (object.kind) {
    case 'KafkaNodePool':
      return [placement('pod template', spec.template?.pod)];
    case 'Kafka':
      // The brokers' and controllers' pods come from the KafkaNodePools; these are the cluster's other pods.
      return (['entityOperator', 'kafkaExporter', 'cruiseControl'] as const)
        .filter((part) => spec[part] !== undefined)
        .map((part) => placement(part, spec[part]?.template?.pod));
    case 'HdfsCluster':
    case 'ZookeeperCluster':
      return (STACKABLE_ROLES[object.kind] ?? [])
        .filter((role) => spec[role] !== undefined)
        .flatMap((role) => {
          const groups = Object.entries<Fields>(spec[role].roleGroups ?? {});
          // A role group's settings override its role's: the role's placement holds where a group sets none.
          return groups.map(([name, group]) => stackablePlacement(`${role} role group ${name}`, spec[role], group));
        });
    default:
      return [];
  }
}

function stackablePlacement(where: string, role: Fields, group: Fields): Placement {
  const pick = (get: (level: Fields) => Fields | undefined): Fields | undefined => get(group) ?? get(role);
  return {
    where,
    nodeSelector: pick((l) => l.podOverrides?.spec?.nodeSelector) ?? pick((l) => l.config?.affinity?.nodeSelector),
    affinity: pick((l) => l.podOverrides?.spec?.affinity) ?? pick((l) => (l.config?.affinity?.nodeAffinity === undefined ? undefined : { nodeAffinity: l.config.affinity.nodeAffinity })),
    tolerations: [...list(role.podOverrides?.spec?.tolerations), ...list(group.podOverrides?.spec?.tolerations)],
    executor: false,
    daemonSet: false,
  };
}

const POOL_NAMES: readonly string[] = Object.values(NODE_POOLS);

/** The NodePools a placement confines its pods to (by nodeSelector or required node affinity), or none. */
export function selectedPools(p: Placement): string[] {
  const byLabel = p.nodeSelector?.[NODE_POOL_LABEL];
  if (typeof byLabel === 'string') return [byLabel];
  const terms = list(p.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms);
  // Terms are ORed: the pods are confined only if every term names pools.
  const perTerm = terms.map((term) =>
    list(term.matchExpressions)
      .filter((e) => e.key === NODE_POOL_LABEL && e.operator === 'In')
      .flatMap((e) => (Array.isArray(e.values) ? e.values.map(String) : [])),
  );
  return perTerm.length > 0 && perTerm.every((pools) => pools.length > 0) ? [...new Set(perTerm.flat())] : [];
}

/** Whether the tolerations let a pod onto nodes with the interruptible taint. */
export function toleratesInterruptible(tolerations: readonly Fields[]): boolean {
  return tolerations.some(
    (t) =>
      (t.effect === undefined || t.effect === '' || t.effect === INTERRUPTIBLE_TAINT.effect) &&
      (t.operator === 'Exists' ? t.key === undefined || t.key === '' || t.key === INTERRUPTIBLE_TAINT.key : t.key === INTERRUPTIBLE_TAINT.key && t.value === INTERRUPTIBLE_TAINT.value),
  );
}

const taint = `${INTERRUPTIBLE_TAINT.key}=${INTERRUPTIBLE_TAINT.value}:${INTERRUPTIBLE_TAINT.effect}`;

export const onlyExecutorsInterruptible: ManifestRule = {
  id: 'DL-NODE-001',
  severity: 'error',
  target: 'manifest',
  kinds: KINDS,
  description: `Only a pipeline's Spark executors (and DaemonSets, which run on every node) tolerate the interruptible nodes' taint ${taint}.`,
  hint: "Remove the toleration; a pod that must not lose its node belongs on the stable NodePool (nodeSelectorFor('stable') in k8s/placement.ts).",
  check: (object) =>
    placementsOf(object)
      .filter((p) => !p.executor && !p.daemonSet && toleratesInterruptible(p.tolerations))
      .map((p) => `the ${p.where} tolerates ${taint}, so its pods may run on spot nodes reclaimed at two minutes' notice`),
};

/**
 * The namespaces of the system workloads, which run on the managed node groups: Argo CD, which installs everything else
 * (Karpenter too), and Karpenter, which must not run on the nodes it launches and removes.
 */
export const SYSTEM_NAMESPACES: readonly string[] = [NAMESPACES.argocd, NAMESPACES.karpenter];

const systemTaint = `${SYSTEM_NODE_TAINT.key}=${SYSTEM_NODE_TAINT.value}:${SYSTEM_NODE_TAINT.effect}`;

/** Whether the tolerations let a pod onto the managed node groups, tainted for the system workloads. */
export function toleratesSystemNodes(tolerations: readonly Fields[]): boolean {
  return tolerations.some(
    (t) =>
      (t.effect === undefined || t.effect === '' || t.effect === SYSTEM_NODE_TAINT.effect) &&
      (t.operator === 'Exists' ? t.key === undefined || t.key === '' || t.key === SYSTEM_NODE_TAINT.key : t.key === SYSTEM_NODE_TAINT.key && t.value === SYSTEM_NODE_TAINT.value),
  );
}

export const selectsNodePool: ManifestRule = {
  id: 'DL-NODE-002',
  severity: 'error',
  target: 'manifest',
  kinds: KINDS,
  description: `Every pod template outside a DaemonSet selects a Karpenter NodePool (${POOL_NAMES.join(', ')}) by ${NODE_POOL_LABEL} that it can run on; in the system namespaces (${SYSTEM_NAMESPACES.join(', ')}) it tolerates the managed node groups' taint ${systemTaint} instead.`,
  hint: `Set a nodeSelector (or, in Strimzi's templates, a required node affinity) on ${NODE_POOL_LABEL} with k8s/placement.ts; the executors pool also needs the interruptible toleration. A system workload tolerates ${SYSTEM_NODE_TAINT.key}.`,
  check: (object) =>
    placementsOf(object)
      .filter((p) => !p.daemonSet)
      .flatMap((p) => {
        if (SYSTEM_NAMESPACES.includes(object.metadata.namespace ?? '')) {
          return toleratesSystemNodes(p.tolerations) ? [] : [`the ${p.where} of a system workload does not tolerate ${systemTaint}, so the system nodes will not take it`];
        }
        const pools = selectedPools(p);
        if (pools.length === 0) return [`the ${p.where} selects no NodePool by ${NODE_POOL_LABEL}, and the tainted system nodes will not take it`];
        const unknown = pools.filter((pool) => !POOL_NAMES.includes(pool));
        if (unknown.length > 0) return [`the ${p.where} selects ${unknown.join(', ')}, not a NodePool of the platform (${POOL_NAMES.join(', ')})`];
        if (pools.includes(NODE_POOLS.executors) && !toleratesInterruptible(p.tolerations)) {
          return [`the ${p.where} selects the ${NODE_POOLS.executors} pool without tolerating its taint ${taint}, so it never schedules`];
        }
        return [];
      }),
};

export const systemNodesForSystemWorkloads: ManifestRule = {
  id: 'DL-NODE-003',
  severity: 'error',
  target: 'manifest',
  kinds: KINDS,
  description: `Only the system workloads (namespaces ${SYSTEM_NAMESPACES.join(', ')}) and DaemonSets tolerate the managed node groups' taint ${systemTaint}: the system nodes are sized for them alone.`,
  hint: `Remove the toleration and select a NodePool (nodeSelectorFor in k8s/placement.ts).`,
  check: (object) =>
    SYSTEM_NAMESPACES.includes(object.metadata.namespace ?? '')
      ? []
      : placementsOf(object)
          .filter((p) => !p.daemonSet && toleratesSystemNodes(p.tolerations))
          .map((p) => `the ${p.where} tolerates ${systemTaint}, so its pods may take the system nodes' room`),
};

/** The placement rules. */
export const PLACEMENT_RULES: readonly ManifestRule[] = [onlyExecutorsInterruptible, selectsNodePool, systemNodesForSystemWorkloads];
