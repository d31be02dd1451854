/**
 * How big every platform pod is, derived from the environment: the component charts set these as
 * requests and limits, and the platform chart sums them into each namespace's ResourceQuota, so the
 * two can never disagree.
 */
import type { Environment } from '../environments/schema';
import type { Pipeline } from '../pipelines/schema';

/** One kind of pod: its count and what each replica requests. */
export interface PodGroup {
  readonly replicas: number;
  readonly cpu: number;
  readonly memoryGiB: number;
  /** Persistent storage per replica. */
  readonly storageGiB: number;
}

/** KRaft controllers are light; a fixed size keeps the environment files about what varies. */
const CONTROLLER = { cpu: 1, memoryGiB: 2 };

/** The Kafka namespace: brokers, dedicated controllers, entity operator, Kafka Exporter and the Strimzi operator. */
export function kafkaPods(env: Environment): Record<'brokers' | 'controllers' | 'entityOperator' | 'kafkaExporter' | 'operator', PodGroup> {
  return {
    brokers: { replicas: env.kafka.brokers, cpu: env.kafka.brokerCpus, memoryGiB: env.kafka.brokerMemoryGiB, storageGiB: env.kafka.brokerStorageGiB },
    controllers: { replicas: env.kafka.controllers, ...CONTROLLER, storageGiB: env.kafka.controllerStorageGiB },
    entityOperator: { replicas: 1, cpu: 0.5, memoryGiB: 1, storageGiB: 0 },
    kafkaExporter: { replicas: 1, cpu: 0.2, memoryGiB: 0.25, storageGiB: 0 },
    operator: { replicas: 1, cpu: 0.5, memoryGiB: 0.5, storageGiB: 0 },
  };
}

/** The HDFS namespace: namenodes, journalnodes, datanodes and the ZooKeeper ensemble they coordinate through. */
export function hdfsPods(env: Environment): Record<'namenodes' | 'journalnodes' | 'datanodes' | 'zookeeper', PodGroup> {
  return {
    namenodes: { replicas: env.hdfs.namenodes, cpu: 1, memoryGiB: 4, storageGiB: env.hdfs.namenodeStorageGiB },
    journalnodes: { replicas: env.hdfs.journalnodes, cpu: 0.5, memoryGiB: 1, storageGiB: 5 },
    datanodes: { replicas: env.hdfs.datanodes, cpu: env.hdfs.datanodeCpus, memoryGiB: env.hdfs.datanodeMemoryGiB, storageGiB: env.hdfs.datanodeStorageGiB },
    // An odd ensemble: one outside HA, three with it.
    zookeeper: { replicas: env.hdfs.namenodes > 1 ? 3 : 1, cpu: 0.5, memoryGiB: 1, storageGiB: 5 },
  };
}

/** The namespace-wide totals of some pod groups, with headroom for a rolling restart and one-off jobs. */
export function totals(groups: readonly PodGroup[], headroom = 1.25): { cpu: number; memoryGiB: number; storageGiB: number; pods: number } {
  const sum = (f: (g: PodGroup) => number) => groups.reduce((acc, g) => acc + g.replicas * f(g), 0);
  return {
    cpu: Math.ceil(sum((g) => g.cpu) * headroom),
    memoryGiB: Math.ceil(sum((g) => g.memoryGiB) * headroom),
    storageGiB: Math.ceil(sum((g) => g.storageGiB) * headroom),
    pods: Math.ceil(sum(() => 1) * headroom) + 2,
  };
}

/** Kubernetes quantity for a number of GiB; fractions become MiB so that YAML stays exact. */
export const gibibytes = (value: number): string => (Number.isInteger(value) ? `${value}Gi` : `${Math.round(value * 1024)}Mi`);

/** Kubernetes quantity for a number of CPUs; fractions become millicores. */
export const cpus = (value: number): string => (Number.isInteger(value) ? String(value) : `${Math.round(value * 1000)}m`);

/** A pipeline's Spark sizing in an environment: the environment's defaults, with what the pipeline spec sets for it. */
export function sparkSizing(env: Environment, pipeline: Pipeline): Environment['spark'] {
  return { ...env.spark, ...pipeline.spark?.[env.name] };
}

/** Partitions of each of a pipeline's topics in an environment: what the spec sets for it, else the environment's. */
export function topicPartitions(env: Environment, pipeline: Pipeline): number {
  return pipeline.topics?.partitions[env.name] ?? env.kafka.topicPartitions;
}

