/**
 * The pods and containers that this repository defines in its manifests: workloads (Deployments, StatefulSets,
 * DaemonSets, Jobs, CronJobs, Pods) and Spark applications (driver and executor, scheduled or not), with their
 * init and sidecar containers. Pods that operators create from custom resources (Kafka, HDFS, ...) are the
 * operators' and are not listed here.
 */
import type { KubeObject } from './rule';

type Fields = Readonly<Record<string, any>>;

/** How a container asks for CPU and memory: Kubernetes resources, or Spark's cores and memory (the operator turns them into both). */
export type ContainerResources =
  | { readonly kind: 'kubernetes'; readonly resources: Fields | undefined }
  | { readonly kind: 'spark'; readonly cores: unknown; readonly memory: unknown };

/** One container, with the pod-level settings that apply to it. */
export interface DefinedContainer {
  /** Where it is, for messages: `container history-server`, `driver`, `executor init container fetch`. */
  readonly where: string;
  readonly image: unknown;
  readonly securityContext: Fields | undefined;
  readonly podSecurityContext: Fields | undefined;
  readonly resources: ContainerResources;
}

/** One pod template, with what can reach the host. */
export interface DefinedPod {
  /** `pod template`, `driver`, `executor`. */
  readonly where: string;
  readonly hostNetwork: unknown;
  readonly hostPID: unknown;
  readonly hostIPC: unknown;
  readonly volumes: readonly Fields[];
}

/** Kinds whose pod template this repository writes. */
export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod', 'SparkApplication', 'ScheduledSparkApplication'] as const;

/** Where a workload kind keeps its pod template (metadata and spec): a path into the object; a Pod is its own. */
const TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** The pod template of a Kubernetes workload and the path to it, or undefined for other kinds. */
export function podTemplate(object: KubeObject): { readonly path: readonly string[]; readonly metadata: Fields | undefined; readonly spec: Fields | undefined } | undefined {
  const path = TEMPLATE_PATHS[object.kind];
  if (path === undefined) return undefined;
  const template = path.reduce<Fields | undefined>((value, key) => value?.[key], object);
  return { path, metadata: template?.metadata, spec: template?.spec };
}

/** The pod spec of a Kubernetes workload, or undefined for other kinds. */
function podSpec(object: KubeObject): Fields | undefined {
  return podTemplate(object)?.spec;
}

/** The SparkApplication spec of a Spark application (a ScheduledSparkApplication's template). */
export function sparkSpec(object: KubeObject): Fields | undefined {
  if (object.kind === 'SparkApplication') return object.spec;
  if (object.kind === 'ScheduledSparkApplication') return object.spec?.template;
  return undefined;
}

const list = (value: unknown): Fields[] => (Array.isArray(value) ? value.filter((v) => v !== null && typeof v === 'object') : []);

/** Every container the object defines, with the pod-level settings that apply to it. */
export function definedContainers(object: KubeObject): DefinedContainer[] {
  const pod = podSpec(object);
  if (pod !== undefined) {
    const container = (kind: string) => (c: Fields): DefinedContainer => ({
      where: `${kind} ${c.name ?? '(unnamed)'}`,
      image: c.image,
      securityContext: c.securityContext,
      podSecurityContext: pod.securityContext,
      resources: { kind: 'kubernetes', resources: c.resources },
    });
    return [...list(pod.containers).map(container('container')), ...list(pod.initContainers).map(container('init container'))];
  }
  const spark = sparkSpec(object);
  if (spark === undefined) return [];
  return (['driver', 'executor'] as const).flatMap((role) => {
    const side: Fields = spark[role] ?? {};
    const extra = (kind: string) => (c: Fields): DefinedContainer => ({
      where: `${role} ${kind} ${c.name ?? '(unnamed)'}`,
      image: c.image,
      securityContext: c.securityContext,
      podSecurityContext: side.podSecurityContext,
      resources: { kind: 'kubernetes', resources: c.resources },
    });
    return [
      {
        where: role,
        image: side.image ?? spark.image,
        securityContext: side.securityContext,
        podSecurityContext: side.podSecurityContext,
        resources: { kind: 'spark', cores: side.cores, memory: side.memory },
      },
      ...list(side.initContainers).map(extra('init container')),
      ...list(side.sidecars).map(extra('sidecar')),
    ];
  });
}

/** Every pod template the object defines. */
export function definedPods(object: KubeObject): DefinedPod[] {
  const pod = podSpec(object);
  if (pod !== undefined) return [{ where: 'pod template', hostNetwork: pod.hostNetwork, hostPID: pod.hostPID, hostIPC: pod.hostIPC, volumes: list(pod.volumes) }];
  const spark = sparkSpec(object);
  if (spark === undefined) return [];
  // Spark's volumes are declared once for the application and mounted by driver and executor.
  return (['driver', 'executor'] as const).map((role) => {
    const side: Fields = spark[role] ?? {};
    return { where: role, hostNetwork: side.hostNetwork, hostPID: side.hostPID, hostIPC: side.hostIPC, volumes: list(spark.volumes) };
  });
}

/** A container setting, taken from the container's securityContext, else from the pod's. */
export function effectiveSetting(container: DefinedContainer, key: string): unknown {
  return container.securityContext?.[key] ?? container.podSecurityContext?.[key];
}
