/**
 * What of a stack the AWS API emulator can take. moto implements most of the APIs the stacks call, not all: the
 * resource types below are left out of the configuration applied to it, with every resource that refers to one of
 * them (it could not be created without it), and the list of what was left out is printed by every command that
 * uses the emulator. Everything else is applied exactly as synthesized.
 */

/** Resource types the emulator cannot create, each with the reason. */
export const EMULATOR_LEFT_OUT: Readonly<Record<string, string>> = {
  aws_eks_addon: 'moto has no EKS add-on API (CreateAddon, DescribeAddon)',
  aws_eks_access_entry: 'moto has no EKS access-entry API (CreateAccessEntry)',
  aws_eks_access_policy_association: 'moto has no EKS access-policy API (AssociateAccessPolicy)',
  aws_eks_pod_identity_association: 'moto has no EKS Pod Identity API (CreatePodIdentityAssociation)',
  // The cluster security group that Karpenter's discovery tag goes on is EKS's own, and moto's EKS creates none.
  aws_ec2_tag: 'moto\'s EKS creates no cluster security group (no clusterSecurityGroupId), so there is nothing to tag',
  // Ignoring these would leave little of the node group to compare.
  aws_eks_node_group: 'moto invents an SSH key pair and Kubernetes 1.19 for a node group and drops its update configuration, so every plan would replace it',
  // moto evaluates a bucket policy without its conditions: the TLS-only deny (aws:SecureTransport false) then denies
  // every object request, and the provider cannot read the object back.
  aws_s3_object: 'moto applies the TLS-only bucket policy\'s deny without its condition, refusing every object request',
  aws_s3_bucket_logging: 'moto fails PutBucketLogging (HTTP 500) when the target bucket\'s policy has a statement with Principal "*"',
};

/**
 * Attributes the emulator does not keep, per resource type, each with the reason. They are not compared on the
 * emulator (`lifecycle.ignore_changes` in its copy of the configuration, nowhere else): the emulator would report
 * them changed after every apply, a diff that AWS does not have.
 */
export const EMULATOR_UNKEPT: Readonly<Record<string, { readonly attributes: readonly string[]; readonly reason: string }>> = {
  aws_s3_bucket: { attributes: ['tags_all'], reason: 'moto ignores the tags that CreateBucket carries' },
  aws_launch_template: {
    attributes: ['tag_specifications'],
    reason: 'moto copies a launch template\'s own tags into its data as a tag specification of resource type launch-template',
  },
  aws_eks_cluster: {
    attributes: ['access_config', 'kubernetes_network_config', 'tags', 'vpc_config[0].security_group_ids'],
    reason: 'moto keeps neither the access configuration nor the network configuration of a cluster, and answers an empty list and map for unset security groups and tags',
  },
};

/** Providers whose every resource needs a Kubernetes API server, which the machines do not have. */
export const KUBERNETES_PROVIDERS = ['helm', 'kubernetes'] as const;

/** Why a resource type is left out, or undefined when the emulator takes it. */
export function leftOutBecause(type: string): string | undefined {
  if (KUBERNETES_PROVIDERS.some((provider) => type.startsWith(`${provider}_`))) return 'needs a Kubernetes API server, which does not run here';
  return EMULATOR_LEFT_OUT[type];
}

/** One resource left out of the emulator's configuration. */
export interface LeftOut {
  readonly address: string;
  readonly reason: string;
}

