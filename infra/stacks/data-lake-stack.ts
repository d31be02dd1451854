import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { S3Object } from '@cdktf/provider-aws/lib/s3-object';
import { dependable } from 'cdktf';
import type { Construct } from 'constructs';
import { bucketName, BUCKETS, dataKeyAlias, PROJECT, SPARK_EVENT_LOG_PREFIX } from '../../environments/naming';
import type { Environment } from '../../environments/schema';
import { DataLakeBucket } from '../constructs/data-lake-bucket';
import { EnvironmentStack } from '../constructs/environment-stack';
import { suppressPolicy } from '../constructs/policy-suppression';

/**
 * `<env>-data-lake`: the customer-managed key and the five buckets. Every bucket logs its access to the
 * logs bucket. The logs bucket itself is encrypted with SSE-S3, because S3 server access logging can only
 * deliver to a bucket whose default encryption is SSE-S3; Spark still writes its event logs there with
 * SSE-KMS per object (see the Spark defaults on the Kubernetes side).
 */
export class DataLakeStack extends EnvironmentStack {
  /** The key every data bucket of the environment is encrypted with. */
  readonly dataKey: KmsKey;
  /** The buckets, by purpose. */
  readonly buckets: ReadonlyMap<(typeof BUCKETS)[number], DataLakeBucket>;

  constructor(scope: Construct, env: Environment) {
    super(scope, { env, kind: 'data-lake' });
    this.dataKey = new KmsKey(this, 'data-key', {
      description: `Encrypts the ${env.name} data lake`,
      enableKeyRotation: true,
      // The longest window: a key deleted by mistake can be recovered for a month.
      deletionWindowInDays: 30,
      lifecycle: { preventDestroy: env.retainData },
    });
    new KmsAlias(this, 'data-key-alias', { name: dataKeyAlias(env.name), targetKeyId: this.dataKey.keyId });

    const logs = bucketName(env, 'logs');
    const buckets = new Map<(typeof BUCKETS)[number], DataLakeBucket>();
    for (const purpose of BUCKETS) {
      const isLogBucket = purpose === 'logs';
      buckets.set(
        purpose,
        new DataLakeBucket(this, purpose, {
          bucketName: bucketName(env, purpose),
          kmsKeyArn: isLogBucket ? undefined : this.dataKey.arn,
          retain: env.retainData,
          accessLogBucket: isLogBucket ? undefined : logs,
          noncurrentVersionDays: env.dataLake.noncurrentVersionDays,
          intelligentTieringAfterDays: purpose === 'raw' || purpose === 'curated' ? env.dataLake.intelligentTieringAfterDays : undefined,
          expireAfterDays: isLogBucket ? env.dataLake.logRetentionDays : undefined,
          extraPolicyStatements: isLogBucket
            ? [
                {
                  Sid: 'AllowServerAccessLogsFromThisEnvironment',
                  Effect: 'Allow',
                  Principal: { Service: 'logging.s3.amazonaws.com' },
                  Action: 's3:PutObject',
                  Resource: `arn:aws:s3:::${logs}/*`,
                  Condition: {
                    StringEquals: { 'aws:SourceAccount': env.aws.accountId },
                    ArnLike: { 'aws:SourceArn': `arn:aws:s3:::${PROJECT}-${env.name}-*` },
                  },
                },
              ]
            : [],
        }),
      );
    }
    // Access logs reach the logs bucket only once its policy lets S3's logging service write there (ACLs are off):
    // turn logging on after that policy exists. Found on the AWS API emulator, which checks this and refused the
    // logging configurations that raced ahead of the policy.
    const logsPolicy = buckets.get('logs')!.policy;
    for (const bucket of buckets.values()) if (bucket.accessLogging) bucket.accessLogging.dependsOn = [dependable(logsPolicy)];
    suppressPolicy(
      buckets.get('logs')!.bucket,
      {
        id: 'DL-S3-002',
        reason: 'S3 server access logging delivers only to a bucket whose default encryption is SSE-S3, so the logs bucket cannot default to SSE-KMS; Spark writes its event logs there with SSE-KMS per object.',
      },
      {
        id: 'DL-S3-005',
        reason: 'This is the bucket that receives the server access logs of the others; logging its own access into itself would log every log delivery again, without end.',
      },
    );
    // Spark refuses to start when its event log folder does not exist, and an S3 prefix exists only once an object
    // is under it: this empty folder marker (the S3 console's own convention) lets the first application start.
    new S3Object(this, 'spark-event-log-folder', {
      bucket: buckets.get('logs')!.bucket.id,
      key: SPARK_EVENT_LOG_PREFIX,
      content: '',
      serverSideEncryption: 'aws:kms',
      kmsKeyId: this.dataKey.arn,
    });
    this.buckets = buckets;
  }
}
