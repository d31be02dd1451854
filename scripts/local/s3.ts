/**
 * The local S3 API: moto's server, from the pinned Python packages, holding the environment's buckets with the same
 * default encryption as in AWS (SSE-KMS with the environment's data key, by its alias). moto runs as the environment's
 * account (MOTO_ACCOUNT_ID), so bucket names, key ARNs and `ExpectedBucketOwner` checks are the ones AWS sees; only the
 * endpoint and the credentials differ. moto keeps everything in memory: `local down` discards the S3 data.
 */
import { CreateBucketCommand, PutBucketEncryptionCommand, PutObjectCommand, PutBucketVersioningCommand, S3Client, type BucketLocationConstraint } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import { BUCKETS, bucketName, dataKeyAlias, SPARK_EVENT_LOG_PREFIX } from '../../environments/naming';
import type { Environment } from '../../environments/schema';
import { startDetached, waitUntil } from './processes';

/** moto accepts any credentials; these are the conventional ones, passed to every client. */
export const LOCAL_AWS_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

/** Starts moto's server on 127.0.0.1:`port` as the environment's account; resolves when it answers. */
export async function startS3(options: { readonly python: string; readonly dir: string; readonly port: number; readonly env: Environment }): Promise<number> {
  const logFile = join(options.dir, 's3.log');
  const pid = startDetached(options.python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(options.port)], {
    cwd: options.dir,
    logFile,
    env: { ...process.env, MOTO_ACCOUNT_ID: options.env.aws.accountId, AWS_DEFAULT_REGION: options.env.aws.region },
  });
  await waitUntil('the S3 emulator (moto)', () => s3Healthy(options.port), { pid, logFile, timeoutMs: 60_000 });
  return pid;
}

/** Whether moto answers on `port`. */
export async function s3Healthy(port: number): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${port}/moto-api/`, { signal: AbortSignal.timeout(2_000) });
  return response.ok;
}

/** An S3 client for the local endpoint. */
export function localS3Client(env: Environment, port: number): S3Client {
  return new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: env.aws.region, forcePathStyle: true, credentials: LOCAL_AWS_CREDENTIALS });
}

/**
 * Creates the data key with its alias and every bucket of the environment, encrypted with that key by default. Unlike
 * in AWS the buckets are not versioned: moto 5.2.5 lists a deleted key's folder as a common prefix while its delete
 * marker remains, which breaks every Hadoop job that writes a folder a second time (its committer finds the previous
 * run's deleted `_temporary` task folders).
 */
export async function createBuckets(env: Environment, port: number): Promise<void> {
  const keyId = ((await kms(env, port, 'CreateKey', { Description: `${dataKeyAlias(env.name)} (local)` })) as { KeyMetadata: { KeyId: string } }).KeyMetadata.KeyId;
  await kms(env, port, 'CreateAlias', { AliasName: dataKeyAlias(env.name), TargetKeyId: keyId });
  const client = localS3Client(env, port);
  try {
    for (const purpose of BUCKETS) {
      const Bucket = bucketName(env, purpose);
      const location = env.aws.region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: env.aws.region as BucketLocationConstraint } };
      await client.send(new CreateBucketCommand({ Bucket, ...location }));
      await client.send(
        new PutBucketEncryptionCommand({
          Bucket,
          ServerSideEncryptionConfiguration: {
            // As in the data-lake stack: access logging needs SSE-S3 on the logs bucket; Spark's writes there still use the key.
            Rules: [
              purpose === 'logs'
                ? { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }
                : { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: dataKeyArn(env) }, BucketKeyEnabled: true },
            ],
          },
        }),
      );
    }
    // The event log folder marker of the data-lake stack (infra/stacks/data-lake-stack.ts): Spark needs the folder to exist.
    await client.send(
      new PutObjectCommand({ Bucket: bucketName(env, 'logs'), Key: SPARK_EVENT_LOG_PREFIX, Body: '', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: dataKeyArn(env) }),
    );
  } finally {
    client.destroy();
  }
}

/** The data key's ARN by alias, as the manifests name it. */
export const dataKeyArn = (env: Environment): string => `arn:aws:kms:${env.aws.region}:${env.aws.accountId}:${dataKeyAlias(env.name)}`;

/** One KMS JSON call. moto does not check signatures, only which service the credential scope names. */
async function kms(env: Environment, port: number, action: string, body: object): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${port}/`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': `TrentService.${action}`,
      Authorization: `AWS4-HMAC-SHA256 Credential=${LOCAL_AWS_CREDENTIALS.accessKeyId}/20260101/${env.aws.region}/kms/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`KMS ${action} on the local emulator failed: HTTP ${response.status} ${text.slice(0, 200)}`);
  return text === '' ? {} : JSON.parse(text);
}
