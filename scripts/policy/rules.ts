/** Every rule of the policy gate, in the order the report lists them. `npm run validate` and the tests run these. */
import { ACCESS_RULES } from './access-rules';
import { ARGOCD_RULES } from './argocd-rules';
import { BOOTSTRAP_RULES } from './bootstrap-rules';
import { CONTAINER_RULES } from './container-rules';
import { DATA_RETENTION_RULES } from './data-retention-rules';
import { ECR_RULES } from './ecr-rules';
import { EKS_RULES } from './eks-rules';
import { HDFS_ENVIRONMENT_RULES, HDFS_RULES } from './hdfs-rules';
import { HOST_ACCESS_RULES } from './host-access-rules';
import { IAM_RULES } from './iam-rules';
import { KAFKA_RULES } from './kafka-rules';
import { KARPENTER_AWS_RULES } from './karpenter-aws-rules';
import { KARPENTER_RULES } from './karpenter-rules';
import { KMS_RULES } from './kms-rules';
import { METADATA_RULES } from './metadata-rules';
import { NAMESPACE_RULES } from './namespace-rules';
import { NODE_RULES } from './node-rules';
import { PLACEMENT_RULES } from './placement-rules';
import type { Rule } from './rule';
import { S3_RULES } from './s3-rules';
import { SPARK_RULES } from './spark-rules';
import { SQS_RULES } from './sqs-rules';
import { STORAGE_RULES } from './storage-rules';
import { TAG_RULES } from './tag-rules';
import { VPC_RULES } from './vpc-rules';

/** The rules over Terraform resources, manifests and whole environments. */
export const RULES: readonly Rule[] = [
  ...S3_RULES,
  ...KMS_RULES,
  ...DATA_RETENTION_RULES,
  ...ECR_RULES,
  ...EKS_RULES,
  ...NODE_RULES,
  ...VPC_RULES,
  ...IAM_RULES,
  ...KARPENTER_AWS_RULES,
  ...SQS_RULES,
  ...TAG_RULES,
  ...BOOTSTRAP_RULES,
  ...CONTAINER_RULES,
  ...HOST_ACCESS_RULES,
  ...SPARK_RULES,
  ...KARPENTER_RULES,
  ...PLACEMENT_RULES,
  ...METADATA_RULES,
  ...NAMESPACE_RULES,
  ...STORAGE_RULES,
  ...KAFKA_RULES,
  ...HDFS_RULES,
  ...HDFS_ENVIRONMENT_RULES,
  ...ARGOCD_RULES,
  ...ACCESS_RULES,
];
