/**
 * Which Karpenter NodePool a pod runs on. The managed node groups are tainted for the system workloads alone, so
 * every pod of the platform must ask for a pool: the stable one (on-demand, never consolidated while in use) unless
 * it is a Spark executor that may lose its node, which alone tolerates the interruptible nodes' taint.
 */
import { INTERRUPTIBLE_TAINT, NODE_POOL_LABEL, NODE_POOLS } from '../environments/naming';
import type { Environment } from '../environments/schema';

/** A NodePool by its key in NODE_POOLS. */
export type NodePoolKey = keyof typeof NODE_POOLS;

/** The nodeSelector of a pod that must run on the pool. */
export const nodeSelectorFor = (pool: NodePoolKey): Record<string, string> => ({ [NODE_POOL_LABEL]: NODE_POOLS[pool] });

/**
 * The same as a required node affinity, for pod templates without a nodeSelector field (Strimzi's).
 * Karpenter reads both alike when it picks the pool that launches a node.
 */
export const nodeAffinityFor = (pool: NodePoolKey) => ({
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchExpressions: [{ key: NODE_POOL_LABEL, operator: 'In', values: [NODE_POOLS[pool]] }] }],
    },
  },
});

/** The toleration of the interruptible nodes' taint: for Spark executors on spot capacity only. */
export const INTERRUPTIBLE_TOLERATION = {
  key: INTERRUPTIBLE_TAINT.key,
  operator: 'Equal',
  value: INTERRUPTIBLE_TAINT.value,
  effect: INTERRUPTIBLE_TAINT.effect,
} as const;

/** A toleration of every taint: for DaemonSets that must run on every node, whatever taints it carries. */
export const TOLERATE_EVERY_TAINT = { operator: 'Exists' } as const;

/** Where a Spark executor runs at this capacity: interruptible capacity on the executors pool, else the stable pool. */
export function executorPlacement(capacity: Environment['spark']['executorCapacity']): {
  readonly nodeSelector: Record<string, string>;
  readonly tolerations?: ReadonlyArray<typeof INTERRUPTIBLE_TOLERATION>;
} {
  return capacity === 'spot' ? { nodeSelector: nodeSelectorFor('executors'), tolerations: [INTERRUPTIBLE_TOLERATION] } : { nodeSelector: nodeSelectorFor('stable') };
}
