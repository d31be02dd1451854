/**
 * Rules for namespaces: each enforces a Pod Security level (restricted unless a suppression says why not) and
 * starts from a NetworkPolicy that denies all traffic in both directions.
 */
import type { KubeObject, ManifestRule } from './rule';

const POD_SECURITY_LEVELS = ['restricted', 'baseline', 'privileged'];
const ENFORCE = 'pod-security.kubernetes.io/enforce';

export const podSecurityLabelled: ManifestRule = {
  id: 'DL-NS-001',
  severity: 'error',
  target: 'manifest',
  kinds: ['Namespace'],
  description: 'Every namespace enforces a Pod Security level, and audits and warns at restricted.',
  hint: `Label the namespace ${ENFORCE}, pod-security.kubernetes.io/audit and pod-security.kubernetes.io/warn (PlatformChart does).`,
  check: (namespace) => {
    const labels = namespace.metadata.labels ?? {};
    const level = labels[ENFORCE];
    return [
      ...(POD_SECURITY_LEVELS.includes(level ?? '') ? [] : [`namespace ${namespace.metadata.name} enforces no Pod Security level (${ENFORCE} is ${JSON.stringify(level ?? null)})`]),
      ...(['audit', 'warn'] as const)
        .filter((mode) => labels[`pod-security.kubernetes.io/${mode}`] !== 'restricted')
        .map((mode) => `namespace ${namespace.metadata.name} does not ${mode} at restricted, so departures from it go unseen`),
    ];
  },
};

export const podSecurityRestricted: ManifestRule = {
  id: 'DL-NS-002',
  severity: 'error',
  target: 'manifest',
  kinds: ['Namespace'],
  description: "Every namespace enforces the 'restricted' Pod Security Standard unless a suppression gives the reason.",
  hint: "Make the namespace's pods meet restricted, or suppress DL-NS-002 next to the namespace with why they cannot.",
  check: (namespace) => {
    const level = namespace.metadata.labels?.[ENFORCE];
    return level === undefined || level === 'restricted' ? [] : [`namespace ${namespace.metadata.name} enforces Pod Security '${level}', not 'restricted'`];
  },
};

const isEmptySelector = (selector: unknown) =>
  selector !== null &&
  typeof selector === 'object' &&
  Object.values(selector as Record<string, unknown>).every((v) => v === undefined || (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && v !== null && Object.keys(v).length === 0));

/** Whether a NetworkPolicy selects every pod of its namespace and allows nothing in either direction. */
export function isDefaultDeny(policy: KubeObject): boolean {
  const spec = policy.spec ?? {};
  const types: unknown[] = Array.isArray(spec.policyTypes) ? spec.policyTypes : [];
  const empty = (rules: unknown) => rules === undefined || (Array.isArray(rules) && rules.length === 0);
  return isEmptySelector(spec.podSelector) && types.includes('Ingress') && types.includes('Egress') && empty(spec.ingress) && empty(spec.egress);
}

export const defaultDeny: ManifestRule = {
  id: 'DL-NS-003',
  severity: 'error',
  target: 'manifest',
  kinds: ['Namespace'],
  description: 'Every namespace has a NetworkPolicy that selects all its pods and denies all ingress and egress, so only flows allowed on purpose exist.',
  hint: "Add a NetworkPolicy in the namespace with podSelector {}, policyTypes ['Ingress', 'Egress'] and no rules (PlatformChart's default-deny).",
  check: (namespace, { manifests }) => {
    const covered = manifests.some(
      ({ object }) => object.kind === 'NetworkPolicy' && object.metadata.namespace === namespace.metadata.name && isDefaultDeny(object),
    );
    return covered ? [] : [`namespace ${namespace.metadata.name} has no default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)`];
  },
};

/** The namespace rules. */
export const NAMESPACE_RULES: readonly ManifestRule[] = [podSecurityLabelled, podSecurityRestricted, defaultDeny];
