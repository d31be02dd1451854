/**
 * Rules that keep Terraform from deleting data where the environment retains it (`retainData`, read from the
 * environment file): buckets and keys carry prevent_destroy, buckets never force_destroy, the cluster has
 * deletion protection.
 */
import type { TerraformRule } from './rule';
import { isTrue, single } from './terraform-references';

export const noForceDestroy: TerraformRule = {
  id: 'DL-DATA-001',
  severity: 'error',
  target: 'terraform',
  types: ['aws_s3_bucket'],
  description: 'Where the environment retains data, no bucket has force_destroy (which deletes every object with the bucket).',
  hint: 'Create the bucket with retain: env.retainData (DataLakeBucket sets force_destroy only when not retaining).',
  check: (bucket, { env }) =>
    env.retainData && isTrue(bucket.block.force_destroy)
      ? [`bucket ${bucket.block.bucket ?? bucket.address} has force_destroy although environment '${env.name}' retains data`]
      : [],
};

export const preventDestroy: TerraformRule = {
  id: 'DL-DATA-002',
  severity: 'error',
  target: 'terraform',
  types: ['aws_s3_bucket', 'aws_kms_key'],
  description: 'Where the environment retains data, every bucket and KMS key carries lifecycle prevent_destroy.',
  hint: 'Set lifecycle: { preventDestroy: env.retainData } on the resource.',
  check: (resource, { env }) =>
    env.retainData && !isTrue(single(resource.block.lifecycle)?.prevent_destroy)
      ? [`${resource.type === 'aws_s3_bucket' ? `bucket ${resource.block.bucket ?? resource.name}` : 'the key'} lacks lifecycle prevent_destroy although environment '${env.name}' retains data`]
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