/** One pipeline's Spark pods at a sizing: its driver and its executors. */
export function sparkPods(size: Environment['spark']): Record<'driver' | 'executors', PodGroup> {
  // Spark adds a memory overhead of 10 % (at least 384 MiB) to every JVM it starts.
  const withOverhead = (mib: number) => (mib + Math.max(384, mib * 0.1)) / 1024;
  return {
    driver: { replicas: 1, cpu: size.driverCores, memoryGiB: withOverhead(size.driverMemoryMiB), storageGiB: 0 },
    executors: { replicas: size.executorInstances, cpu: size.executorCores, memoryGiB: withOverhead(size.executorMemoryMiB), storageGiB: 0 },
  };
}

/** The pipelines namespace: the Spark driver and the executors of every pipeline, at its sizing for the environment. */
export function pipelinePods(env: Environment, pipelines: readonly Pipeline[]): PodGroup[] {
  return pipelines.flatMap((pipeline) => {
    const pods = sparkPods(sparkSizing(env, pipeline));
    return [pods.driver, pods.executors];
  });
}

/** The Spark runtime namespace: the spark-operator (controller and webhook) and the History Server. */
export function sparkRuntimePods(): Record<'operator' | 'historyServer', PodGroup> {
  return {
    operator: { replicas: 2, cpu: 0.5, memoryGiB: 0.5, storageGiB: 0 },
    historyServer: { replicas: 1, cpu: 0.5, memoryGiB: 2, storageGiB: 0 },
  };
}

/** The monitoring namespace: Prometheus, Alertmanager, Grafana, kube-state-metrics and the operator. */
export function monitoringPods(env: Environment): Record<'prometheus' | 'alertmanager' | 'grafana' | 'supporting', PodGroup> {
  return {
    prometheus: { replicas: 1, cpu: 1, memoryGiB: 4, storageGiB: env.monitoring.prometheusStorageGiB },
    alertmanager: { replicas: 1, cpu: 0.1, memoryGiB: 0.25, storageGiB: 1 },
    grafana: { replicas: 1, cpu: 0.25, memoryGiB: 0.5, storageGiB: 0 },
    supporting: { replicas: 2, cpu: 0.2, memoryGiB: 0.25, storageGiB: 0 },
  };
}

/**
 * The Karpenter namespace: the controller, one replica per system node at most (the chart requires replicas on
 * different nodes), two for a leader and a standby. 1 CPU and 1 GiB is what Karpenter's getting-started guide gives it.
 */
export function karpenterPods(env: Environment): Record<'controller', PodGroup> {
  const systemNodes = env.cluster.nodeGroups.reduce((sum, group) => sum + group.desiredSize, 0);
  return { controller: { replicas: Math.min(2, Math.max(1, systemNodes)), cpu: 1, memoryGiB: 1, storageGiB: 0 } };
}

/**
 * What each Karpenter NodePool must hold at once: the pod groups it runs, and their totals. The stable pool runs the
 * sized platform (Kafka, HDFS and ZooKeeper, the Spark runtime, monitoring, the Strimzi operator), every driver and
 * the executors on on-demand capacity, with `totals`' headroom for a rolling restart; the executors pool runs the
 * executors on spot capacity, without headroom (a lost executor is replaced, not doubled). Not counted: the charts
 * left at their own requests (External Secrets, the Stackable operators), DaemonSets and what each node reserves for
 * itself, which the headroom and the pool's instance sizes have to absorb.
 */
export function nodePoolDemand(env: Environment, pipelines: readonly Pipeline[]): Record<'stable' | 'executors', { readonly groups: readonly PodGroup[]; readonly cpu: number; readonly memoryGiB: number }> {
  const spark = pipelines.map((pipeline) => ({ size: sparkSizing(env, pipeline), pods: sparkPods(sparkSizing(env, pipeline)) }));
  const stable = [
    ...Object.values(kafkaPods(env)),
    ...Object.values(hdfsPods(env)),
    ...Object.values(sparkRuntimePods()),
    ...Object.values(monitoringPods(env)),
    ...spark.flatMap(({ size, pods }) => (size.executorCapacity === 'spot' ? [pods.driver] : [pods.driver, pods.executors])),
  ];
  const executors = spark.flatMap(({ size, pods }) => (size.executorCapacity === 'spot' ? [pods.executors] : []));
  const sum = (groups: readonly PodGroup[], headroom: number) => {
    const { cpu, memoryGiB } = totals(groups, headroom);
    return { groups, cpu, memoryGiB };
  };
  return { stable: sum(stable, 1.25), executors: sum(executors, 1) };
}
