/**
 * Rules for the containers this repository defines (see containers.ts): the `restricted` Pod Security Standard
 * and more — non-root, read-only root filesystem, no privilege escalation, no capabilities, seccomp, requests and
 * a memory limit, and images pinned to a tag or digest.
 */
import { definedContainers, effectiveSetting, WORKLOAD_KINDS, type DefinedContainer } from './containers';
import type { KubeObject, ManifestRule } from './rule';

/** A container rule: one message per container that breaks it. */
function containerRule(info: Omit<ManifestRule, 'target' | 'kinds' | 'check'>, broken: (container: DefinedContainer) => string | undefined): ManifestRule {
  return {
    ...info,
    target: 'manifest',
    kinds: WORKLOAD_KINDS,
    check: (object: KubeObject) => definedContainers(object).flatMap((container) => {
      const problem = broken(container);
      return problem === undefined ? [] : [`${container.where} ${problem}`];
    }),
  };
}

export const runsAsNonRoot = containerRule(
  {
    id: 'DL-K8S-001',
    severity: 'error',
    description: 'Every container runs as a non-root user (runAsNonRoot, and no runAsUser 0).',
    hint: 'Set securityContext.runAsNonRoot: true (pod or container) and a non-zero runAsUser.',
  },
  (c) => {
    if (effectiveSetting(c, 'runAsNonRoot') !== true) return 'may run as root (runAsNonRoot is not true)';
    return effectiveSetting(c, 'runAsUser') === 0 ? 'runs as root (runAsUser 0)' : undefined;
  },
);

export const readOnlyRootFilesystem = containerRule(
  {
    id: 'DL-K8S-002',
    severity: 'error',
    description: 'Every container has a read-only root filesystem.',
    hint: 'Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the program writes (e.g. /tmp).',
  },
  (c) => (c.securityContext?.readOnlyRootFilesystem === true ? undefined : 'has a writable root filesystem (readOnlyRootFilesystem is not true)'),
);

export const noPrivilegeEscalation = containerRule(
  {
    id: 'DL-K8S-003',
    severity: 'error',
    description: 'No container may gain privileges (allowPrivilegeEscalation false).',
    hint: 'Set securityContext.allowPrivilegeEscalation: false.',
  },
  (c) => (c.securityContext?.allowPrivilegeEscalation === false ? undefined : 'may escalate privileges (allowPrivilegeEscalation is not false)'),
);

/** The one capability the restricted Pod Security Standard lets a container add. */
const ALLOWED_CAPABILITIES = ['NET_BIND_SERVICE'];

export const capabilitiesDropped = containerRule(
  {
    id: 'DL-K8S-004',
    severity: 'error',
    description: 'Every container drops all Linux capabilities and adds none but NET_BIND_SERVICE.',
    hint: "Set securityContext.capabilities: { drop: ['ALL'] }.",
  },
  (c) => {
    const capabilities = c.securityContext?.capabilities ?? {};
    const drop: unknown[] = Array.isArray(capabilities.drop) ? capabilities.drop : [];
    const add: unknown[] = Array.isArray(capabilities.add) ? capabilities.add : [];
    const extra = add.filter((cap) => !ALLOWED_CAPABILITIES.includes(String(cap)));
    if (!drop.includes('ALL')) return "keeps the default Linux capabilities (capabilities.drop does not include 'ALL')";
    return extra.length > 0 ? `adds the capabilities ${extra.join(', ')}` : undefined;
  },
);

const isSet = (value: unknown) => (typeof value === 'string' && value.trim() !== '') || (typeof value === 'number' && value > 0);

export const resourcesSet = containerRule(
  {
    id: 'DL-K8S-005',
    severity: 'error',
    description: 'Every container requests CPU and memory and has a memory limit (Spark driver and executor: cores and memory).',
    hint: 'Set resources.requests.cpu, resources.requests.memory and resources.limits.memory (Spark: cores and memory).',
  },
  (c) => {
    if (c.resources.kind === 'spark') {
      const missing = [...(isSet(c.resources.cores) ? [] : ['cores']), ...(isSet(c.resources.memory) ? [] : ['memory'])];
      return missing.length === 0 ? undefined : `sets no ${missing.join(' or ')}, so it runs unbounded`;
    }
    const r = c.resources.resources ?? {};
    const missing = [
      ...(isSet(r.requests?.cpu) ? [] : ['requests.cpu']),
      ...(isSet(r.requests?.memory) ? [] : ['requests.memory']),
      ...(isSet(r.limits?.memory) ? [] : ['limits.memory']),
    ];
    return missing.length === 0 ? undefined : `sets no ${missing.join(', ')}`;
  },
);

/** Why an image reference is not pinned, or undefined: it must carry a tag other than `latest`, or a digest. */
export function imagePinProblem(image: unknown): string | undefined {
  if (typeof image !== 'string' || image.trim() === '') return 'names no image';
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  if (colon === -1) return `uses the image ${image} without a tag (that is 'latest')`;
  const tag = lastSegment.slice(colon + 1);
  return tag === '' || tag === 'latest' ? `uses the image ${image} with the moving tag 'latest'` : undefined;
}

export const imagePinned = containerRule(
  {
    id: 'DL-K8S-006',
    severity: 'error',
    description: "Every image is pinned to a tag other than 'latest', or to a digest.",
    hint: 'Reference images with an exact version tag (from k8s/versions.ts) or a sha256 digest.',
  },
  (c) => imagePinProblem(c.image),
);

export const noPrivileged = containerRule(
  {
    id: 'DL-K8S-009',
    severity: 'error',
    description: 'No container is privileged.',
    hint: 'Remove securityContext.privileged; grant the one capability needed instead, or run it in an operator-owned namespace.',
  },
  (c) => (c.securityContext?.privileged === true ? 'is privileged' : undefined),
);

export const seccompProfile = containerRule(
  {
    id: 'DL-K8S-010',
    severity: 'error',
    description: 'Every container runs with a seccomp profile (RuntimeDefault or Localhost).',
    hint: "Set securityContext.seccompProfile: { type: 'RuntimeDefault' } on the pod or the container.",
  },
  (c) => {
    const type = (effectiveSetting(c, 'seccompProfile') as { type?: unknown } | undefined)?.type;
    return type === 'RuntimeDefault' || type === 'Localhost' ? undefined : `runs without a seccomp profile (type ${JSON.stringify(type ?? null)})`;
  },
);

/** The container rules. */
export const CONTAINER_RULES: readonly ManifestRule[] = [runsAsNonRoot, readOnlyRootFilesystem, noPrivilegeEscalation, capabilitiesDropped, resourcesSet, imagePinned, noPrivileged, seccompProfile];
