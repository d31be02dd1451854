import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import { bucketName, BUCKETS } from '../../environments/naming';
import { FIXTURE_INPUTS, fixtureEnvironments } from '../../scripts/fixtures/environments';
import { stackOf, synthesizeStacks, type SynthesizedStack } from '../synthesized-stacks';

// The team's environments and the fixture environments: these properties hold for any valid environment.
const environments = [...(await loadEnvironments()), ...fixtureEnvironments()];

/** The block of `type` that configures the bucket with Terraform name `bucketRef`, found by reference. */
function controlOf(stack: SynthesizedStack, type: string, bucketRef: string) {
  return Object.values(stack.resources(type)).filter((block) => block.bucket === `\${aws_s3_bucket.${bucketRef}.id}`);
}

describe.each(environments)('the $name data lake', (env) => {
  const lake = stackOf(synthesizeStacks(env, []), env.name, 'data-lake');
  const buckets = Object.entries(lake.resources('aws_s3_bucket'));
  const [keyRef, key] = Object.entries(lake.resources('aws_kms_key'))[0]!;

  it('has exactly the five buckets, named by environments/naming.ts', () => {
    expect(buckets.map(([, b]) => b.bucket).sort()).toEqual(BUCKETS.map((p) => bucketName(env, p)).sort());
  });

  it('encrypts with a rotated customer-managed key', () => {
    expect(key).toMatchObject({ enable_key_rotation: true, deletion_window_in_days: 30 });
  });

  it.each(BUCKETS)('gives the %s bucket every control', (purpose) => {
    const [ref] = buckets.find(([, b]) => b.bucket === bucketName(env, purpose))!;
    expect(controlOf(lake, 'aws_s3_bucket_versioning', ref)).toEqual([expect.objectContaining({ versioning_configuration: { status: 'Enabled' } })]);
    expect(controlOf(lake, 'aws_s3_bucket_public_access_block', ref)).toEqual([
      expect.objectContaining({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true }),
    ]);
    expect(controlOf(lake, 'aws_s3_bucket_ownership_controls', ref)).toEqual([expect.objectContaining({ rule: { object_ownership: 'BucketOwnerEnforced' } })]);

    const [encryption] = controlOf(lake, 'aws_s3_bucket_server_side_encryption_configuration', ref);
    if (purpose === 'logs') {
      // S3 server access logging delivers only to SSE-S3 buckets.
      expect(encryption!.rule).toEqual([{ apply_server_side_encryption_by_default: { sse_algorithm: 'AES256' } }]);
    } else {
      expect(encryption!.rule).toEqual([
        { apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms', kms_master_key_id: `\${aws_kms_key.${keyRef}.arn}` }, bucket_key_enabled: true },
      ]);
    }

    const [policy] = controlOf(lake, 'aws_s3_bucket_policy', ref);
    const statements = JSON.parse(policy!.policy).Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Principal: '*', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );

    const [lifecycle] = controlOf(lake, 'aws_s3_bucket_lifecycle_configuration', ref);
    const rules = Object.fromEntries((lifecycle!.rule as any[]).map((r) => [r.id, r]));
    expect(rules['abort-incomplete-uploads']?.abort_incomplete_multipart_upload).toEqual([{ days_after_initiation: 7 }]);
    expect(rules['expire-noncurrent-versions']?.noncurrent_version_expiration).toEqual([{ noncurrent_days: env.dataLake.noncurrentVersionDays }]);
    const tiering = (purpose === 'raw' || purpose === 'curated') && env.dataLake.intelligentTieringAfterDays !== undefined;
    expect(rules['intelligent-tiering']?.transition ?? null).toEqual(
      tiering ? [{ days: env.dataLake.intelligentTieringAfterDays, storage_class: 'INTELLIGENT_TIERING' }] : null,
    );

    const logging = controlOf(lake, 'aws_s3_bucket_logging', ref);
    if (purpose === 'logs') {
      expect(logging).toEqual([]);
      expect(rules['expire-objects']?.expiration).toEqual([{ days: env.dataLake.logRetentionDays }]);
      expect(statements).toContainEqual(
        expect.objectContaining({ Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject' }),
      );
    } else {
      expect(logging).toEqual([expect.objectContaining({ target_bucket: bucketName(env, 'logs'), target_prefix: `${bucketName(env, purpose)}/` })]);
    }
  });

  it(env.retainData ? 'cannot destroy any bucket or the key' : 'can be torn down', () => {
    for (const [, bucket] of buckets) {
      expect(bucket.force_destroy).toBe(!env.retainData);
      expect(bucket.lifecycle).toEqual({ prevent_destroy: env.retainData });
    }
    expect(key.lifecycle).toEqual({ prevent_destroy: env.retainData });
  });
});

describe('data protection by environment', () => {
  const fixtures = new Map(fixtureEnvironments().map((env) => [env.name, env]));
  const lakes = new Map(fixtureEnvironments().map((env) => [env.name, stackOf(synthesizeStacks(env, []), env.name, 'data-lake')]));
  const lake = (name: keyof typeof FIXTURE_INPUTS) => lakes.get(name)!;
  const protection = (name: keyof typeof FIXTURE_INPUTS) => ({
    buckets: Object.values(lake(name).resources('aws_s3_bucket')).map((b) => [b.bucket, b.force_destroy, b.lifecycle]).sort(),
    key: Object.values(lake(name).resources('aws_kms_key')).map((k) => k.lifecycle),
  });

  it('keeps every bucket and the key of an environment that retains data', () => {
    expect(FIXTURE_INPUTS.live.retainData).toBe(true);
    expect(protection('live')).toEqual({
      buckets: BUCKETS.map((purpose) => [bucketName(fixtures.get('live')!, purpose), false, { prevent_destroy: true }]).sort(),
      key: [{ prevent_destroy: true }],
    });
  });

  it('lets every bucket, with its objects, and the key go in an environment that does not', () => {
    expect(FIXTURE_INPUTS.lab.retainData).toBe(false);
    expect(protection('lab')).toEqual({
      buckets: BUCKETS.map((purpose) => [bucketName(fixtures.get('lab')!, purpose), true, { prevent_destroy: false }]).sort(),
      key: [{ prevent_destroy: false }],
    });
  });

  it('moves raw and curated objects to Intelligent-Tiering only where the environment asks', () => {
    const tiering = (name: keyof typeof FIXTURE_INPUTS) =>
      Object.fromEntries(
        BUCKETS.map((purpose) => {
          const [ref] = Object.entries(lake(name).resources('aws_s3_bucket')).find(([, b]) => b.bucket === bucketName(fixtures.get(name)!, purpose))!;
          const [lifecycle] = controlOf(lake(name), 'aws_s3_bucket_lifecycle_configuration', ref);
          return [purpose, (lifecycle!.rule as any[]).find((r) => r.id === 'intelligent-tiering')?.transition ?? null];
        }),
      );
    const days = FIXTURE_INPUTS.live.dataLake.intelligentTieringAfterDays;
    const transition = [{ days, storage_class: 'INTELLIGENT_TIERING' }];
    expect(tiering('live')).toEqual({ raw: transition, curated: transition, checkpoints: null, artifacts: null, logs: null });
    expect(FIXTURE_INPUTS.lab.dataLake).not.toHaveProperty('intelligentTieringAfterDays');
    expect(tiering('lab')).toEqual({ raw: null, curated: null, checkpoints: null, artifacts: null, logs: null });
  });
});
