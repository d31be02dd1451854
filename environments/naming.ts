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
  externalSecrets: 'external-secrets',
  stackableOperators: 'stackable-operators',
  nodeExporter: 'monitoring-node',
  karpenter: 'karpenter',
} as const;

/** A Kubernetes service account: what an EKS Pod Identity association binds an IAM role to. */
export interface ServiceAccountRef {
  readonly namespace: string;
  readonly name: string;
}

/** Service accounts of platform workloads that call AWS APIs, each with a role of its own. */
export const PLATFORM_SERVICE_ACCOUNTS = {
  vpcCni: { namespace: 'kube-system', name: 'aws-node' },
  ebsCsiController: { namespace: 'kube-system', name: 'ebs-csi-controller-sa' },
  externalSecrets: { namespace: NAMESPACES.externalSecrets, name: 'external-secrets' },
  sparkHistoryServer: { namespace: NAMESPACES.sparkOperator, name: 'spark-history-server' },
  karpenter: { namespace: NAMESPACES.karpenter, name: 'karpenter' },
} as const satisfies Record<string, ServiceAccountRef>;

/** The components rendered under `k8s/rendered/<env>/`, each one folder that Argo CD syncs. */
export const RENDERED_COMPONENTS = ['apps', 'platform', 'kafka', 'hdfs', 'spark', 'monitoring', 'pipelines'] as const;
export type RenderedComponent = (typeof RENDERED_COMPONENTS)[number];

// What a globally unique name needs of an environment: its name, account and region.
type Scope = Pick<Environment, 'name'> & { readonly aws: Pick<Environment['aws'], 'accountId' | 'region'> };

/** `<env>-<stack>`, the cdktf stack id and the folder under `cdktf.out/stacks/`. */
export const stackName = (env: EnvironmentName, stack: StackKind): string => `${env}-${stack}`;

/**
 * The environment and stack of a `<env>-<stack>` name, or undefined when it names none. Environment names may
 * hold dashes, so the environment is what precedes a known stack suffix.
 */
export function parseStackName(name: string): { env: EnvironmentName; stack: StackKind } | undefined {
  const stack = STACKS.find((kind) => name.endsWith(`-${kind}`) && name.length > kind.length + 1);
  return stack === undefined ? undefined : { env: name.slice(0, -`-${stack}`.length), stack };
}

/** Globally unique S3 bucket name: account and region make it collision-free across installations. */
export const bucketName = (env: Scope, purpose: BucketPurpose): string =>
  `${PROJECT}-${env.name}-${purpose}-${env.aws.accountId}-${env.aws.region}`;

/** The VPC of an environment (its Name tag, by which the cluster stack finds it). */
export const vpcName = (env: EnvironmentName): string => `${PROJECT}-${env}`;

/** Tag that marks a subnet `public` or `private`, by which the cluster stack finds its subnets. */
export const SUBNET_TIER_TAG = `${PROJECT}.io/subnet-tier`;

/** The EKS cluster of an environment. */
export const clusterName = (env: EnvironmentName): string => `${PROJECT}-${env}`;

/**
 * Taint of the managed node groups, which run only the system workloads (the EKS add-ons, Argo CD and Karpenter):
 * everything else waits for the nodes Karpenter launches. AWS's add-ons and Karpenter's chart tolerate it already.
 */
export const SYSTEM_NODE_TAINT = { key: 'CriticalAddonsOnly', value: 'true', effect: 'NoSchedule' } as const;

/** Alias of the customer-managed KMS key that encrypts the data lake. */
export const dataKeyAlias = (env: EnvironmentName): string => `alias/${PROJECT}-${env}-data`;

/** IAM role of a platform workload or pipeline (bound to a service account by EKS Pod Identity). */
export const workloadRoleName = (env: EnvironmentName, workload: string): string => `${PROJECT}-${env}-${workload}`;

/** Service account a pipeline's Spark driver and executors run as, in NAMESPACES.pipelines. */
export const pipelineServiceAccount = (pipeline: string): string => `spark-${pipeline}`;

/** Secrets Manager names of an environment all start with this; External Secrets may read nothing else. */
export const secretsPrefix = (env: EnvironmentName): string => `${PROJECT}/${env}/`;

/** The ECR repository of the environment's pipeline image (pipelines/runtime/Dockerfile). */
export const pipelineImageRepository = (env: EnvironmentName): string => `${PROJECT}-${env}/spark`;

/** The Strimzi Kafka cluster of every environment (in NAMESPACES.kafka). */
export const KAFKA_CLUSTER = 'events';

/** Bootstrap address of the Kafka TLS listener, for clients inside the cluster. */
export const kafkaBootstrap = (): string => `${KAFKA_CLUSTER}-kafka-bootstrap.${NAMESPACES.kafka}.svc:9093`;

/** The Stackable HDFS cluster of every environment (in NAMESPACES.hdfs). */
export const HDFS_CLUSTER = 'lake';

/** Where a pipeline's job code is published, in the artifacts bucket. */
export const artifactsPrefix = (pipeline: string): string => `pipelines/${pipeline}/`;

/** Where one version of a pipeline's job code lives in the artifacts bucket: published once, referenced by manifests. */
export const jobCodePrefix = (pipeline: string, codeHash: string): string => `${artifactsPrefix(pipeline)}${codeHash}/`;

/**
 * Where a streaming pipeline keeps its checkpoint (Kafka offsets, state), in HDFS: Spark commits a checkpoint by
 * renaming a file, which HDFS does atomically and S3 does not (a copy, then a delete).
 */
export const checkpointPath = (pipeline: string): string => `/${PROJECT}/checkpoints/${pipeline}`;

/**
 * The HDFS user of every pipeline (the Spark image's user, uid 185): what the pipelines write in HDFS is owned by it,
 * and the platform creates their directories for it (see k8s/charts/hdfs-chart.ts).
 */
export const PIPELINE_HDFS_USER = 'spark';

/** Prefix of the logs bucket where every Spark application writes its event log for the History Server. */
export const SPARK_EVENT_LOG_PREFIX = 'spark-events/';

/** Key of a stack's state object in the environment's state bucket. */
export const stateKey = (env: EnvironmentName, stack: StackKind): string => `${PROJECT}/${stackName(env, stack)}.tfstate`;

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

/**
 * Tag (value: the cluster's name) by which Karpenter finds the subnets and security groups of the nodes it launches;
 * the network stack sets it on the private subnets, the cluster stack on the nodes' security group.
 */
export const KARPENTER_DISCOVERY_TAG = 'karpenter.sh/discovery';

/** IAM role of the nodes Karpenter launches (an EKS access entry of type EC2_LINUX lets them join). */
export const karpenterNodeRoleName = (env: EnvironmentName): string => workloadRoleName(env, 'karpenter-node');

/** SQS queue that EventBridge fills with spot interruptions, rebalances and instance state changes for Karpenter. */
export const karpenterInterruptionQueueName = (env: EnvironmentName): string => `${PROJECT}-${env}-karpenter`;

/** Karpenter's NodePools, the label every node of one carries (Karpenter's own), and the taint of interruptible nodes. */
export const NODE_POOLS = { executors: 'spark-executors', stable: 'stable' } as const;
export const NODE_POOL_LABEL = 'karpenter.sh/nodepool';
export const INTERRUPTIBLE_TAINT = { key: `${PROJECT}.io/interruptible`, value: 'true', effect: 'NoSchedule' } as const;
