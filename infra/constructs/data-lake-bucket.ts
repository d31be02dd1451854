import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketLoggingA as S3BucketLogging } from '@cdktf/provider-aws/lib/s3-bucket-logging';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA as S3BucketServerSideEncryptionConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3BucketVersioningA as S3BucketVersioning } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import { Construct } from 'constructs';
import { policyDocument, type PolicyStatement } from './policy-document';

/** Props of a data lake bucket. */
export interface DataLakeBucketProps {
  /** Bucket name, from environments/naming.ts. */
  readonly bucketName: string;
  /** KMS key for SSE-KMS with a bucket key; undefined means SSE-S3, which only a server-access-log target may use. */
  readonly kmsKeyArn: string | undefined;
  /** Keep the bucket when the stack is destroyed (prevent_destroy, no force_destroy). @default true */
  readonly retain?: boolean;
  /** Bucket that receives this bucket's server access logs; undefined only for that log bucket itself. */
  readonly accessLogBucket: string | undefined;
  /** Days after which noncurrent object versions expire. */
  readonly noncurrentVersionDays: number;
  /** Move objects to S3 Intelligent-Tiering after this many days. @default never */
  readonly intelligentTieringAfterDays?: number;
  /** Delete current objects after this many days. @default never */
  readonly expireAfterDays?: number;
  /** Bucket policy statements in addition to the TLS-only deny. @default none */
  readonly extraPolicyStatements?: readonly PolicyStatement[];
}

/**
 * An S3 bucket with every control the data lake requires: versioning, default encryption, all four
 * public-access blocks, bucket-owner-enforced ownership (no ACLs), a policy denying non-TLS access,
 * lifecycle rules and server access logging.
 */
export class DataLakeBucket extends Construct {
  /** The bucket. */
  readonly bucket: S3Bucket;
  /** Its policy (the TLS-only deny and any extra statements). */
  readonly policy: S3BucketPolicy;
  /** Its server access logging, where it has a log bucket. */
  readonly accessLogging: S3BucketLogging | undefined;

  constructor(scope: Construct, id: string, props: DataLakeBucketProps) {
    super(scope, id);
    const retain = props.retain ?? true;
    const arn = `arn:aws:s3:::${props.bucketName}`;

    this.bucket = new S3Bucket(this, 'bucket', {
      bucket: props.bucketName,
      forceDestroy: !retain,
      lifecycle: { preventDestroy: retain },
    });
    const bucket = this.bucket.id;

    new S3BucketVersioning(this, 'versioning', { bucket, versioningConfiguration: { status: 'Enabled' } });
    new S3BucketServerSideEncryptionConfiguration(this, 'encryption', {
      bucket,
      rule: [
        props.kmsKeyArn === undefined
          ? { applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }
          : { applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: props.kmsKeyArn }, bucketKeyEnabled: true },
      ],
    });
    const publicAccess = new S3BucketPublicAccessBlock(this, 'public-access', {
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, 'ownership', { bucket, rule: { objectOwnership: 'BucketOwnerEnforced' } });
    this.policy = new S3BucketPolicy(this, 'policy', {
      bucket,
      policy: policyDocument([
        {
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: [arn, `${arn}/*`],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
        ...(props.extraPolicyStatements ?? []),
      ]),
      // S3 rejects a policy put while the public access block is being changed.
      dependsOn: [publicAccess],
    });
    new S3BucketLifecycleConfiguration(this, 'lifecycle', {
      bucket,
      rule: [
        { id: 'abort-incomplete-uploads', status: 'Enabled', filter: [{}], abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }] },
        {
          id: 'expire-noncurrent-versions',
          status: 'Enabled',
          filter: [{}],
          noncurrentVersionExpiration: [{ noncurrentDays: props.noncurrentVersionDays }],
          expiration: [{ expiredObjectDeleteMarker: true }],
        },
        ...(props.intelligentTieringAfterDays === undefined
          ? []
          : [{ id: 'intelligent-tiering', status: 'Enabled', filter: [{}], transition: [{ days: props.intelligentTieringAfterDays, storageClass: 'INTELLIGENT_TIERING' }] }]),
        ...(props.expireAfterDays === undefined
          ? []
          : [{ id: 'expire-objects', status: 'Enabled', filter: [{}], expiration: [{ days: props.expireAfterDays }] }]),
      ],
    });
    this.accessLogging =
      props.accessLogBucket === undefined
        ? undefined
        : new S3BucketLogging(this, 'access-logging', {
            bucket,
            targetBucket: props.accessLogBucket,
            targetPrefix: `${props.bucketName}/`,
          });
  }
}
