/**
 * Rules for ECR repositories. As with buckets, the lifecycle and repository policies are resources of their own that
 * point at the repository (`"repository": "${aws_ecr_repository.x.name}"`, or its literal name), so the rules check
 * the repository and look for the policy that points at it.
 */
import { isAnyone, policyStatements, type Statement } from './iam-policy';
import type { StackOutput, TerraformResource, TerraformRule } from './rule';
import { resourcesReferencing, single } from './terraform-references';

/** What writes to a repository: the calls of a push, and deleting images. */
export const ECR_WRITE_ACTIONS = ['ecr:PutImage', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:BatchDeleteImage'] as const;

/** The policies of `type` that apply to `repository`. */
function policiesOf(stack: StackOutput, type: string, repository: TerraformResource): TerraformResource[] {
  return resourcesReferencing(stack, type, 'repository', repository, 'name');
}

/** How a repository is named in messages: its name, else its address. */
function repositoryLabel(repository: TerraformResource): string {
  return `repository ${typeof repository.block.name === 'string' ? repository.block.name : repository.address}`;
}

export const ecrImmutableTags: TerraformRule = {
  id: 'DL-ECR-001',
  severity: 'error',
  target: 'terraform',
  types: ['aws_ecr_repository'],
  description: 'Every repository has immutable tags, so that a tag a manifest names always means the same image.',
  hint: "Set imageTagMutability: 'IMMUTABLE' on the EcrRepository (ImageRepository does).",
  check: (repository) => {
    const mutability = repository.block.image_tag_mutability;
    return mutability === 'IMMUTABLE' ? [] : [`${repositoryLabel(repository)} lets a push move its tags (image_tag_mutability ${mutability ?? 'unset, so MUTABLE'})`];
  },
};

export const ecrScanOnPush: TerraformRule = {
  id: 'DL-ECR-002',
  severity: 'error',
  target: 'terraform',
  types: ['aws_ecr_repository'],
  description: 'Every repository scans each image for known vulnerabilities when it is pushed.',
  hint: 'Set imageScanningConfiguration: { scanOnPush: true } on the EcrRepository.',
  check: (repository) =>
    single(repository.block.image_scanning_configuration)?.scan_on_push === true ? [] : [`${repositoryLabel(repository)} does not scan images on push`],
};

export const ecrKmsEncryption: TerraformRule = {
  id: 'DL-ECR-003',
  severity: 'error',
  target: 'terraform',
  types: ['aws_ecr_repository'],
  description: 'Every repository is encrypted with a customer-managed KMS key, not with AES256 or the AWS managed key.',
  hint: "Set encryptionConfiguration: [{ encryptionType: 'KMS', kmsKey: <the environment's data key ARN> }].",
  check: (repository) => {
    const encryption = single(repository.block.encryption_configuration);
    const type = encryption?.encryption_type ?? 'AES256';
    if (type !== 'KMS' && type !== 'KMS_DSSE') return [`${repositoryLabel(repository)} is encrypted with ${type}, not KMS`];
    return typeof encryption?.kms_key === 'string' && encryption.kms_key !== ''
      ? []
      : [`${repositoryLabel(repository)} uses KMS without naming a key, so the AWS managed key aws/ecr (no key policy of ours) encrypts it`];
  },
};

export const ecrLifecyclePolicy: TerraformRule = {
  id: 'DL-ECR-004',
  severity: 'error',
  target: 'terraform',
  types: ['aws_ecr_repository'],
  description: 'Every repository has a lifecycle policy that expires images, so that old images do not pile up forever.',
  hint: 'Add an aws_ecr_lifecycle_policy for the repository with at least one rule whose action is expire.',
  check: (repository, { stack }) => {
    const policies = policiesOf(stack, 'aws_ecr_lifecycle_policy', repository);
    if (policies.length === 0) return [`${repositoryLabel(repository)} has no lifecycle policy, so every image pushed is kept forever`];
    const expires = policies.some((policy) => parsedRules(policy.block.policy).some((rule) => rule?.action?.type === 'expire'));
    return expires ? [] : [`${repositoryLabel(repository)} has a lifecycle policy that expires nothing`];
  },
};

/** The rules of a lifecycle policy given as JSON text; none when it cannot be read. */
function parsedRules(document: unknown): Array<{ action?: { type?: unknown } } | null> {
  if (typeof document !== 'string') return [];
  try {
    const rules = (JSON.parse(document) as { rules?: unknown }).rules;
    return Array.isArray(rules) ? rules : [];
  } catch {
    return [];
  }
}

export const ecrPushOnlyByDeployRole: TerraformRule = {
  id: 'DL-ECR-005',
  severity: 'error',
  target: 'terraform',
  types: ['aws_ecr_repository'],
  description: "Every repository's policy denies pushing and deleting images to every principal but the environment's deploy role (aws.deployRoleArn).",
  hint: "Add a Deny statement for Principal '*' on ecr:PutImage, the layer uploads and ecr:BatchDeleteImage with the one condition StringNotEquals aws:PrincipalArn <aws.deployRoleArn> (ImageRepository pushRoleArn).",
  check: (repository, { stack, env }) => {
    const label = repositoryLabel(repository);
    const policies = policiesOf(stack, 'aws_ecr_repository_policy', repository);
    if (policies.length === 0) return [`${label} has no repository policy, so any principal that IAM lets push can push`];
    const statements: Statement[] = [];
    for (const policy of policies) {
      const read = policyStatements(policy.block.policy);
      if ('error' in read) return [`${label} has a repository policy the gate cannot read: ${read.error}`];
      statements.push(...read.statements);
    }
    const denies = statements.filter((s) => s.effect === 'Deny' && isAnyone(s.principal) && s.notPrincipal === undefined);
    const exempting = (deployRole: string) => denies.filter((s) => isEqual(exemptedPrincipals(s), [deployRole]));
    const missing = ECR_WRITE_ACTIONS.filter((action) => !exempting(env.aws.deployRoleArn).some((s) => covers(s, action)));
    if (missing.length === 0) return [];
    const others = [...new Set(denies.flatMap((s) => exemptedPrincipals(s) ?? []))].filter((arn) => arn !== env.aws.deployRoleArn);
    return [
      `${label} does not deny ${missing.join(', ')} to every principal but the deploy role ${env.aws.deployRoleArn}` +
        (others.length === 0 ? '' : ` (its deny exempts ${others.join(', ')})`),
    ];
  },
};

/**
 * The principals a Deny exempts when its only condition is aws:PrincipalArn not equal to them; undefined when it
 * has another condition (which narrows whom or when it denies) or none (it then denies the deploy role too).
 */
function exemptedPrincipals(statement: Statement): string[] | undefined {
  const entries = Object.entries(statement.condition).flatMap(([operator, block]) => Object.entries(block).map(([key, values]) => ({ operator, key, values })));
  if (entries.length !== 1) return undefined;
  const [{ operator, key, values }] = entries as [(typeof entries)[number]];
  if (!['StringNotEquals', 'ArnNotEquals'].includes(operator) || key.toLowerCase() !== 'aws:principalarn') return undefined;
  return (Array.isArray(values) ? values : [values]).map(String);
}

const isEqual = (a: readonly string[] | undefined, b: readonly string[]) => a !== undefined && a.length === b.length && a.every((item, index) => item === b[index]);

/** Whether a statement applies to `action`: an action pattern matches it, or NotAction leaves it in. */
function covers(statement: Statement, action: string): boolean {
  const matches = (pattern: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i').test(action);
  return statement.notActions !== undefined ? !statement.notActions.some(matches) : statement.actions.some(matches);
}

/** The ECR rules. */
export const ECR_RULES: readonly TerraformRule[] = [ecrImmutableTags, ecrScanOnPush, ecrKmsEncryption, ecrLifecyclePolicy, ecrPushOnlyByDeployRole];
