/**
 * Rules for IAM: permissions are enumerated (no wildcard actions, never `s3:*`), writes are never granted on
 * every resource, trust is narrow (Pod Identity roles only for one cluster, namespace and service account), and
 * AWS managed policies, whose contents this repository does not show, are used only with a reason.
 */
import { conditionValues, isAnyone, isReadOnly, isWildcard, policyStatements, serviceOf, servicePrincipals, statementName, type Statement } from './iam-policy';
import type { TerraformResource, TerraformRule } from './rule';
import { every } from './terraform-references';

/** Resources that carry permission policies (identity or resource policies), and where the policy is. */
const PERMISSION_POLICIES: Readonly<Record<string, (block: Record<string, any>) => unknown[]>> = {
  aws_iam_role_policy: (b) => [b.policy],
  aws_iam_policy: (b) => [b.policy],
  aws_iam_user_policy: (b) => [b.policy],
  aws_iam_group_policy: (b) => [b.policy],
  aws_iam_role: (b) => every(b.inline_policy).map((inline) => inline.policy),
  aws_s3_bucket_policy: (b) => [b.policy],
  aws_ecr_repository_policy: (b) => [b.policy],
  aws_sqs_queue_policy: (b) => [b.policy],
};

/** The Allow statements of a resource's permission policies, or why a policy cannot be read. */
export function allowStatements(resource: TerraformResource): { statements: Array<{ statement: Statement; name: string }>; errors: string[] } {
  const statements: Array<{ statement: Statement; name: string }> = [];
  const errors: string[] = [];
  for (const policy of PERMISSION_POLICIES[resource.type]?.(resource.block) ?? []) {
    if (policy === undefined) continue;
    const read = policyStatements(policy);
    if ('error' in read) {
      errors.push(read.error);
      continue;
    }
    read.statements.forEach((statement, index) => {
      if (statement.effect === 'Allow') statements.push({ statement, name: statementName(statement, index) });
    });
  }
  return { statements, errors };
}

export const noWildcardActions: TerraformRule = {
  id: 'DL-IAM-001',
  severity: 'error',
  target: 'terraform',
  types: Object.keys(PERMISSION_POLICIES),
  description: "Allow statements name their actions: no '*', no service wildcards such as 'ec2:*' or 'logs:Put*', no NotAction (S3 is DL-IAM-002).",
  hint: 'List the exact actions the workload calls; write policies with policyDocument() so the gate can read them.',
  check: (resource) => {
    const { statements, errors } = allowStatements(resource);
    return [
      ...errors,
      ...statements.flatMap(({ statement, name }) => [
        ...(statement.notActions !== undefined ? [`${name} allows every action except ${statement.notActions.join(', ')} (NotAction)`] : []),
        ...statement.actions.filter((a) => isWildcard(a) && serviceOf(a) !== 's3').map((a) => `${name} allows the wildcard action '${a}'`),
      ]),
    ];
  },
};

export const noS3Wildcards: TerraformRule = {
  id: 'DL-IAM-002',
  severity: 'error',
  target: 'terraform',
  types: Object.keys(PERMISSION_POLICIES),
  description: "Allow statements never grant 's3:*' or any other S3 wildcard: data access is enumerated.",
  hint: 'Grant exactly the S3 actions needed (see storageStatements in infra/constructs/storage-statements.ts).',
  check: (resource) =>
    allowStatements(resource).statements.flatMap(({ statement, name }) =>
      statement.actions.filter((a) => isWildcard(a) && serviceOf(a) === 's3').map((a) => `${name} allows the S3 wildcard '${a}'`),
    ),
};

export const noWritesOnEverything: TerraformRule = {
  id: 'DL-IAM-003',
  severity: 'error',
  target: 'terraform',
  types: Object.keys(PERMISSION_POLICIES),
  description: "Actions that change anything are never allowed on Resource '*' (or through NotResource).",
  hint: 'Name the resources (ARNs, or ARN prefixes under the environment) that the action may change.',
  check: (resource) =>
    allowStatements(resource).statements.flatMap(({ statement, name }) => {
      const everything = statement.resources.includes('*') || statement.notResources !== undefined;
      if (!everything) return [];
      const writes = statement.notActions !== undefined ? ['(every action but NotAction)'] : statement.actions.filter((a) => !isReadOnly(a));
      return writes.length === 0 ? [] : [`${name} allows ${writes.join(', ')} on every resource`];
    }),
};

/** The service principal of EKS Pod Identity. */
export const POD_IDENTITY_PRINCIPAL = 'pods.eks.amazonaws.com';

/** Session tags EKS Pod Identity sets, which a trust policy must require so that only one service account can assume the role. */
export const POD_IDENTITY_TAGS = ['aws:RequestTag/eks-cluster-arn', 'aws:RequestTag/kubernetes-namespace', 'aws:RequestTag/kubernetes-service-account'] as const;

