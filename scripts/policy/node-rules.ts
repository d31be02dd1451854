/** Rules for the EC2 nodes of the cluster: launch templates and the node groups that use them. */
import type { TerraformRule } from './rule';
import { every, isTrue, resolve, single } from './terraform-references';

export const imdsV2: TerraformRule = {
  id: 'DL-EC2-001',
  severity: 'error',
  target: 'terraform',
  types: ['aws_launch_template'],
  description: 'Launch templates require IMDSv2 with a hop limit of 1, so that pods cannot reach the node credentials.',
  hint: "Set metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1 }.",
  check: (template) => {
    const options = single(template.block.metadata_options);
    if (options?.http_endpoint === 'disabled') return [];
    if (options?.http_tokens !== 'required') return [`launch template ${template.block.name ?? template.address} allows IMDSv1 (http_tokens is not 'required')`];
    const hops = Number(options.http_put_response_hop_limit ?? 1);
    return hops > 1 ? [`launch template ${template.block.name ?? template.address} lets pods reach the instance metadata (hop limit ${hops}, not 1)`] : [];
  },
};

export const encryptedVolumes: TerraformRule = {
  id: 'DL-EC2-002',
  severity: 'error',
  target: 'terraform',
  types: ['aws_launch_template'],
  description: 'Launch templates declare their volumes, each EBS-encrypted.',
  hint: "Give the launch template a block device mapping for the root volume with ebs.encrypted 'true'.",
  check: (template) => {
    const mappings = every(template.block.block_device_mappings);
    const label = `launch template ${template.block.name ?? template.address}`;
    if (mappings.length === 0) return [`${label} declares no block device mapping, so the root volume follows the AMI and may be unencrypted`];
    return mappings
      .filter((mapping) => single(mapping.ebs) !== undefined && !isTrue(single(mapping.ebs)?.encrypted))
      .map((mapping) => `${label} does not encrypt the volume ${mapping.device_name ?? '(unnamed)'}`);
  },
};

export const nodeGroupLaunchTemplate: TerraformRule = {
  id: 'DL-EC2-003',
  severity: 'error',
  target: 'terraform',
  types: ['aws_eks_node_group'],
  description: 'Managed node groups use a launch template of their stack, where IMDSv2 and volume encryption are checked.',
  hint: 'Give the EksNodeGroup launchTemplate: { id: template.id, version: template.latestVersion }.',
  check: (group, { stack }) => {
    const template = single(group.block.launch_template);
    const label = `node group ${group.block.node_group_name ?? group.address}`;
    if (template === undefined) return [`${label} uses no launch template, so EKS defaults (IMDSv1 allowed, hop limit 2) apply`];
    const target = template.id ?? template.name;
    const resolved = resolve(stack, target);
    return resolved !== undefined && resolved.type === 'aws_launch_template'
      ? []
      : [`${label} uses launch template ${JSON.stringify(target ?? null)}, which is not a launch template of its stack that the gate can check`];
  },
};

/** The node rules. */
export const NODE_RULES: readonly TerraformRule[] = [imdsV2, encryptedVolumes, nodeGroupLaunchTemplate];
