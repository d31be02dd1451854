import { z } from 'zod';
import { parseIpv4Cidr } from './cidr';

/**
 * The name of an environment, which is also its file (`environments/<name>.ts`). It becomes part of bucket,
 * IAM role, cluster and Kubernetes names, whose length limits leave it 12 characters (see ENVIRONMENT_NAME).
 */
export type EnvironmentName = string;

/** What an environment name must look like, and why. */
export const ENVIRONMENT_NAME = {
  pattern: /^[a-z]([a-z0-9-]{0,10}[a-z0-9])?$/,
  rule: 'must be 1-12 lower-case letters, digits and dashes, starting with a letter and not ending with a dash (it becomes part of bucket, IAM role and cluster names)',
} as const;

/** EKS versions whose add-on versions and manifest schemas this blueprint pins. */
export const SUPPORTED_EKS_VERSIONS = ['1.34'] as const;

const whole = (min: number, max?: number) => {
  const atLeast = z.number().int('must be a whole number').min(min, `must be at least ${min}`);
  return max === undefined ? atLeast : atLeast.max(max, `must be at most ${max}`);
};

const text = (pattern: RegExp, rule: string) => z.string().regex(pattern, rule);

/** The retention periods CloudWatch Logs accepts, in days; any other value fails at apply time. */
export const CLOUDWATCH_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
const logRetention = () =>
  z.number().refine((days) => (CLOUDWATCH_RETENTION_DAYS as readonly number[]).includes(days), `must be a retention CloudWatch Logs offers (${CLOUDWATCH_RETENTION_DAYS.join(', ')} days)`);

const cidr = (minPrefix: number, maxPrefix: number) =>
  z.string().superRefine((value, ctx) => {
    const parsed = parseIpv4Cidr(value);
    if ('error' in parsed) {
      ctx.addIssue({ code: 'custom', message: parsed.error });
    } else if (parsed.prefixLength < minPrefix || parsed.prefixLength > maxPrefix) {
      ctx.addIssue({ code: 'custom', message: `must have a prefix length between /${minPrefix} and /${maxPrefix}` });
    }
  });

// AWS tag values: letters, digits, spaces and _.:/=+-@, at most 256 characters.
const tagValue = text(/^[A-Za-z0-9 _.:/=+@-]{1,256}$/, 'must be 1-256 characters of letters, digits, spaces and _.:/=+-@');

// RFC 1123 labels; a last label that starts with a letter keeps IP addresses out.
const hostname = text(
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/,
  'must be a DNS hostname such as argocd.example.com: dot-separated labels of lower-case letters, digits and dashes (each 1-63 characters, not starting or ending with a dash), at most 253 characters, without scheme, port or path',
);

// IAM role ARNs; the account is checked against aws.accountId in rules.ts.
const roleArn = text(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'must be an IAM role ARN such as arn:aws:iam::111111111111:role/platform-admin');

const bucket = text(
  /^(?!xn--)(?!.*\.\.)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
  'must be an S3 bucket name: 3-63 lower-case letters, digits, dots and dashes, not shaped like an IP address',
);

const NodeGroup = z.strictObject({
  name: text(/^[a-z][a-z0-9-]{0,30}$/, 'must be lower-case letters, digits and dashes, starting with a letter, at most 31 characters'),
  instanceTypes: z.array(text(/^[a-z0-9-]+\.[a-z0-9]+$/, 'must be an EC2 instance type such as m7i.xlarge'))
    .min(1, 'must list at least one instance type'),
  capacityType: z.enum(['ON_DEMAND', 'SPOT']),
  minSize: whole(0),
  desiredSize: whole(0),
  maxSize: whole(1),
  diskSizeGiB: whole(20, 16384),
});

/** EC2 capacity Karpenter may buy: spot (cheaper, reclaimed at two minutes' notice) or on-demand. */
export const CAPACITY_TYPES = ['spot', 'on-demand'] as const;
const Capacity = z.enum(CAPACITY_TYPES);

// A Karpenter NodePool's share of the environment: which instance families it may launch and how much in total.
const NodePool = z.strictObject({
  // EC2 instance categories (c: compute, m: general purpose, r: memory); Karpenter picks sizes and generations.
  instanceCategories: z.array(z.enum(['c', 'm', 'r'])).min(1, 'must list at least one instance category (c, m or r)'),
  // Total vCPUs and memory of the pool's nodes: what an environment may cost at most.
  cpuLimit: whole(1, 100000),
  memoryLimitGiB: whole(1, 1000000),
});