interface StackJson {
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  output?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

/**
 * The stack's configuration without the resources the emulator cannot create and those that refer to them
 * (by an expression, transitively); `depends_on` entries naming a left-out resource are dropped, since they only
 * order. Outputs that refer to a left-out resource go too. The input is not changed.
 */
export function emulatorConfiguration(stack: unknown): { readonly json: unknown; readonly leftOut: readonly LeftOut[] } {
  const json = structuredClone(stack) as StackJson;
  const leftOut = new Map<string, string>();
  for (const [type, byName] of Object.entries(json.resource ?? {})) {
    const reason = leftOutBecause(type);
    if (reason !== undefined) for (const name of Object.keys(byName)) leftOut.set(`${type}.${name}`, reason);
  }
  // Follow references until nothing more goes: a resource that reads a left-out one cannot be created either.
  for (let changed = true; changed; ) {
    changed = false;
    for (const [type, byName] of Object.entries(json.resource ?? {})) {
      for (const [name, block] of Object.entries(byName)) {
        const address = `${type}.${name}`;
        if (leftOut.has(address)) continue;
        const { depends_on: _order, ...rest } = block;
        const needed = referencedAddresses(rest).find((reference) => leftOut.has(reference));
        if (needed !== undefined) {
          leftOut.set(address, `refers to ${needed}, which is left out`);
          changed = true;
        }
      }
    }
  }
  for (const [type, byName] of Object.entries(json.resource ?? {})) {
    for (const [name, block] of Object.entries(byName)) {
      if (leftOut.has(`${type}.${name}`)) delete byName[name];
      else if (Array.isArray(block['depends_on'])) {
        const kept = (block['depends_on'] as unknown[]).filter((entry) => !(typeof entry === 'string' && leftOut.has(entry)));
        if (kept.length > 0) block['depends_on'] = kept;
        else delete block['depends_on'];
      }
    }
    if (Object.keys(byName).length === 0) delete json.resource![type];
    const unkept = EMULATOR_UNKEPT[type];
    if (unkept !== undefined) {
      for (const block of Object.values(byName)) {
        const lifecycle = (block['lifecycle'] ?? {}) as { ignore_changes?: unknown };
        const ignored = Array.isArray(lifecycle.ignore_changes) ? (lifecycle.ignore_changes as string[]) : [];
        block['lifecycle'] = { ...lifecycle, ignore_changes: [...new Set([...ignored, ...unkept.attributes])] };
      }
    }
  }
  for (const [name, output] of Object.entries(json.output ?? {})) {
    if (referencedAddresses(output).some((reference) => leftOut.has(reference))) delete json.output![name];
  }
  // Terraform's JSON syntax refuses an empty block of blocks.
  if (json.resource !== undefined && Object.keys(json.resource).length === 0) delete json.resource;
  if (json.output !== undefined && Object.keys(json.output).length === 0) delete json.output;
  return {
    json,
    leftOut: [...leftOut].map(([address, reason]) => ({ address, reason })).sort((a, b) => a.address.localeCompare(b.address)),
  };
}

/** Resource addresses (`type.name`) that the expressions in a value refer to; `data.` references are not resources. */
export function referencedAddresses(value: unknown): string[] {
  const found = new Set<string>();
  const visit = (node: unknown): void => {
    if (typeof node === 'string') {
      for (const expression of interpolations(node)) {
        for (const match of expression.matchAll(/(?<![\w.])([a-z][a-z0-9]*_[a-z0-9_]+)\.([A-Za-z0-9_-]+)/g)) found.add(`${match[1]}.${match[2]}`);
      }
    } else if (Array.isArray(node)) node.forEach(visit);
    else if (typeof node === 'object' && node !== null) Object.values(node).forEach(visit);
  };
  visit(value);
  return [...found];
}

/** The insides of the `${...}` interpolations of a string, braces inside them balanced (`${jsonencode({a = x.y})}`). */
function interpolations(text: string): string[] {
  const found: string[] = [];
  for (let start = text.indexOf('${'); start !== -1; start = text.indexOf('${', start + 2)) {
    let depth = 0;
    for (let at = start + 1; at < text.length; at++) {
      if (text[at] === '{') depth++;
      else if (text[at] === '}' && --depth === 0) {
        found.push(text.slice(start + 2, at));
        start = at - 1;
        break;
      }
    }
  }
  return found;
}
