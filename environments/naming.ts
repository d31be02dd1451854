/**
 * Every name that both the Terraform side (infra/) and the Kubernetes side (k8s/) use.
 * Pure functions of typed data: neither side ever copies a Terraform output into a manifest.
 * Changing a function here renames real resources (and replaces them): treat the output as a contract.
 */
import type { Environment, EnvironmentName } from './schema';

/** Prefix of every AWS name, so that resources of this platform are recognisable in a shared account. */
export const PROJECT = 'driftless';

/** The Terraform stacks of an environment, in the order they are applied. */
export const STACKS = ['network', 'data-lake', 'cluster', 'bootstrap'] as const;
export type StackKind = (typeof STACKS)[number];

/** The buckets of the data lake. */
export const BUCKETS = ['raw', 'curated', 'checkpoints', 'artifacts', 'logs'] as const;
export type BucketPurpose = (typeof BUCKETS)[number];

/** Kubernetes namespaces of the platform's components. */
export const NAMESPACES = {
  argocd: 'argocd',
  kafka: 'kafka',
  hdfs: 'hdfs',
  sparkOperator: 'spark-operator',
  monitoring: 'monitoring',
  pipelines: 'pipelines',
} as const;

/** The components rendered under `k8s/rendered/<env>/`, each one folder that Argo CD syncs. */
export const RENDERED_COMPONENTS = ['apps', 'platform', 'kafka', 'hdfs', 'monitoring', 'pipelines'] as const;
export type RenderedComponent = (typeof RENDERED_COMPONENTS)[number];

type Scope = Pick<Environment, 'name' | 'aws'>;

/** `<env>-<stack>`, the cdktf stack id and the folder under `cdktf.out/stacks/`. */
export const stackName = (env: EnvironmentName, stack: StackKind): string => `${env}-${stack}`;

/** Globally unique S3 bucket name: account and region make it collision-free across installations. */
export const bucketName = (env: Scope, purpose: BucketPurpose): string =>
  `${PROJECT}-${env.name}-${purpose}-${env.aws.accountId}-${env.aws.region}`;

/** The EKS cluster of an environment. */
export const clusterName = (env: EnvironmentName): string => `${PROJECT}-${env}`;

/** Alias of the customer-managed KMS key that encrypts the data lake. */
export const dataKeyAlias = (env: EnvironmentName): string => `alias/${PROJECT}-${env}-data`;

/** IAM role of a platform workload or pipeline (bound to a service account by EKS Pod Identity). */
export const workloadRoleName = (env: EnvironmentName, workload: string): string => `${PROJECT}-${env}-${workload}`;

/** Service account a pipeline's Spark driver and executors run as, in NAMESPACES.pipelines. */
export const pipelineServiceAccount = (pipeline: string): string => `spark-${pipeline}`;

/** IAM role of a pipeline. */
export const pipelineRoleName = (env: EnvironmentName, pipeline: string): string =>
  workloadRoleName(env, `pipeline-${pipeline}`);

/** Topic that receives the records a pipeline rejects from `topic`, with the reason. */
export const deadLetterTopic = (topic: string): string => `${topic}.dlq`;

/** Where the Kubernetes manifests are rendered and committed, relative to the repository root. */
export const RENDERED_ROOT = 'k8s/rendered';

/** Folder of a rendered component, relative to the repository root; Argo CD Applications point here. */
export const renderedPath = (env: EnvironmentName, component: RenderedComponent): string =>
  `${RENDERED_ROOT}/${env}/${component}`;