const Receiver = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('pagerduty') }),
    z.strictObject({ type: z.literal('slack'), channel: text(/^#[a-z0-9_-]{1,80}$/, 'must be a Slack channel such as #data-alerts') }),
  ],
  { error: "must be { type: 'pagerduty' } or { type: 'slack', channel: '#...' }" },
);

/**
 * One environment, as written in `environments/<name>.ts`. Field-level rules live here;
 * rules that relate several fields live in `rules.ts` so that every problem is reported at once.
 */
export const Environment = z.strictObject({
  name: text(ENVIRONMENT_NAME.pattern, ENVIRONMENT_NAME.rule),
  // The environment deployed before this one: a change reaches it only after that one deployed it. Absent: first in line.
  follows: text(ENVIRONMENT_NAME.pattern, ENVIRONMENT_NAME.rule).optional(),
  // Holds real data and serves real users: the rules then require data retention and redundancy (rules.ts).
  production: z.boolean(),
  aws: z.strictObject({
    accountId: text(/^\d{12}$/, 'must be a 12-digit AWS account id'),
    region: text(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, 'must be an AWS region such as eu-central-1'),
    // Absent: Terraform keeps state in local files (fine for a first try, not for a team).
    stateBucket: bucket.optional(),
    // The role the delivery workflow deploys as (the AWS_DEPLOY_ROLE secret of its GitHub environment): the only
    // principal that may push the pipeline image to the environment's registry.
    deployRoleArn: roleArn,
  }),
  network: z.strictObject({
    vpcCidr: cidr(16, 24),
    azCount: whole(1, 6),
    natGateways: whole(1, 6),
    interfaceEndpoints: z.boolean(),
    flowLogRetentionDays: logRetention(),
  }),
  cluster: z.strictObject({
    kubernetesVersion: z.enum(SUPPORTED_EKS_VERSIONS),
    privateEndpoint: z.boolean(),
    publicAccessCidrs: z.array(cidr(0, 32)),
    // The managed node groups run the system workloads only: the EKS add-ons, Argo CD and Karpenter.
    nodeGroups: z.array(NodeGroup).min(1, 'must define at least one node group'),
    // Karpenter's NodePools: everything else runs on nodes they launch when pods need them.
    nodePools: z.strictObject({
      // Spark executors that tolerate interruption: spot first, on-demand when spot has none (list both), consolidated.
      // Listing 'on-demand' alone is allowed: executors asked to run on 'spot' then run on this pool's on-demand nodes.
      executors: NodePool.extend({ capacityTypes: z.array(Capacity).min(1, "must list 'spot', 'on-demand' or both") }),
      // On-demand only, never consolidated while in use: drivers, streams, Kafka, HDFS, ZooKeeper, operators, monitoring.
      stable: NodePool,
    }),
    adminRoleArns: z.array(roleArn)
      .min(1, 'must name at least one IAM role that administers the cluster (e.g. the deploy role)'),
    logRetentionDays: logRetention(),
  }),
  dataLake: z.strictObject({
    noncurrentVersionDays: whole(1, 3650),
    intelligentTieringAfterDays: whole(0, 3650).optional(),
    logRetentionDays: whole(1, 3653),
  }),
  kafka: z.strictObject({
    brokers: whole(1, 99),
    brokerCpus: whole(1, 64),
    brokerMemoryGiB: whole(1, 512),
    controllers: whole(0, 9),
    brokerStorageGiB: whole(1, 65536),
    controllerStorageGiB: whole(1, 65536),
    defaultReplicationFactor: whole(1, 9),
    minInSyncReplicas: whole(1, 9),
    retentionHours: whole(1, 87600),
    // Partitions of a pipeline topic unless the pipeline sets its own for this environment.
    topicPartitions: whole(1, 1000),
  }),
  hdfs: z.strictObject({
    namenodes: whole(1, 2),
    journalnodes: whole(1, 9),
    datanodes: whole(1, 999),
    dfsReplication: whole(1, 9),
    namenodeStorageGiB: whole(1, 65536),
    datanodeStorageGiB: whole(1, 65536),
    datanodeCpus: whole(1, 64),
    datanodeMemoryGiB: whole(1, 512),
  }),
  spark: z.strictObject({
    driverCores: whole(1, 64),
    driverMemoryMiB: whole(512, 262144),
    executorInstances: whole(1, 1000),
    executorCores: whole(1, 64),
    executorMemoryMiB: whole(512, 262144),
    // Where executors run: 'spot' on the executors NodePool (a lost executor's tasks are re-run), 'on-demand' on the stable one.
    // 'spot' means the executors pool, whose capacityTypes decide what it buys: with 'on-demand' alone, on-demand nodes.
    // Both pools' limits must hold what runs on them (k8s/node-pool-capacity.ts, checked by `npm run synth`).
    executorCapacity: Capacity,
    // Tasks of every shuffle (joins, aggregations). A stream's stateful operators keep the number of its first start
    // in the checkpoint for good: a later change applies to batch pipelines and to new streams only.
    shufflePartitions: whole(1, 100000),
  }),
  monitoring: z.strictObject({
    retentionDays: whole(1, 3650),
    prometheusStorageGiB: whole(1, 65536),
    // Records a consumer group may fall behind before someone is told.
    consumerLagThreshold: whole(1, 1_000_000_000),
    // Where alerts of each severity go; credentials come from Secrets Manager, never from Git.
    alertReceivers: z.strictObject({ critical: Receiver, warning: Receiver }),
    // A service that pages when the always-firing Watchdog alert stops arriving, i.e. when alerting itself is broken;
    // its URL comes from Secrets Manager too. Absent: Watchdog goes to no receiver.
    deadMansSwitch: z.strictObject({ type: z.literal('webhook') }).optional(),
  }),
  retainData: z.boolean(),
  gitops: z.strictObject({
    repoUrl: text(/^(https:\/\/|ssh:\/\/|git@)[^\s]+$/, 'must be a Git URL starting with https://, ssh:// or git@'),
    revision: text(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$/, 'must be a branch, tag or commit without spaces'),
    // Where people reach Argo CD: its own links, SSO callbacks and any ingress or certificate use it.
    argoCdHostname: hostname,
  }),
  tags: z.strictObject({
    owner: tagValue,
    costCentre: tagValue,
  }),
});

/** A validated environment: what `infra/` and `k8s/` build from. */
export type Environment = z.infer<typeof Environment>;

/** What an `environments/<name>.ts` file declares, before validation. */
export type EnvironmentInput = z.input<typeof Environment>;
