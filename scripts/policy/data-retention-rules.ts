/**
 * Rules that keep Terraform from deleting data where the environment retains it (`retainData`, read from the
 * environment file): buckets, keys and image repositories carry prevent_destroy, buckets never force_destroy and
 * repositories never force_delete, the cluster has deletion protection.
 */
import type { TerraformResource, TerraformRule } from './rule';
import { isTrue, single } from './terraform-references';

/** How a resource under these rules is named in messages. */
function label(resource: TerraformResource): string {
  if (resource.type === 'aws_s3_bucket') return `bucket ${resource.block.bucket ?? resource.name}`;
  if (resource.type === 'aws_ecr_repository') return `repository ${resource.block.name ?? resource.name}`;
  return 'the key';
}

export const noForceDestroy: TerraformRule = {
  id: 'DL-DATA-001',
  severity: 'error',
  target: 'terraform',
  types: ['aws_s3_bucket', 'aws_ecr_repository'],
  description: 'Where the environment retains data, no bucket has force_destroy and no repository force_delete (which delete every object or image with it).',
  hint: 'Create the bucket with retain: env.retainData (DataLakeBucket sets force_destroy only when not retaining); ImageRepository never sets force_delete.',
  check: (resource, { env }) => {
    const attribute = resource.type === 'aws_ecr_repository' ? 'force_delete' : 'force_destroy';
    return env.retainData && isTrue(resource.block[attribute]) ? [`${label(resource)} has ${attribute} although environment '${env.name}' retains data`] : [];
  },
};

export const preventDestroy: TerraformRule = {
  id: 'DL-DATA-002',
  severity: 'error',
  target: 'terraform',
  types: ['aws_s3_bucket', 'aws_kms_key', 'aws_ecr_repository'],
  description: 'Where the environment retains data, every bucket, KMS key and image repository carries lifecycle prevent_destroy.',
  hint: 'Set lifecycle: { preventDestroy: env.retainData } on the resource (retain: env.retainData on DataLakeBucket and ImageRepository).',
  check: (resource, { env }) =>
    env.retainData && !isTrue(single(resource.block.lifecycle)?.prevent_destroy)
      ? [`${label(resource)} lacks lifecycle prevent_destroy although environment '${env.name}' retains data`]
      : [],
};

export const clusterDeletionProtection: TerraformRule = {
  id: 'DL-DATA-003',
  severity: 'error',
  target: 'terraform',
  types: ['aws_eks_cluster'],
  description: 'Where the environment retains data, the EKS cluster has deletion protection.',
  hint: 'Set deletionProtection: env.retainData on the EksCluster.',
  check: (cluster, { env }) =>
    env.retainData && !isTrue(cluster.block.deletion_protection)
      ? [`cluster ${cluster.block.name ?? cluster.address} has no deletion protection although environment '${env.name}' retains data`]
      : [],
};

/** The data-retention rules. */
export const DATA_RETENTION_RULES: readonly TerraformRule[] = [noForceDestroy, preventDestroy, clusterDeletionProtection];