export const scopedTrust: TerraformRule = {
  id: 'DL-IAM-004',
  severity: 'error',
  target: 'terraform',
  types: ['aws_iam_role'],
  description: 'Trust policies trust no one-at-all principal, and Pod Identity trust requires the session tags of one cluster, namespace and service account.',
  hint: "Build workload roles with WorkloadRole, whose trust requires aws:RequestTag/eks-cluster-arn, kubernetes-namespace and kubernetes-service-account (StringEquals).",
  check: (role) => {
    const read = policyStatements(role.block.assume_role_policy);
    if ('error' in read) return [`the trust ${read.error.replace(/^the policy/, 'policy')}`];
    return read.statements.flatMap((statement, index) => {
      if (statement.effect !== 'Allow') return [];
      const name = statementName(statement, index);
      if (isAnyone(statement.principal) || statement.notPrincipal !== undefined) return [`trust ${name} lets any principal assume the role`];
      if (!servicePrincipals(statement.principal).includes(POD_IDENTITY_PRINCIPAL)) return [];
      return POD_IDENTITY_TAGS.flatMap((tag) => {
        const values = conditionValues(statement, ['StringEquals'], tag);
        if (values === undefined || values.length === 0) return [`trust ${name} lets Pod Identity assume the role without requiring ${tag} (StringEquals)`];
        return values.some((v) => v === '' || isWildcard(v)) ? [`trust ${name} lets Pod Identity assume the role with a wildcard ${tag}`] : [];
      });
    });
  },
};

const AWS_MANAGED_POLICY = /^arn:aws[a-z-]*:iam::aws:policy\/(.+)$/;

/** The AWS managed policies a resource attaches. */
function managedPolicies(resource: TerraformResource): string[] {
  const arns: unknown[] =
    resource.type === 'aws_iam_role'
      ? Array.isArray(resource.block.managed_policy_arns) ? resource.block.managed_policy_arns : []
      : resource.type === 'aws_iam_role_policy_attachments_exclusive'
        ? Array.isArray(resource.block.policy_arns) ? resource.block.policy_arns : []
        : [resource.block.policy_arn];
  return arns.flatMap((arn) => {
    const match = typeof arn === 'string' ? AWS_MANAGED_POLICY.exec(arn) : null;
    return match ? [match[1]!] : [];
  });
}

const ATTACHMENTS = ['aws_iam_role_policy_attachment', 'aws_iam_policy_attachment', 'aws_iam_user_policy_attachment', 'aws_iam_group_policy_attachment', 'aws_iam_role_policy_attachments_exclusive', 'aws_iam_role'];

export const managedPolicyReviewed: TerraformRule = {
  id: 'DL-IAM-005',
  severity: 'error',
  target: 'terraform',
  types: ATTACHMENTS,
  description: 'An AWS managed policy, whose permissions AWS defines outside this repository, is attached only with a reason next to the attachment.',
  hint: 'Prefer an inline policy with exact actions; where AWS maintains the policy for its own component, suppress DL-IAM-005 with why.',
  check: (resource) => managedPolicies(resource).map((policy) => `attaches the AWS managed policy ${policy}, whose permissions are not reviewed here`),
};

const PRIVILEGED_POLICIES = /^(AdministratorAccess|PowerUserAccess|IAMFullAccess|.*FullAccess(-.*)?)$/;

export const noPrivilegedManagedPolicies: TerraformRule = {
  id: 'DL-IAM-006',
  severity: 'error',
  target: 'terraform',
  types: ATTACHMENTS,
  description: 'No administrator, power-user or *FullAccess AWS managed policy is attached.',
  hint: 'Grant the exact actions and resources the principal needs in an inline policy.',
  check: (resource) =>
    managedPolicies(resource)
      .filter((policy) => PRIVILEGED_POLICIES.test(policy.split('/').pop() ?? policy))
      .map((policy) => `attaches the privileged AWS managed policy ${policy}`),
};

/** Whether an action pattern (`iam:PassRole`, `iam:Pass*`, `*`) covers `action`; IAM matches actions case-insensitively. */
export function actionCovers(pattern: string, action: string): boolean {
  const regex = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${regex}$`, 'i').test(action);
}

/** Whether a statement allows iam:PassRole (by name, by pattern, or through NotAction). */
export function allowsPassRole(statement: Statement): boolean {
  return statement.notActions !== undefined
    ? !statement.notActions.some((a) => actionCovers(a, 'iam:PassRole'))
    : statement.actions.some((a) => actionCovers(a, 'iam:PassRole'));
}

export const passRoleNamed: TerraformRule = {
  id: 'DL-IAM-007',
  severity: 'error',
  target: 'terraform',
  types: Object.keys(PERMISSION_POLICIES),
  description: 'iam:PassRole is allowed only on named roles (no wildcard in the role ARN) and only to a named service (iam:PassedToService).',
  hint: "Name the role's ARN in Resource and add Condition StringEquals iam:PassedToService '<service>.amazonaws.com'.",
  check: (resource) =>
    allowStatements(resource).statements.flatMap(({ statement, name }) => {
      if (!allowsPassRole(statement)) return [];
      const wildcards = statement.notResources !== undefined ? ['(every role but NotResource)'] : statement.resources.filter((r) => isWildcard(r.replace(/\$\{[^}]*\}/g, '')));
      const services = conditionValues(statement, ['StringEquals', 'StringLike'], 'iam:PassedToService');
      return [
        ...(statement.resources.length === 0 && statement.notResources === undefined ? [`${name} allows iam:PassRole on no named role`] : []),
        ...wildcards.map((r) => `${name} allows iam:PassRole on ${r}, not a named role`),
        ...(services === undefined || services.length === 0 || services.some(isWildcard) ? [`${name} allows iam:PassRole to any service (no iam:PassedToService condition naming one)`] : []),
      ];
    }),
};

/** The IAM rules. */
export const IAM_RULES: readonly TerraformRule[] = [noWildcardActions, noS3Wildcards, noWritesOnEverything, scopedTrust, managedPolicyReviewed, noPrivilegedManagedPolicies, passRoleNamed];
