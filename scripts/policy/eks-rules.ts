/** Rules for the EKS control plane and its add-ons. */
import { SUPPORTED_EKS_VERSIONS } from '../../environments/schema';
import type { TerraformRule } from './rule';
import { isFalse, isTrue, single } from './terraform-references';

/** Control-plane logs every cluster must ship: requests, the audit trail and who authenticated. */
export const REQUIRED_CONTROL_PLANE_LOGS = ['api', 'audit', 'authenticator'] as const;

const clusterLabel = (block: Record<string, unknown>, address: string) => `cluster ${typeof block.name === 'string' ? block.name : address}`;

export const eksEndpoint: TerraformRule = {
  id: 'DL-EKS-001',
  severity: 'error',
  target: 'terraform',
  types: ['aws_eks_cluster'],
  description: 'The API endpoint is private where the environment requires it, and a public one is open only to listed networks, never 0.0.0.0/0.',
  hint: 'Set endpointPublicAccess: !cluster.privateEndpoint and publicAccessCidrs: cluster.publicAccessCidrs from the environment.',
  check: (cluster, { env }) => {
    const vpc = single(cluster.block.vpc_config) ?? {};
    const label = clusterLabel(cluster.block, cluster.address);
    // The provider's defaults: a public endpoint, open to 0.0.0.0/0.
    const isPublic = !isFalse(vpc.endpoint_public_access);
    if (env.cluster.privateEndpoint) {
      return [
        ...(isPublic ? [`${label} has a public API endpoint although environment '${env.name}' requires a private one`] : []),
        ...(isTrue(vpc.endpoint_private_access) ? [] : [`${label} has no private API endpoint although environment '${env.name}' requires one`]),
      ];
    }
    if (!isPublic) return [];
    const cidrs: unknown[] = Array.isArray(vpc.public_access_cidrs) ? vpc.public_access_cidrs : [];
    if (cidrs.length === 0) return [`${label} has a public API endpoint open to 0.0.0.0/0 (no public_access_cidrs)`];
    return cidrs.includes('0.0.0.0/0') ? [`${label} has a public API endpoint open to 0.0.0.0/0`] : [];
  },
};

export const eksSecretsEncryption: TerraformRule = {
  id: 'DL-EKS-002',
  severity: 'error',
  target: 'terraform',
  types: ['aws_eks_cluster'],
  description: 'Kubernetes secrets are envelope-encrypted with a KMS key.',
  hint: "Set encryptionConfig: { resources: ['secrets'], provider: { keyArn } } on the EksCluster.",
  check: (cluster) => {
    const config = single(cluster.block.encryption_config);
    const resources: unknown[] = Array.isArray(config?.resources) ? config.resources : [];
    const key = single(config?.provider)?.key_arn;
    return resources.includes('secrets') && typeof key === 'string' && key !== ''
      ? []
      : [`${clusterLabel(cluster.block, cluster.address)} does not encrypt secrets with a KMS key`];
  },
};

export const eksControlPlaneLogs: TerraformRule = {
  id: 'DL-EKS-003',
  severity: 'error',
  target: 'terraform',
  types: ['aws_eks_cluster'],
  description: `The control plane ships at least the ${REQUIRED_CONTROL_PLANE_LOGS.join(', ')} logs.`,
  hint: `Include ${REQUIRED_CONTROL_PLANE_LOGS.join(', ')} in enabledClusterLogTypes.`,
  check: (cluster) => {
    const enabled: unknown[] = Array.isArray(cluster.block.enabled_cluster_log_types) ? cluster.block.enabled_cluster_log_types : [];
    const missing = REQUIRED_CONTROL_PLANE_LOGS.filter((log) => !enabled.includes(log));
    return missing.length === 0 ? [] : [`${clusterLabel(cluster.block, cluster.address)} does not ship the control-plane logs ${missing.join(', ')}`];
  },
};

export const eksSupportedVersion: TerraformRule = {
  id: 'DL-EKS-004',
  severity: 'error',
  target: 'terraform',
  types: ['aws_eks_cluster'],
  description: `The cluster runs an EKS version whose add-ons and manifest schemas are pinned (${SUPPORTED_EKS_VERSIONS.join(', ')}).`,
  hint: 'Set cluster.kubernetesVersion in the environment to a version listed in SUPPORTED_EKS_VERSIONS.',
  check: (cluster) => {
    const version = cluster.block.version;
    return (SUPPORTED_EKS_VERSIONS as readonly unknown[]).includes(version)
      ? []
      : [`${clusterLabel(cluster.block, cluster.address)} runs version ${JSON.stringify(version ?? null)}, not one of ${SUPPORTED_EKS_VERSIONS.join(', ')}`];
  },
};

export const eksAddonPinned: TerraformRule = {
  id: 'DL-EKS-005',
  severity: 'error',
  target: 'terraform',
  types: ['aws_eks_addon'],
  description: 'Every EKS add-on is pinned to a version, so that an apply never upgrades it unreviewed.',
  hint: 'Set addonVersion from EKS_ADDON_VERSIONS in infra/versions.ts.',
  check: (addon) => {
    const version = addon.block.addon_version;
    return typeof version === 'string' && /^v?\d+\.\d+/.test(version)
      ? []
      : [`add-on ${addon.block.addon_name ?? addon.address} has no pinned addon_version (got ${JSON.stringify(version ?? null)})`];
  },
};

export const eksNoImplicitAdmin: TerraformRule = {
  id: 'DL-EKS-006',
  severity: 'error',
  target: 'terraform',
  types: ['aws_eks_cluster'],
  description: 'Nobody is cluster admin implicitly: the creator gets no admin permissions and access is by access entries.',
  hint: "Set accessConfig: { authenticationMode: 'API', bootstrapClusterCreatorAdminPermissions: false }.",
  check: (cluster) => {
    const access = single(cluster.block.access_config);
    return isFalse(access?.bootstrap_cluster_creator_admin_permissions)
      ? []
      : [`${clusterLabel(cluster.block, cluster.address)} makes whoever creates it cluster admin (bootstrap_cluster_creator_admin_permissions is not false)`];
  },
};

/** The EKS rules. */
export const EKS_RULES: readonly TerraformRule[] = [eksEndpoint, eksSecretsEncryption, eksControlPlaneLogs, eksSupportedVersion, eksAddonPinned, eksNoImplicitAdmin];
