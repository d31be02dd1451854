/** Rules for VPCs: flow logs and a closed default security group. */
import type { TerraformRule } from './rule';
import { resourcesReferencing } from './terraform-references';

export const vpcFlowLogs: TerraformRule = {
  id: 'DL-VPC-001',
  severity: 'error',
  target: 'terraform',
  types: ['aws_vpc'],
  description: 'Every VPC records flow logs of all traffic.',
  hint: "Add an aws_flow_log with vpc_id the VPC and traffic_type 'ALL'.",
  check: (vpc, { stack }) => {
    const logs = resourcesReferencing(stack, 'aws_flow_log', 'vpc_id', vpc);
    if (logs.length === 0) return ['the VPC has no flow logs'];
    return logs.some((log) => log.block.traffic_type === 'ALL') ? [] : ['the VPC records flow logs of only part of its traffic (traffic_type is not ALL)'];
  },
};

export const closedDefaultSecurityGroup: TerraformRule = {
  id: 'DL-VPC-002',
  severity: 'error',
  target: 'terraform',
  types: ['aws_vpc'],
  description: "Every VPC's default security group is managed and allows nothing, so nothing lands in it by accident.",
  hint: 'Add an aws_default_security_group for the VPC with ingress: [] and egress: [].',
  check: (vpc, { stack }) => {
    const groups = resourcesReferencing(stack, 'aws_default_security_group', 'vpc_id', vpc);
    if (groups.length === 0) return [`the VPC leaves its default security group unmanaged (AWS's default allows all traffic between its members and all egress)`];
    const open = groups.filter((g) => !(Array.isArray(g.block.ingress) && g.block.ingress.length === 0 && Array.isArray(g.block.egress) && g.block.egress.length === 0));
    return open.map((g) => `the VPC's default security group ${g.address} allows traffic (ingress and egress must be empty lists)`);
  },
};

/** The VPC rules. */
export const VPC_RULES: readonly TerraformRule[] = [vpcFlowLogs, closedDefaultSecurityGroup];
