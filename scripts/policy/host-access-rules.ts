/** Rules that keep the pods this repository defines away from the node: no hostPath volumes, no host namespaces. */
import { definedPods, WORKLOAD_KINDS } from './containers';
import type { ManifestRule } from './rule';

export const noHostPath: ManifestRule = {
  id: 'DL-K8S-007',
  severity: 'error',
  target: 'manifest',
  kinds: WORKLOAD_KINDS,
  description: 'No pod mounts a hostPath volume.',
  hint: 'Use an emptyDir, a ConfigMap or Secret volume, or a PersistentVolumeClaim instead.',
  check: (object) =>
    definedPods(object).flatMap((pod) =>
      pod.volumes.filter((v) => v.hostPath !== undefined).map((v) => `${pod.where} mounts the host path ${v.hostPath?.path ?? '?'} as volume ${v.name ?? '(unnamed)'}`),
    ),
};

export const noHostNamespaces: ManifestRule = {
  id: 'DL-K8S-008',
  severity: 'error',
  target: 'manifest',
  kinds: WORKLOAD_KINDS,
  description: "No pod shares the node's network, process or IPC namespace.",
  hint: 'Remove hostNetwork, hostPID and hostIPC; expose ports through a Service.',
  check: (object) =>
    definedPods(object).flatMap((pod) =>
      (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((field) => pod[field] === true).map((field) => `${pod.where} sets ${field}: true`),
    ),
};

/** The host access rules. */
export const HOST_ACCESS_RULES: readonly ManifestRule[] = [noHostPath, noHostNamespaces];
