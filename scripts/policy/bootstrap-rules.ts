/**
 * Rules for what the bootstrap stack installs into the cluster through Terraform: Helm releases at pinned
 * chart versions, and namespaces labelled for Pod Security like the rendered ones.
 */
import type { TerraformRule } from './rule';
import { single } from './terraform-references';

/** An exact chart version: no ranges, no `latest`. */
const EXACT_VERSION = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

export const helmChartPinned: TerraformRule = {
  id: 'DL-HELM-001',
  severity: 'error',
  target: 'terraform',
  types: ['helm_release'],
  description: 'Every Helm release installs an exact chart version.',
  hint: 'Set version from infra/versions.ts to an exact release such as 10.4.0.',
  check: (release) =>
    typeof release.block.version === 'string' && EXACT_VERSION.test(release.block.version)
      ? []
      : [`helm release ${release.block.name ?? release.address} installs chart ${release.block.chart ?? '?'} at ${JSON.stringify(release.block.version ?? null)}, not an exact version`],
};

const POD_SECURITY_LEVELS = ['restricted', 'baseline', 'privileged'];

export const terraformNamespacePodSecurity: TerraformRule = {
  id: 'DL-NS-004',
  severity: 'error',
  target: 'terraform',
  types: ['kubernetes_namespace_v1', 'kubernetes_namespace'],
  description: "A namespace that Terraform creates enforces the 'restricted' Pod Security Standard.",
  hint: "Label it pod-security.kubernetes.io/enforce: 'restricted' (or suppress DL-NS-004 with why its pods cannot be restricted).",
  check: (namespace) => {
    const metadata = single(namespace.block.metadata) ?? {};
    const level = (metadata.labels ?? {})['pod-security.kubernetes.io/enforce'];
    const label = `namespace ${metadata.name ?? namespace.address}`;
    if (!POD_SECURITY_LEVELS.includes(level)) return [`${label} enforces no Pod Security level (label pod-security.kubernetes.io/enforce is ${JSON.stringify(level ?? null)})`];
    return level === 'restricted' ? [] : [`${label} enforces Pod Security '${level}', not 'restricted'`];
  },
};

/** The rules for the bootstrap stack's Kubernetes resources. */
export const BOOTSTRAP_RULES: readonly TerraformRule[] = [helmChartPinned, terraformNamespacePodSecurity];
