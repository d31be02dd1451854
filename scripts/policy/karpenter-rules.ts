/**
 * Rules for the nodes Karpenter launches: the EC2NodeClass holds the same guarantees as the managed nodes' launch
 * templates (DL-EC2-001/002: IMDSv2 with a hop limit of 1, encrypted volumes) and a pinned AMI; every NodePool is
 * bounded, launches from a node class the platform defines, and puts spot capacity only behind the taint that pods
 * must tolerate to accept being interrupted.
 */
import { INTERRUPTIBLE_TAINT } from '../../environments/naming';
import type { KubeObject, ManifestRule } from './rule';

const label = (object: KubeObject) => `${object.kind} ${object.metadata.name}`;

export const nodeClassImdsV2: ManifestRule = {
  id: 'DL-KARP-001',
  severity: 'error',
  target: 'manifest',
  kinds: ['EC2NodeClass'],
  description: "EC2NodeClasses require IMDSv2 with a hop limit of 1, so that pods cannot reach the node role's credentials.",
  hint: "Set metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1 }.",
  check: (nodeClass) => {
    const options = nodeClass['spec']?.metadataOptions;
    if (options?.httpEndpoint === 'disabled') return [];
    if (options?.httpTokens !== 'required') return [`${label(nodeClass)} allows IMDSv1 (metadataOptions.httpTokens is not 'required')`];
    const hops = options.httpPutResponseHopLimit;
    return hops === 1 ? [] : [`${label(nodeClass)} lets pods reach the instance metadata (hop limit ${hops ?? 'unset'}, not 1)`];
  },
};

export const nodeClassEncryptedVolumes: ManifestRule = {
  id: 'DL-KARP-002',
  severity: 'error',
  target: 'manifest',
  kinds: ['EC2NodeClass'],
  description: 'EC2NodeClasses declare their volumes, each EBS-encrypted.',
  hint: 'Give the EC2NodeClass blockDeviceMappings for the root volume with ebs.encrypted: true.',
  check: (nodeClass) => {
    const mappings: any[] = nodeClass['spec']?.blockDeviceMappings ?? [];
    if (mappings.length === 0) return [`${label(nodeClass)} declares no block device mapping, so the volumes follow the AMI family's defaults`];
    return mappings.filter((m) => m.ebs?.encrypted !== true).map((m) => `${label(nodeClass)} does not encrypt the volume ${m.deviceName ?? '(unnamed)'}`);
  },
};

export const nodeClassPinnedAmi: ManifestRule = {
  id: 'DL-KARP-003',
  severity: 'error',
  target: 'manifest',
  kinds: ['EC2NodeClass'],
  description: 'EC2NodeClasses select a pinned AMI (an alias with a version, or AMI IDs), never @latest, so nodes change only with a reviewed change.',
  hint: "Use the alias NODE_AMI_ALIAS of k8s/versions.ts (e.g. 'al2023@v20260520').",
  check: (nodeClass) => {
    const terms: any[] = nodeClass['spec']?.amiSelectorTerms ?? [];
    return terms.flatMap((term, index) => {
      if (typeof term.alias === 'string') return /@v\d+$/.test(term.alias) ? [] : [`${label(nodeClass)} selects the AMI alias ${term.alias}, which follows AWS's newest release`];
      if (typeof term.id === 'string') return [];
      return [`${label(nodeClass)} amiSelectorTerms[${index}] selects AMIs by name, owner or tags, which a new AMI can match`];
    });
  },
};

export const nodePoolLimits: ManifestRule = {
  id: 'DL-KARP-004',
  severity: 'error',
  target: 'manifest',
  kinds: ['NodePool'],
  description: 'Every NodePool limits its total CPU and memory, so that no burst of pending pods can launch nodes without bound.',
  hint: "Set spec.limits cpu and memory from the environment's cluster.nodePools.",
  check: (pool) => (['cpu', 'memory'] as const).filter((resource) => pool['spec']?.limits?.[resource] === undefined).map((resource) => `${label(pool)} sets no ${resource} limit`),
};

/** Whether a NodePool's requirements let Karpenter buy spot capacity (with no requirement it buys on-demand only). */
export function allowsSpot(pool: KubeObject): boolean {
  const requirements: any[] = pool['spec']?.template?.spec?.requirements ?? [];
  const capacity = requirements.filter((r) => r.key === 'karpenter.sh/capacity-type');
  if (capacity.length === 0) return false;
  // Requirements are ANDed: spot is possible only if every capacity-type requirement admits it.
  return capacity.every((r) => {
    const values: string[] = r.values ?? [];
    if (r.operator === 'In') return values.includes('spot');
    if (r.operator === 'NotIn') return !values.includes('spot');
    return r.operator === 'Exists';
  });
}

export const spotOnlyWhenInterruptible: ManifestRule = {
  id: 'DL-KARP-005',
  severity: 'error',
  target: 'manifest',
  kinds: ['NodePool'],
  description: `A NodePool that may launch spot instances carries the taint ${INTERRUPTIBLE_TAINT.key}=${INTERRUPTIBLE_TAINT.value}:${INTERRUPTIBLE_TAINT.effect}, so only pods that tolerate interruption land on them.`,
  hint: 'Add INTERRUPTIBLE_TAINT (environments/naming.ts) to spec.template.spec.taints, or limit karpenter.sh/capacity-type to on-demand.',
  check: (pool) => {
    if (!allowsSpot(pool)) return [];
    const taints: any[] = pool['spec']?.template?.spec?.taints ?? [];
    const tainted = taints.some((t) => t.key === INTERRUPTIBLE_TAINT.key && t.value === INTERRUPTIBLE_TAINT.value && t.effect === INTERRUPTIBLE_TAINT.effect);
    return tainted ? [] : [`${label(pool)} may launch spot instances but lacks the taint ${INTERRUPTIBLE_TAINT.key}=${INTERRUPTIBLE_TAINT.value}:${INTERRUPTIBLE_TAINT.effect}, so any pod may land on a node reclaimed at two minutes' notice`];
  },
};

export const nodePoolKnownClass: ManifestRule = {
  id: 'DL-KARP-006',
  severity: 'error',
  target: 'manifest',
  kinds: ['NodePool'],
  description: 'Every NodePool launches from an EC2NodeClass of the same environment, where the rules above check it.',
  hint: "Point spec.template.spec.nodeClassRef at the platform's EC2NodeClass (group karpenter.k8s.aws, kind EC2NodeClass).",
  check: (pool, { manifests }) => {
    const ref = pool['spec']?.template?.spec?.nodeClassRef;
    const known = manifests.some(({ object }) => object.kind === 'EC2NodeClass' && object.metadata.name === ref?.name);
    return ref?.group === 'karpenter.k8s.aws' && ref?.kind === 'EC2NodeClass' && known
      ? []
      : [`${label(pool)} launches from ${ref?.kind ?? 'no node class'} ${ref?.name ?? ''}, which is not an EC2NodeClass of this environment`.replace(/ +$/, '')];
  },
};

/** The Karpenter rules. */
export const KARPENTER_RULES: readonly ManifestRule[] = [nodeClassImdsV2, nodeClassEncryptedVolumes, nodeClassPinnedAmi, nodePoolLimits, spotOnlyWhenInterruptible, nodePoolKnownClass];
