import { bucketName } from '../../environments/naming';
import type { Environment } from '../../environments/schema';
import type { BucketPrefix, StorageAccess } from '../../pipelines/storage-access';
import type { PolicyStatement } from './policy-document';

/**
 * IAM statements that grant exactly `access` and nothing more: listing only under the granted prefixes,
 * reading objects under every granted prefix, writing and deleting (S3A commits by copy and delete) only
 * under the write prefixes, and using the data key only through S3.
 */
export function storageStatements(env: Environment, access: StorageAccess, dataKeyArn: string): PolicyStatement[] {
  const all = [...access.read, ...access.write];
  const objects = (grants: readonly BucketPrefix[]) => unique(grants.map((g) => `arn:aws:s3:::${bucketName(env, g.bucket)}/${g.prefix}*`));
  const buckets = unique(all.map((g) => g.bucket));
  const statements: PolicyStatement[] = buckets.map((bucket) => ({
    Sid: `List${pascal(bucket)}Prefixes`,
    Effect: 'Allow',
    Action: ['s3:ListBucket'],
    Resource: `arn:aws:s3:::${bucketName(env, bucket)}`,
    Condition: { StringLike: { 's3:prefix': unique(all.filter((g) => g.bucket === bucket).flatMap((g) => [g.prefix, `${g.prefix}*`])) } },
  }));
  // GetBucketLocation carries no s3:prefix, so it cannot share the listing statement's condition.
  statements.push({ Sid: 'LocateBuckets', Effect: 'Allow', Action: ['s3:GetBucketLocation'], Resource: buckets.map((b) => `arn:aws:s3:::${bucketName(env, b)}`) });
  // S3A probes a directory by reading the key without its trailing slash before listing under it.
  const markers = unique(all.map((g) => `arn:aws:s3:::${bucketName(env, g.bucket)}/${g.prefix.replace(/\/$/, '')}`));
  statements.push({ Sid: 'ReadObjects', Effect: 'Allow', Action: ['s3:GetObject'], Resource: [...objects(all), ...markers] });
  if (access.write.length > 0) {
    statements.push({
      Sid: 'WriteObjects',
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      Resource: objects(access.write),
    });
  }
  statements.push({
    Sid: 'UseDataKeyThroughS3',
    Effect: 'Allow',
    Action: access.write.length > 0 ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'],
    Resource: dataKeyArn,
    Condition: { StringEquals: { 'kms:ViaService': `s3.${env.aws.region}.amazonaws.com` } },
  });
  return statements;
}

const unique = <T>(values: readonly T[]): T[] => [...new Set(values)];
const pascal = (text: string) => text.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
