/**
 * Rules for S3 buckets. Since AWS provider v4 every bucket control is a resource of its own that references
 * the bucket (`"bucket": "${aws_s3_bucket.raw_bucket_X.id}"`, or the bucket's literal name), so each rule
 * checks the bucket and looks for the control that points at it.
 */
import { conditionValues, isAnyone, policyStatements } from './iam-policy';
import type { StackOutput, TerraformResource, TerraformRule } from './rule';
import { every, isTrue, resourcesReferencing, single } from './terraform-references';

/** The controls of `type` that apply to `bucket`. */
function controls(stack: StackOutput, type: string, bucket: TerraformResource): TerraformResource[] {
  return resourcesReferencing(stack, type, 'bucket', bucket, 'bucket');
}

/** How a bucket is named in messages: its bucket name, else its address. */
function bucketLabel(bucket: TerraformResource): string {
  return typeof bucket.block.bucket === 'string' ? `bucket ${bucket.block.bucket}` : `bucket ${bucket.address}`;
}

export const s3Versioning: TerraformRule = {
  id: 'DL-S3-001',
  severity: 'error',
  target: 'terraform',
  types: ['aws_s3_bucket'],
  description: 'Every bucket has versioning enabled, so that an overwrite or delete can be undone.',
  hint: "Add an aws_s3_bucket_versioning for the bucket with status 'Enabled' (DataLakeBucket does).",
  check: (bucket, { stack }) => {
    const enabled = controls(stack, 'aws_s3_bucket_versioning', bucket).some(
      (v) => single(v.block.versioning_configuration)?.status === 'Enabled',
    );
    const inline = isTrue(single(bucket.block.versioning)?.enabled);
    return enabled || inline ? [] : [`${bucketLabel(bucket)} has no versioning with status Enabled`];
  },
};

export const s3Encryption: TerraformRule = {
  id: 'DL-S3-002',
  severity: 'error',
  target: 'terraform',
  types: ['aws_s3_bucket'],
  description: 'Every bucket is encrypted by default with SSE-KMS under a customer-managed key, with an S3 bucket key.',
  hint: "Add an aws_s3_bucket_server_side_encryption_configuration with sse_algorithm 'aws:kms', kms_master_key_id and bucket_key_enabled.",
  check: (bucket, { stack }) => {
    const configurations = controls(stack, 'aws_s3_bucket_server_side_encryption_configuration', bucket);
    if (configurations.length === 0) return [`${bucketLabel(bucket)} has no default encryption configuration`];
    const rules = configurations.flatMap((c) => every(c.block.rule));
    const defaults = rules.map((rule) => ({ rule, sse: single(rule.apply_server_side_encryption_by_default) }));
    const kms = defaults.find(({ sse }) => sse?.sse_algorithm === 'aws:kms' || sse?.sse_algorithm === 'aws:kms:dsse');
    if (kms === undefined) {
      const algorithms = defaults.map(({ sse }) => sse?.sse_algorithm ?? 'none').join(', ');
      return [`${bucketLabel(bucket)} is encrypted with ${algorithms}, not SSE-KMS`];
    }
    return [
      ...(typeof kms.sse?.kms_master_key_id === 'string' && kms.sse.kms_master_key_id !== ''
        ? []
        : [`${bucketLabel(bucket)} uses SSE-KMS without naming a key, so the AWS managed key aws/s3 (no key policy of ours) encrypts it`]),
      ...(isTrue(kms.rule.bucket_key_enabled) ? [] : [`${bucketLabel(bucket)} uses SSE-KMS without an S3 bucket key (one KMS request per object)`]),
    ];
  },
};

const PUBLIC_ACCESS_SETTINGS = ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'] as const;

export const s3PublicAccessBlock: TerraformRule = {
  id: 'DL-S3-003',
  severity: 'error',
  target: 'terraform',
  types: ['aws_s3_bucket'],
  description: 'Every bucket blocks public access with all four settings of a public access block.',
  hint: 'Add an aws_s3_bucket_public_access_block for the bucket with block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets true.',
  check: (bucket, { stack }) => {
    const blocks = controls(stack, 'aws_s3_bucket_public_access_block', bucket);
    if (blocks.length === 0) return [`${bucketLabel(bucket)} has no public access block`];
    const off = PUBLIC_ACCESS_SETTINGS.filter((setting) => !blocks.some((b) => isTrue(b.block[setting])));
    return off.length === 0 ? [] : [`${bucketLabel(bucket)} does not set ${off.join(', ')} to true in its public access block`];
  },
};

