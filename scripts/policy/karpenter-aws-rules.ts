/**
 * Rules for what Karpenter is given on the AWS side. Karpenter launches instances with a role it passes to them, so
 * what it may pass decides what every node it launches can do; and its nodes join the cluster through an access entry
 * whose type decides what they are in Kubernetes. Both roles are found by the names of environments/naming.ts.
 */
import { karpenterNodeRoleName, workloadRoleName } from '../../environments/naming';
import { allowStatements, allowsPassRole } from './iam-rules';
import type { StackOutput, TerraformResource, TerraformRule } from './rule';
import { designates, parseReference, resolve, resourcesOf } from './terraform-references';

/** The inline policies of a role: aws_iam_role_policy resources that point at it (by reference or name), and its own. */
function policiesOf(stack: StackOutput, role: TerraformResource): TerraformResource[] {
  return [role, ...resourcesOf(stack, 'aws_iam_role_policy').filter((policy) => designates(policy.block.role, role, 'name'))];
}

/** Whether `value` designates the role named `roleName`: a reference to a role of the stack with that name, or its ARN. */
function isRoleNamed(value: string, roleName: string, stack: StackOutput, accountId: string): boolean {
  if (parseReference(value) !== undefined) {
    const target = resolve(stack, value);
    return target?.type === 'aws_iam_role' && target.block.name === roleName;
  }
  return value === `arn:aws:iam::${accountId}:role/${roleName}`;
}

export const karpenterPassesOnlyNodeRole: TerraformRule = {
  id: 'DL-KARP-007',
  severity: 'error',
  target: 'terraform',
  types: ['aws_iam_role'],
  description: "The Karpenter controller's role may pass no role but the Karpenter node role (karpenterNodeRoleName), so the nodes it launches can never get another role's permissions.",
  hint: "Give the controller's iam:PassRole statement Resource the node role's ARN only (Karpenter in infra/constructs/karpenter.ts does).",
  check: (role, { stack, env }) => {
    if (role.block.name !== workloadRoleName(env.name, 'karpenter')) return [];
    const nodeRole = karpenterNodeRoleName(env.name);
    return policiesOf(stack, role).flatMap((policy) =>
      allowStatements(policy).statements.flatMap(({ statement, name }) => {
        if (!allowsPassRole(statement)) return [];
        if (statement.notResources !== undefined) return [`the Karpenter controller's ${name} passes every role but ${statement.notResources.join(', ')} (NotResource)`];
        return statement.resources
          .filter((resource) => !isRoleNamed(resource, nodeRole, stack, env.aws.accountId))
          .map((resource) => `the Karpenter controller's ${name} passes ${resource}, not the node role ${nodeRole}`);
      }),
    );
  },
};

export const karpenterNodesJoinAsNodes: TerraformRule = {
  id: 'DL-KARP-008',
  severity: 'error',
  target: 'terraform',
  types: ['aws_iam_role'],
  description: 'The Karpenter node role joins the cluster only through an EKS access entry of type EC2_LINUX (system:nodes), never a STANDARD one or an access policy.',
  hint: "Create one EksAccessEntry for the node role with type 'EC2_LINUX' and no EksAccessPolicyAssociation (Karpenter in infra/constructs/karpenter.ts does).",
  check: (role, { stack, env }) => {
    const nodeRole = karpenterNodeRoleName(env.name);
    if (role.block.name !== nodeRole) return [];
    const names = (value: unknown) => typeof value === 'string' && (designates(value, role) || value === `arn:aws:iam::${env.aws.accountId}:role/${nodeRole}`);
    const entries = resourcesOf(stack, 'aws_eks_access_entry').filter((entry) => names(entry.block.principal_arn));
    const associations = resourcesOf(stack, 'aws_eks_access_policy_association').filter(
      (association) => names(association.block.principal_arn) || entries.some((entry) => designates(association.block.principal_arn, entry)),
    );
    return [
      ...(entries.length === 0 ? [`the Karpenter node role ${nodeRole} has no access entry, so the nodes Karpenter launches cannot join the cluster`] : []),
      ...entries
        .filter((entry) => entry.block.type !== 'EC2_LINUX')
        .map((entry) => `the Karpenter node role ${nodeRole} joins through ${entry.address} of type ${entry.block.type ?? 'STANDARD (unset)'}, not EC2_LINUX`),
      ...associations.map((association) => `the Karpenter node role ${nodeRole} is given the access policy ${association.block.policy_arn ?? '(unnamed)'} by ${association.address}`),
    ];
  },
};

/** The rules for Karpenter's AWS side. */
export const KARPENTER_AWS_RULES: readonly TerraformRule[] = [karpenterPassesOnlyNodeRole, karpenterNodesJoinAsNodes];
