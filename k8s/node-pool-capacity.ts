/**
 * Whether an environment's Karpenter NodePools can hold what is placed on them (k8s/placement.ts): their cpuLimit and
 * memoryLimitGiB cap the nodes Karpenter launches, and a pod beyond the cap stays Pending for good. The demand depends
 * on the pipelines (their drivers and executors, and where each pipeline's executors run), so this runs where both
 * environments and pipelines are loaded (`npm run synth`), not among the environment's own rules: environments/
 * reads neither pipelines/ nor k8s/.
 *
 * An executors pool that lists only 'on-demand' capacity is fine for executors asked to run on 'spot': they then
 * run on on-demand nodes of that pool, which is what its capacityTypes say, and are still counted against it.
 */
import { environmentFile } from '../environments/load';
import type { Problem } from '../environments/problem';
import { when, type Violation } from '../environments/rules';
import type { Environment } from '../environments/schema';
import type { Pipeline } from '../pipelines/schema';
import { nodePoolDemand, sparkSizing } from './sizing';

/** Where the NodePools fall short of what runs on them, each at the field to raise. */
export function nodePoolViolations(env: Environment, pipelines: readonly Pipeline[]): Violation[] {
  const demand = nodePoolDemand(env, pipelines);
  const pools = env.cluster.nodePools;
  const onSpot = pipelines.filter((pipeline) => sparkSizing(env, pipeline).executorCapacity === 'spot');
  const stableHolds = 'Kafka, HDFS, ZooKeeper, the Spark runtime, monitoring and every driver, with the executors on on-demand capacity, plus 25 % headroom for a rolling restart';
  const executorsHold = onSpot.length === 0 ? 'no executor runs on spot capacity' : `the executors on spot capacity of ${onSpot.map((p) => p.name).join(', ')}`;
  const check = (pool: 'stable' | 'executors', unit: 'cpuLimit' | 'memoryLimitGiB', needed: number, what: string) =>
    when(pools[pool][unit] < needed, {
      field: `cluster.nodePools.${pool}.${unit}`,
      value: pools[pool][unit],
      rule: `must be at least ${needed} (${unit === 'cpuLimit' ? 'vCPUs' : 'GiB'} requested by ${what}, from k8s/sizing.ts), or pods stay Pending`,
    });
  return [
    ...check('stable', 'cpuLimit', demand.stable.cpu, stableHolds),
    ...check('stable', 'memoryLimitGiB', demand.stable.memoryGiB, stableHolds),
    ...check('executors', 'cpuLimit', demand.executors.cpu, executorsHold),
    ...check('executors', 'memoryLimitGiB', demand.executors.memoryGiB, executorsHold),
  ];
}

/** The violations of every environment, as Problems located in its file. */
export function nodePoolCapacityProblems(environments: readonly Environment[], pipelines: readonly Pipeline[]): Problem[] {
  return environments.flatMap((env) =>
    nodePoolViolations(env, pipelines).map((v) => ({ subject: `environment '${env.name}'`, file: environmentFile(env.name), field: v.field, value: v.value, rule: v.rule })),
  );
}