export const s3TlsOnly: TerraformRule = {
  id: 'DL-S3-004',
  severity: 'error',
  target: 'terraform',
  types: ['aws_s3_bucket'],
  description: 'Every bucket policy denies all S3 actions to anyone over plain HTTP (aws:SecureTransport false), on the bucket and its objects.',
  hint: "Add a Deny statement for Principal '*', Action 's3:*', Resource the bucket ARN and ARN/*, Condition Bool aws:SecureTransport 'false'.",
  check: (bucket, { stack }) => {
    const name = bucket.block.bucket;
    const arns = typeof name === 'string' ? [`arn:aws:s3:::${name}`, `arn:aws:s3:::${name}/*`] : [];
    const policies = controls(stack, 'aws_s3_bucket_policy', bucket);
    if (policies.length === 0) return [`${bucketLabel(bucket)} has no bucket policy, so nothing denies requests without TLS`];
    const denies = policies.some((policy) => {
      const read = policyStatements(policy.block.policy);
      if ('error' in read) return false;
      return read.statements.some(
        (s) =>
          s.effect === 'Deny' &&
          isAnyone(s.principal) &&
          (s.actions.includes('s3:*') || s.actions.includes('*')) &&
          (conditionValues(s, ['Bool'], 'aws:SecureTransport') ?? []).includes('false') &&
          (s.resources.includes('*') || arns.every((arn) => s.resources.includes(arn))),
      );
    });
    return denies ? [] : [`${bucketLabel(bucket)} has no policy statement denying s3:* to anyone without TLS on the bucket and its objects`];
  },
};

export const s3AccessLogging: TerraformRule = {
  id: 'DL-S3-005',
  severity: 'error',
  target: 'terraform',
  types: ['aws_s3_bucket'],
  description: 'Every bucket writes server access logs to another bucket.',
  hint: 'Add an aws_s3_bucket_logging for the bucket with target_bucket the logs bucket (DataLakeBucket accessLogBucket).',
  check: (bucket, { stack }) => {
    const logging = controls(stack, 'aws_s3_bucket_logging', bucket);
    if (logging.length === 0) return [`${bucketLabel(bucket)} has no server access logging`];
    const elsewhere = logging.some((l) => typeof l.block.target_bucket === 'string' && l.block.target_bucket !== '' && l.block.target_bucket !== bucket.block.bucket);
    return elsewhere ? [] : [`${bucketLabel(bucket)} logs its access to itself or to no target bucket`];
  },
};

export const s3Lifecycle: TerraformRule = {
  id: 'DL-S3-006',
  severity: 'error',
  target: 'terraform',
  types: ['aws_s3_bucket'],
  description: 'Every bucket has lifecycle rules that abort incomplete multipart uploads and expire noncurrent versions.',
  hint: 'Add an aws_s3_bucket_lifecycle_configuration with enabled rules for abort_incomplete_multipart_upload and noncurrent_version_expiration.',
  check: (bucket, { stack }) => {
    const configurations = controls(stack, 'aws_s3_bucket_lifecycle_configuration', bucket);
    if (configurations.length === 0) return [`${bucketLabel(bucket)} has no lifecycle configuration, so old versions and failed uploads are kept forever`];
    const enabled = configurations.flatMap((c) => every(c.block.rule)).filter((rule) => rule.status === 'Enabled');
    const missing = [
      ...(enabled.some((rule) => single(rule.abort_incomplete_multipart_upload) !== undefined) ? [] : ['abort incomplete multipart uploads']),
      ...(enabled.some((rule) => single(rule.noncurrent_version_expiration) !== undefined) ? [] : ['expire noncurrent versions']),
    ];
    return missing.length === 0 ? [] : [`${bucketLabel(bucket)} has no enabled lifecycle rule to ${missing.join(' or to ')}`];
  },
};

export const s3ObjectOwnership: TerraformRule = {
  id: 'DL-S3-007',
  severity: 'error',
  target: 'terraform',
  types: ['aws_s3_bucket'],
  description: 'Every bucket enforces bucket-owner object ownership, so ACLs are disabled.',
  hint: "Add an aws_s3_bucket_ownership_controls with object_ownership 'BucketOwnerEnforced'.",
  check: (bucket, { stack }) => {
    const enforced = controls(stack, 'aws_s3_bucket_ownership_controls', bucket).some(
      (o) => single(o.block.rule)?.object_ownership === 'BucketOwnerEnforced',
    );
    return enforced ? [] : [`${bucketLabel(bucket)} does not enforce bucket-owner object ownership (ACLs stay possible)`];
  },
};

/** The S3 rules. */
export const S3_RULES: readonly TerraformRule[] = [s3Versioning, s3Encryption, s3PublicAccessBlock, s3TlsOnly, s3AccessLogging, s3Lifecycle, s3ObjectOwnership];
