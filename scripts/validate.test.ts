import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironments, environmentNames } from '../environments/load';
import { bucketName, BUCKETS, renderedPath, stackName, STACKS } from '../environments/naming';
import type { Environment } from '../environments/schema';
import { fixtureEnvironments } from './fixtures/environments';
import { fixturePipelines } from './fixtures/pipelines';
import { evaluate } from './policy/engine';
import { fails } from './policy/report';
import type { Block, KubeObject, SynthesizedOutput } from './policy/rule';
import { RULES } from './policy/rules';
import { readSynthesizedOutput } from './policy/synthesized-output';
import { copyProject } from './project-copy';
import { runScript, useFixtures } from './test-projects';

// The gate over real output: the project and a copy of it whose environments and pipelines are the fixtures
// (scripts/fixtures), each synthesized once and validated as `npm run validate` does. The fixtures' output is
// also mutated in memory to show that removing any one control makes the gate fail with the right rule: the
// fixtures have every shape a rule looks at (data kept or not, private or public endpoint, batch and streams),
// whatever the project's own environments and pipelines look like.
const SLOW = { timeout: 120_000 };
const scratch = mkdtempSync(join(tmpdir(), 'driftless-validate-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const environments = await loadEnvironments();
const names = environments.map((env) => env.name);
/** The environments in environments/, as the scripts list them in their errors. */
const KNOWN = environmentNames().join(', ');

const fixtures = fixtureEnvironments();
const fixtureNames = fixtures.map((env) => env.name);
const pipelines = await fixturePipelines();

/** The fixture environment that has what a test needs (the first in deploy order). */
function fixtureThat(what: string, has: (env: Environment) => boolean): Environment {
  const found = fixtures.find(has);
  if (found === undefined) throw new Error(`no fixture environment ${what} (scripts/fixtures/environments.ts)`);
  return found;
}
/** Data kept, a private API endpoint, replicated Kafka and HDFS: what the production rules look at. */
const KEEPS = fixtureThat('that keeps its data behind a private endpoint, replicated', (env) =>
  env.retainData && env.cluster.privateEndpoint && env.kafka.defaultReplicationFactor > 1 && env.kafka.minInSyncReplicas > 1 && env.hdfs.dfsReplication > 1,
);
/** A public API endpoint behind an allow list, data that may go. */
const OPEN = fixtureThat('with a public API endpoint', (env) => !env.cluster.privateEndpoint && !env.retainData);
/** A private API endpoint, data that may go. */
const STAGED = fixtureThat('with a private API endpoint whose data may go', (env) => env.cluster.privateEndpoint && !env.retainData);
const keeps = KEEPS.name;
const open = OPEN.name;
const staged = STAGED.name;

/** The fixture pipeline of that name. */
function pipeline(name: string) {
  const found = pipelines.find((p) => p.name === name);
  if (found === undefined) throw new Error(`no fixture pipeline ${name} (scripts/fixtures/pipeline-specs)`);
  return found;
}
const stream = pipeline('readings');
const batch = pipeline('ledger');
const windowed = pipeline('clicks');
const topicOf = (p: typeof stream) => (p.source.type === 'kafka' ? p.source.topic : '');
const deadLettersOf = (p: typeof stream) => (p.rejects.type === 'kafka' ? p.rejects.topic : '');

// The exceptions the code makes in every environment, each reviewed (a managed policy AWS maintains, the logs
// bucket that cannot log into itself, namespaces whose operators need more than restricted, a public repository
// address in a Secret): the same whatever an environment's values.
const REVIEWED = [
  'DL-IAM-005 aws_iam_role_policy_attachment.cluster-role-policy',
  'DL-IAM-005 aws_iam_role_policy_attachment.ebs-csi-role_AmazonEBSCSIDriverPolicy',
  'DL-IAM-005 aws_iam_role_policy_attachment.karpenter_node-role-AmazonEC2ContainerRegistryPullOnly',
  'DL-IAM-005 aws_iam_role_policy_attachment.karpenter_node-role-AmazonEKSWorkerNodePolicy',
  'DL-IAM-005 aws_iam_role_policy_attachment.node-role-AmazonEC2ContainerRegistryPullOnly',
  'DL-IAM-005 aws_iam_role_policy_attachment.node-role-AmazonEKSWorkerNodePolicy',
  'DL-IAM-005 aws_iam_role_policy_attachment.vpc-cni-role_AmazonEKS_CNI_Policy',
  'DL-NS-002 Namespace/hdfs',
  'DL-NS-002 Namespace/monitoring-node',
  'DL-NS-002 Namespace/stackable-operators',
  'DL-S3-002 aws_s3_bucket.logs_bucket',
  'DL-S3-005 aws_s3_bucket.logs_bucket',
  'DL-SECRET-001 Secret/argocd/karpenter-charts',
  'DL-SECRET-001 Secret/argocd/stackable-charts',
].sort();

const lastLine = (text: string) => text.trimEnd().split('\n').at(-1);
const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The project and the fixture project, synthesized side by side before any test. */
let ownProject: string;
let fixtureProject: string;
beforeAll(async () => {
  [ownProject, fixtureProject] = await Promise.all([synthesizedCopy('project', false), synthesizedCopy('fixtures', true)]);
}, 180_000);

/** Copies the project to `name` (with the fixtures instead of its environments and pipelines, if asked) and synthesizes it. */
async function synthesizedCopy(name: string, withFixtures: boolean): Promise<string> {
  const project = join(scratch, name);
  copyProject(project);
  if (withFixtures) useFixtures(project);
  const synth = await runScript(project, 'synth', []);
  expect(synth.stderr).toBe('');
  expect(synth.status).toBe(0);
  return project;
}

/** Checks that every environment passes the gate with only the reviewed exceptions excused, each with a reason. */
async function expectEveryEnvironmentPasses(project: string, envNames: readonly string[]) {
  const result = await runScript(project, 'validate', []);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  expect(lastLine(result.stdout)).toMatch(/^0 errors, 0 warnings, [1-9]\d* suppressed$/);
  for (const env of envNames) expect(result.stdout).toMatch(new RegExp(`\\n${escaped(env)}: 0 errors, 0 warnings, \\d+ suppressed\\n`));
}

function expectOnlyReviewedExceptions(output: SynthesizedOutput, envs: readonly Environment[]) {
  const evaluation = evaluate(RULES, output, envs);
  expect(evaluation.findings).toEqual([]);
  for (const env of envs) {
    const excused = evaluation.suppressed.filter((f) => f.environment === env.name).map((f) => `${f.ruleId} ${f.subject.replace(/_[0-9A-F]{8}$/, '')}`);
    expect(excused.sort(), env.name).toEqual(REVIEWED);
  }
  for (const f of evaluation.suppressed) expect(f.reason, `${f.ruleId} ${f.subject}`).toMatch(/^.{20,}\.$/s);
}

describe("npm run validate on a fresh synth of the project's environments and pipelines", () => {
  let output: SynthesizedOutput;
  beforeAll(() => {
    output = readSynthesizedOutput(ownProject, names);
  });

  it('passes every environment with no unsuppressed error or warning and ends with the count line', SLOW, async () => {
    await expectEveryEnvironmentPasses(ownProject, names);
  });

  it('excuses exactly the reviewed exceptions in every environment, each with a reason of at least a sentence', () => {
    expectOnlyReviewedExceptions(output, environments);
  });

  it('reports missing output with how to produce it', SLOW, async () => {
    const bare = join(scratch, 'never-synthesized');
    copyProject(bare);
    const result = await runScript(bare, 'validate', []);
    expect(result.status).toBe(1);
    // The first stack of the first environment in deploy order is the first one looked for.
    expect(result.stderr).toContain(`validate: no complete synthesized output: cdktf.out/stacks/${stackName(names[0]!, STACKS[0])}/cdk.tf.json does not exist`);
    expect(result.stderr).toContain('Run `npm run synth` first.');
  });

  it('rejects an unknown environment', SLOW, async () => {
    let unknown = 'absent';
    while (names.includes(unknown)) unknown += '-x';
    const result = await runScript(ownProject, 'validate', ['--env', unknown]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`option '--env' must be one of ${KNOWN} (the files in environments/), got '${unknown}'`);
  });

  // The copy has no toolchain cache (childEnv drops DRIFTLESS_CACHE), so checkov is not installed there.
  it('says in one line how to add the independent scanner when it is not installed, and passes without it', SLOW, async () => {
    const result = await runScript(ownProject, 'validate', []);
    expect(result.status).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/^the independent scanner \(checkov, .*\) is not installed in .*: run 'npm run toolchain' to run it too$/);
  });

  it('fails without the independent scanner when it is required, and rejects an unknown scanner mode', SLOW, async () => {
    const [required, unknown] = await Promise.all([
      runScript(ownProject, 'validate', ['--scanner', 'required']),
      runScript(ownProject, 'validate', ['--scanner=always']),
    ]);
    expect(required.status).toBe(1);
    expect(required.stderr).toMatch(/^validate: the independent scanner \(checkov, .*\) is not installed in .*: run 'npm run toolchain'\n$/);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("validate: option '--scanner' must be one of auto, required, off, got 'always'");
  });
});

describe('npm run validate on a fresh synth of the fixture environments and pipelines', () => {
  let output: SynthesizedOutput;
  beforeAll(() => {
    output = readSynthesizedOutput(fixtureProject, fixtureNames);
  });

  it('passes every fixture environment with no unsuppressed error or warning and ends with the count line', SLOW, async () => {
    await expectEveryEnvironmentPasses(fixtureProject, fixtureNames);
  });

  it('lists every suppressed finding with the reason written next to its construct', SLOW, async () => {
    const result = await runScript(fixtureProject, 'validate', ['--env', keeps]);
    expect(result.stdout).toContain(`validate: ${keeps}: ${STACKS.length} stacks`);
    expect(result.stdout).toMatch(
      new RegExp(
        `DL-S3-002 {2}${escaped(stackName(keeps, 'data-lake'))} {2}aws_s3_bucket\\.logs_bucket_\\w+\\n {11}suppressed: bucket ${escaped(bucketName(KEEPS, 'logs'))} is encrypted with AES256, not SSE-KMS\\n {11}because: S3 server access logging delivers only to a bucket whose default encryption is SSE-S3`,
      ),
    );
    expect(result.stdout).toContain(`DL-NS-002  ${renderedPath(keeps, 'platform')}/namespace-hdfs.yaml  Namespace/hdfs`);
  });

  it('excuses exactly the reviewed exceptions in every fixture environment, each with a reason of at least a sentence', () => {
    expectOnlyReviewedExceptions(output, fixtures);
  });

  it('keeps suppressions in the Terraform metadata, which Terraform ignores as a comment', () => {
    const dataLake = output.stacks.find((s) => s.name === stackName(keeps, 'data-lake'))!;
    const logs = Object.entries(dataLake.json.resource!.aws_s3_bucket!).find(([name]) => name.startsWith('logs_bucket_'))![1];
    expect(Object.keys(logs['//'].suppressions).sort()).toEqual(['DL-S3-002', 'DL-S3-005']);
    expect(logs['//'].metadata.path).toBe(`${stackName(keeps, 'data-lake')}/logs/bucket`);
  });

  // One security control removed from the real output at a time; the gate must fail with the rule that guards it.
  const dataLake = (env: string) => stackName(env, 'data-lake');
  const cluster = (env: string) => stackName(env, 'cluster');
  const sparkApp = (p: { name: string }) => `pipelines/${p.name}/sparkapplication-pipelines-${p.name}.yaml`;
  type Mutation = readonly [description: string, env: string, mutate: (o: Mutable) => void, ruleId: string, subject: string];
  const MUTATIONS: Mutation[] = [
    ["a bucket's public access block", keeps, (o) => o.drop(dataLake(keeps), 'aws_s3_bucket_public_access_block', 'raw_'), 'DL-S3-003', 'aws_s3_bucket.raw_bucket_'],
    ['one of the four public access settings', keeps, (o) => (o.tf(dataLake(keeps), 'aws_s3_bucket_public_access_block', 'curated_').ignore_public_acls = false), 'DL-S3-003', 'aws_s3_bucket.curated_bucket_'],
    ['the TLS deny statement', staged, (o) => (o.tf(dataLake(staged), 'aws_s3_bucket_policy', 'raw_').policy = JSON.stringify({ Version: '2012-10-17', Statement: [] })), 'DL-S3-004', 'aws_s3_bucket.raw_bucket_'],
    ['versioning', open, (o) => o.drop(dataLake(open), 'aws_s3_bucket_versioning', 'checkpoints_'), 'DL-S3-001', 'aws_s3_bucket.checkpoints_bucket_'],
    ['SSE-KMS', keeps, (o) => (o.tf(dataLake(keeps), 'aws_s3_bucket_server_side_encryption_configuration', 'curated_').rule = [{ apply_server_side_encryption_by_default: { sse_algorithm: 'AES256' } }]), 'DL-S3-002', 'aws_s3_bucket.curated_bucket_'],
    ['access logging', keeps, (o) => o.drop(dataLake(keeps), 'aws_s3_bucket_logging', 'raw_'), 'DL-S3-005', 'aws_s3_bucket.raw_bucket_'],
    ['lifecycle rules', keeps, (o) => o.drop(dataLake(keeps), 'aws_s3_bucket_lifecycle_configuration', 'artifacts_'), 'DL-S3-006', 'aws_s3_bucket.artifacts_bucket_'],
    ['bucket-owner-enforced ownership', keeps, (o) => (o.tf(dataLake(keeps), 'aws_s3_bucket_ownership_controls', 'raw_').rule = { object_ownership: 'ObjectWriter' }), 'DL-S3-007', 'aws_s3_bucket.raw_bucket_'],
    ['key rotation', keeps, (o) => (o.tf(dataLake(keeps), 'aws_kms_key', 'data-key').enable_key_rotation = false), 'DL-KMS-001', 'aws_kms_key.data-key'],
    ['no force_destroy where data is kept', keeps, (o) => (o.tf(dataLake(keeps), 'aws_s3_bucket', 'raw_').force_destroy = true), 'DL-DATA-001', 'aws_s3_bucket.raw_bucket_'],
    ['prevent_destroy on a bucket whose data is kept', keeps, (o) => delete o.tf(dataLake(keeps), 'aws_s3_bucket', 'curated_').lifecycle, 'DL-DATA-002', 'aws_s3_bucket.curated_bucket_'],
    ['prevent_destroy on the secrets key', keeps, (o) => delete o.tf(cluster(keeps), 'aws_kms_key', 'secrets-key').lifecycle, 'DL-DATA-002', 'aws_kms_key.secrets-key'],
    ['cluster deletion protection', keeps, (o) => (o.tf(cluster(keeps), 'aws_eks_cluster', 'cluster').deletion_protection = false), 'DL-DATA-003', 'aws_eks_cluster.cluster'],
    ['prevent_destroy on the registry where data is kept', keeps, (o) => delete o.tf(cluster(keeps), 'aws_ecr_repository', 'pipeline-image_').lifecycle, 'DL-DATA-002', 'aws_ecr_repository.pipeline-image_repository_'],
    ['immutable tags', open, (o) => (o.tf(cluster(open), 'aws_ecr_repository', 'pipeline-image_').image_tag_mutability = 'MUTABLE'), 'DL-ECR-001', 'aws_ecr_repository.pipeline-image_repository_'],
    ['scan on push', keeps, (o) => (o.tf(cluster(keeps), 'aws_ecr_repository', 'pipeline-image_').image_scanning_configuration.scan_on_push = false), 'DL-ECR-002', 'aws_ecr_repository.pipeline-image_repository_'],
    ["the registry's KMS key", staged, (o) => (o.tf(cluster(staged), 'aws_ecr_repository', 'pipeline-image_').encryption_configuration = [{ encryption_type: 'AES256' }]), 'DL-ECR-003', 'aws_ecr_repository.pipeline-image_repository_'],
    ["the registry's lifecycle policy", keeps, (o) => o.drop(cluster(keeps), 'aws_ecr_lifecycle_policy', 'pipeline-image_'), 'DL-ECR-004', 'aws_ecr_repository.pipeline-image_repository_'],
    ["the registry's push deny", keeps, (o) => {
      const policy = o.tf(cluster(keeps), 'aws_ecr_repository_policy', 'pipeline-image_');
      policy.policy = JSON.stringify({ ...JSON.parse(policy.policy), Statement: JSON.parse(policy.policy).Statement.filter((s: { Effect: string }) => s.Effect !== 'Deny') });
    }, 'DL-ECR-005', 'aws_ecr_repository.pipeline-image_repository_'],
    ['the private endpoint', keeps, (o) => (o.tf(cluster(keeps), 'aws_eks_cluster', 'cluster').vpc_config.endpoint_public_access = true), 'DL-EKS-001', 'aws_eks_cluster.cluster'],
    ['encryption of the interruption queue', keeps, (o) => (o.tf(cluster(keeps), 'aws_sqs_queue', 'karpenter_interruption_queue_').sqs_managed_sse_enabled = false), 'DL-SQS-001', 'aws_sqs_queue.karpenter_interruption_queue_'],
    ["the interruption queue's TLS deny", staged, (o) => {
      const policy = o.tf(cluster(staged), 'aws_sqs_queue_policy', 'karpenter_interruption_policy_');
      policy.policy = JSON.stringify({ ...JSON.parse(policy.policy), Statement: JSON.parse(policy.policy).Statement.filter((s: { Effect: string }) => s.Effect !== 'Deny') });
    }, 'DL-SQS-002', 'aws_sqs_queue.karpenter_interruption_queue_'],
    ["the PassedToService condition of Karpenter's PassRole", open, (o) => {
      const policy = o.tf(cluster(open), 'aws_iam_role_policy', 'karpenter_controller_policy_');
      const document = JSON.parse(policy.policy);
      delete document.Statement.find((s: { Sid: string }) => s.Sid === 'PassOnlyTheNodeRole').Condition;
      policy.policy = JSON.stringify(document);
    }, 'DL-IAM-007', 'aws_iam_role_policy.karpenter_controller_policy_'],
    ["the limit of Karpenter's PassRole to the node role", keeps, (o) => {
      const policy = o.tf(cluster(keeps), 'aws_iam_role_policy', 'karpenter_controller_policy_');
      const document = JSON.parse(policy.policy);
      document.Statement.find((s: { Sid: string }) => s.Sid === 'PassOnlyTheNodeRole').Resource = `arn:aws:iam::${KEEPS.aws.accountId}:role/${KEEPS.aws.deployRoleArn.split('/').pop()}`;
      policy.policy = JSON.stringify(document);
    }, 'DL-KARP-007', 'aws_iam_role.karpenter_controller_role_'],
    ["the EC2_LINUX type of Karpenter's node access entry", keeps, (o) => (o.tf(cluster(keeps), 'aws_eks_access_entry', 'karpenter_node-access_').type = 'STANDARD'), 'DL-KARP-008', 'aws_iam_role.karpenter_node-role_'],
    ["a public endpoint's allow list", open, (o) => delete o.tf(cluster(open), 'aws_eks_cluster', 'cluster').vpc_config.public_access_cidrs, 'DL-EKS-001', 'aws_eks_cluster.cluster'],
    ['secrets encryption', staged, (o) => delete o.tf(cluster(staged), 'aws_eks_cluster', 'cluster').encryption_config, 'DL-EKS-002', 'aws_eks_cluster.cluster'],
    ['the audit log', keeps, (o) => (o.tf(cluster(keeps), 'aws_eks_cluster', 'cluster').enabled_cluster_log_types = ['api', 'authenticator']), 'DL-EKS-003', 'aws_eks_cluster.cluster'],
    ['a pinned add-on version', keeps, (o) => delete o.tf(cluster(keeps), 'aws_eks_addon', 'coredns').addon_version, 'DL-EKS-005', 'aws_eks_addon.coredns'],
    ['IMDSv2', keeps, (o) => (o.tf(cluster(keeps), 'aws_launch_template', 'general-').metadata_options.http_tokens = 'optional'), 'DL-EC2-001', 'aws_launch_template.general-launch-template'],
    ['volume encryption', keeps, (o) => (o.tf(cluster(keeps), 'aws_launch_template', 'general-').block_device_mappings[0].ebs.encrypted = 'false'), 'DL-EC2-002', 'aws_launch_template.general-launch-template'],
    ["the node group's launch template", keeps, (o) => delete o.tf(cluster(keeps), 'aws_eks_node_group', 'general-').launch_template, 'DL-EC2-003', 'aws_eks_node_group.general-nodes'],
    ['flow logs', keeps, (o) => o.drop(stackName(keeps, 'network'), 'aws_flow_log', 'flow-log'), 'DL-VPC-001', 'aws_vpc.vpc'],
    ['enumerated S3 actions', keeps, (o) => o.addStatement(keeps, `pipeline-${stream.name}-role_policy_`, { Effect: 'Allow', Action: 's3:*', Resource: `arn:aws:s3:::${bucketName(KEEPS, 'raw')}/*` }), 'DL-IAM-002', `aws_iam_role_policy.pipeline-${stream.name}-role_policy_`],
    ['resources on writes', keeps, (o) => o.addStatement(keeps, 'external-secrets-role_policy_', { Effect: 'Allow', Action: ['secretsmanager:PutSecretValue'], Resource: '*' }), 'DL-IAM-003', 'aws_iam_role_policy.external-secrets-role_policy_'],
    ['the cluster condition of a Pod Identity trust', keeps, (o) => o.dropTrustTag(keeps, `pipeline-${batch.name}-role_`, 'aws:RequestTag/eks-cluster-arn'), 'DL-IAM-004', `aws_iam_role.pipeline-${batch.name}-role_`],
    ['a narrow managed policy', keeps, (o) => (o.tf(cluster(keeps), 'aws_iam_role_policy_attachment', 'node-role-AmazonEC2ContainerRegistryPullOnly').policy_arn = 'arn:aws:iam::aws:policy/AdministratorAccess'), 'DL-IAM-006', 'aws_iam_role_policy_attachment.node-role-AmazonEC2ContainerRegistryPullOnly'],
    ['the owner tag', keeps, (o) => delete o.stack(stackName(keeps, 'network')).provider!.aws![0]!.default_tags[0].tags.owner, 'DL-TAG-001', 'provider.aws'],
    ['the Argo CD chart version', keeps, (o) => delete o.tf(stackName(keeps, 'bootstrap'), 'helm_release', 'argocd').version, 'DL-HELM-001', 'helm_release.argocd'],
    ['a default-deny NetworkPolicy', keeps, (o) => o.dropFile(keeps, 'platform/networkpolicy-kafka-default-deny.yaml'), 'DL-NS-003', 'Namespace/kafka'],
    ['a Pod Security label', keeps, (o) => delete (o.k8s(keeps, 'platform/namespace-kafka.yaml').metadata.labels as Record<string, string>)['pod-security.kubernetes.io/enforce'], 'DL-NS-001', 'Namespace/kafka'],
    ['restricted Pod Security', keeps, (o) => ((o.k8s(keeps, 'platform/namespace-pipelines.yaml').metadata.labels as Record<string, string>)['pod-security.kubernetes.io/enforce'] = 'baseline'), 'DL-NS-002', 'Namespace/pipelines'],
    ['deleteClaim: false', keeps, (o) => (o.k8s(keeps, 'kafka/kafkanodepool-kafka-brokers.yaml').spec.storage.volumes[0].deleteClaim = true), 'DL-KAFKA-005', 'KafkaNodePool/kafka/brokers'],
    ['TLS on the listener', keeps, (o) => (o.k8s(keeps, 'kafka/kafka-kafka-events.yaml').spec.kafka.listeners[0].tls = false), 'DL-KAFKA-001', 'Kafka/kafka/events'],
    ['Kafka authorization', staged, (o) => delete o.k8s(staged, 'kafka/kafka-kafka-events.yaml').spec.kafka.authorization, 'DL-KAFKA-002', 'Kafka/kafka/events'],
    ["the environment's min.insync.replicas", keeps, (o) => (o.k8s(keeps, 'kafka/kafka-kafka-events.yaml').spec.kafka.config['min.insync.replicas'] = 1), 'DL-KAFKA-003', 'Kafka/kafka/events'],
    ["a topic's replicas", keeps, (o) => (o.k8s(keeps, `pipelines/${windowed.name}/kafkatopic-kafka-${topicOf(windowed)}.yaml`).spec.replicas = 1), 'DL-KAFKA-004', `KafkaTopic/kafka/${topicOf(windowed)}`],
    ["a user's literal ACLs", keeps, (o) => (o.k8s(keeps, `pipelines/${stream.name}/kafkauser-kafka-${stream.name}.yaml`).spec.authorization.acls[0].resource.name = '*'), 'DL-KAFKA-006', `KafkaUser/kafka/${stream.name}`],
    ['the HdfsCluster', keeps, (o) => o.dropFile(keeps, 'hdfs/hdfscluster-hdfs-lake.yaml'), 'DL-HDFS-001', `environment ${keeps}`],
    ["HDFS's replication", keeps, (o) => (o.k8s(keeps, 'hdfs/hdfscluster-hdfs-lake.yaml').spec.clusterConfig.dfsReplication = 1), 'DL-HDFS-003', 'HdfsCluster/hdfs/lake'],
    ['Prune=false,Delete=false on the HdfsCluster', keeps, (o) => delete (o.k8s(keeps, 'hdfs/hdfscluster-hdfs-lake.yaml').metadata as { annotations?: object }).annotations, 'DL-ARGO-001', 'HdfsCluster/hdfs/lake'],
    ['Prune=false,Delete=false on the kafka Application', keeps, (o) => delete (o.k8s(keeps, 'apps/application-argocd-kafka.yaml').metadata as { annotations?: Record<string, string> }).annotations!['argocd.argoproj.io/sync-options'], 'DL-ARGO-002', 'Application/argocd/kafka'],
    ['self-heal', keeps, (o) => (o.k8s(keeps, 'apps/application-argocd-pipelines.yaml').spec.syncPolicy.automated.selfHeal = false), 'DL-ARGO-003', 'Application/argocd/pipelines'],
    ["a driver's read-only root filesystem", keeps, (o) => (o.k8s(keeps, sparkApp(stream)).spec.driver.securityContext.readOnlyRootFilesystem = false), 'DL-K8S-002', `SparkApplication/pipelines/${stream.name}`],
    ["an executor's memory", open, (o) => delete o.k8s(open, `pipelines/${batch.name}/scheduledsparkapplication-pipelines-${batch.name}.yaml`).spec.template.executor.memory, 'DL-K8S-005', `ScheduledSparkApplication/pipelines/${batch.name}`],
    ['a pinned image', keeps, (o) => (o.k8s(keeps, 'spark/deployment-spark-operator-spark-history-server.yaml').spec.template.spec.containers[0].image = 'docker.io/library/spark:latest'), 'DL-K8S-006', 'Deployment/spark-operator/spark-history-server'],
    ['pod network isolation', keeps, (o) => (o.k8s(keeps, 'spark/deployment-spark-operator-spark-history-server.yaml').spec.template.spec.hostNetwork = true), 'DL-K8S-008', 'Deployment/spark-operator/spark-history-server'],
    ['the retaining StorageClass', keeps, (o) => (o.k8s(keeps, 'platform/storageclass-data-gp3-retain.yaml').reclaimPolicy = 'Delete'), 'DL-STORAGE-001', 'StorageClass/data-gp3-retain'],
    ['Secrets by name only', keeps, (o) => o.k8s(keeps, 'spark/role-kafka-kafka-credentials.yaml').rules[0].verbs.push('list'), 'DL-RBAC-002', 'Role/kafka/kafka-credentials'],
    ['an unsupported EKS version', staged, (o) => (o.tf(cluster(staged), 'aws_eks_cluster', 'cluster').version = '1.29'), 'DL-EKS-004', 'aws_eks_cluster.cluster'],
    ['access entries only', keeps, (o) => (o.tf(cluster(keeps), 'aws_eks_cluster', 'cluster').access_config.bootstrap_cluster_creator_admin_permissions = true), 'DL-EKS-006', 'aws_eks_cluster.cluster'],
    ['the closed default security group', keeps, (o) => o.drop(stackName(keeps, 'network'), 'aws_default_security_group', 'default-security-group'), 'DL-VPC-002', 'aws_vpc.vpc'],
    ['enumerated actions', keeps, (o) => o.addStatement(keeps, 'spark-history-server-role_policy_', { Effect: 'Allow', Action: 'logs:*', Resource: `arn:aws:logs:${KEEPS.aws.region}:${KEEPS.aws.accountId}:log-group:x` }), 'DL-IAM-001', 'aws_iam_role_policy.spark-history-server-role_policy_'],
    ['the reason for a managed policy', keeps, (o) => delete o.tf(cluster(keeps), 'aws_iam_role_policy_attachment', 'cluster-role-policy')['//'].suppressions, 'DL-IAM-005', 'aws_iam_role_policy_attachment.cluster-role-policy'],
    ["the argocd namespace's restricted Pod Security", keeps, (o) => (o.tf(stackName(keeps, 'bootstrap'), 'kubernetes_namespace_v1', 'argocd-namespace').metadata.labels['pod-security.kubernetes.io/enforce'] = 'privileged'), 'DL-NS-004', 'kubernetes_namespace_v1.argocd-namespace'],
    ['non-root', keeps, (o) => {
      const pod = o.k8s(keeps, 'spark/deployment-spark-operator-spark-history-server.yaml').spec.template.spec;
      delete pod.securityContext.runAsNonRoot;
      delete pod.containers[0].securityContext.runAsNonRoot;
    }, 'DL-K8S-001', 'Deployment/spark-operator/spark-history-server'],
    ['no privilege escalation', keeps, (o) => delete o.k8s(keeps, 'spark/deployment-spark-operator-spark-history-server.yaml').spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation, 'DL-K8S-003', 'Deployment/spark-operator/spark-history-server'],
    ['no jars fetched at start', keeps, (o) => (o.k8s(keeps, sparkApp(stream)).spec.sparkConf['spark.jars.packages'] = 'org.apache.hadoop:hadoop-aws:3.4.1'), 'DL-SPARK-001', `SparkApplication/pipelines/${stream.name}`],
    ['the pipeline image', open, (o) => (o.k8s(open, sparkApp(windowed)).spec.image = 'docker.io/library/spark:4.0.1-scala2.13-java17-python3-ubuntu'), 'DL-SPARK-002', `SparkApplication/pipelines/${windowed.name}`],
    ["the executors' work dir", keeps, (o) => (o.k8s(keeps, sparkApp(stream)).spec.executor.volumeMounts = []), 'DL-SPARK-003', `SparkApplication/pipelines/${stream.name}`],
    ['checkpoints with atomic renames', keeps, (o) => {
      const spec = o.k8s(keeps, sparkApp(stream)).spec;
      spec.arguments[1] = JSON.stringify({ ...JSON.parse(spec.arguments[1]), checkpointUri: 's3a://bucket/checkpoints/' });
    }, 'DL-SPARK-004', `SparkApplication/pipelines/${stream.name}`],
    ['sized shuffles', open, (o) => delete o.k8s(open, sparkApp(windowed)).spec.sparkConf['spark.sql.shuffle.partitions'], 'DL-SPARK-005', `SparkApplication/pipelines/${windowed.name}`],
    ['rolling event logs', keeps, (o) => delete o.k8s(keeps, sparkApp(stream)).spec.sparkConf['spark.eventLog.rolling.enabled'], 'DL-SPARK-006', `SparkApplication/pipelines/${stream.name}`],
    ['the stable pool of the History Server', keeps, (o) => delete o.k8s(keeps, 'spark/deployment-spark-operator-spark-history-server.yaml').spec.template.spec.nodeSelector, 'DL-NODE-002', 'Deployment/spark-operator/spark-history-server'],
    ['the system nodes for system workloads', keeps, (o) => (o.k8s(keeps, 'spark/deployment-spark-operator-spark-history-server.yaml').spec.template.spec.tolerations = [{ key: 'CriticalAddonsOnly', operator: 'Exists' }]), 'DL-NODE-003', 'Deployment/spark-operator/spark-history-server'],
    ['interruptible nodes for executors alone', keeps, (o) => (o.k8s(keeps, sparkApp(stream)).spec.driver.tolerations = [{ operator: 'Exists' }]), 'DL-NODE-001', `SparkApplication/pipelines/${stream.name}`],
    ["the brokers' stable pool", keeps, (o) => delete o.k8s(keeps, 'kafka/kafkanodepool-kafka-brokers.yaml').spec.template, 'DL-NODE-002', 'KafkaNodePool/kafka/brokers'],
    ['dropped capabilities', keeps, (o) => (o.k8s(keeps, sparkApp(windowed)).spec.executor.securityContext.capabilities = { add: ['SYS_ADMIN'] }), 'DL-K8S-004', `SparkApplication/pipelines/${windowed.name}`],
    ['volumes off the host', keeps, (o) => o.k8s(keeps, sparkApp(stream)).spec.volumes.push({ name: 'host', hostPath: { path: '/' } }), 'DL-K8S-007', `SparkApplication/pipelines/${stream.name}`],
    ['unprivileged containers', keeps, (o) => (o.k8s(keeps, 'spark/deployment-spark-operator-spark-history-server.yaml').spec.template.spec.containers[0].securityContext.privileged = true), 'DL-K8S-009', 'Deployment/spark-operator/spark-history-server'],
    ['the seccomp profile', keeps, (o) => {
      const driver = o.k8s(keeps, sparkApp(stream)).spec.driver;
      delete driver.securityContext.seccompProfile;
      delete driver.podSecurityContext.seccompProfile;
    }, 'DL-K8S-010', `SparkApplication/pipelines/${stream.name}`],
    ['the retaining StorageClass of the datanodes', keeps, (o) => delete o.k8s(keeps, 'hdfs/hdfscluster-hdfs-lake.yaml').spec.dataNodes.config.resources.storage.data.storageClass, 'DL-HDFS-002', 'HdfsCluster/hdfs/lake'],
    ['a pinned operator chart', keeps, (o) => (o.k8s(keeps, 'apps/application-argocd-strimzi.yaml').spec.source.targetRevision = '1.*'), 'DL-ARGO-004', 'Application/argocd/strimzi'],
    ['a narrow Role', keeps, (o) => (o.k8s(keeps, 'spark/role-pipelines-spark-driver.yaml').rules[0].verbs = ['*']), 'DL-RBAC-001', 'Role/pipelines/spark-driver'],
    ["the repository Secret's reason", keeps, (o) => delete (o.k8s(keeps, 'apps/secret-argocd-stackable-charts.yaml').metadata.annotations as Record<string, string>)['driftless.io/suppress'], 'DL-SECRET-001', 'Secret/argocd/stackable-charts'],
    ['a valid object name', open, (o) => ((o.k8s(open, `pipelines/${stream.name}/kafkatopic-kafka-${deadLettersOf(stream)}.yaml`).metadata as { name: string }).name = deadLettersOf(stream).replace('.', '..')), 'DL-K8S-011', `KafkaTopic/kafka/${deadLettersOf(stream).replace('.', '..')}`],
    ["the logs bucket's suppressions", keeps, (o) => delete o.tf(dataLake(keeps), 'aws_s3_bucket', 'logs_')['//'].suppressions, 'DL-S3-002', 'aws_s3_bucket.logs_bucket_'],
    ["the node class's IMDSv2 hop limit", keeps, (o) => (o.k8s(keeps, 'platform/ec2nodeclass-default.yaml').spec.metadataOptions.httpPutResponseHopLimit = 2), 'DL-KARP-001', 'EC2NodeClass/default'],
    ["the node class's encrypted root volume", keeps, (o) => (o.k8s(keeps, 'platform/ec2nodeclass-default.yaml').spec.blockDeviceMappings[0].ebs.encrypted = false), 'DL-KARP-002', 'EC2NodeClass/default'],
    ["the node class's pinned AMI", open, (o) => (o.k8s(open, 'platform/ec2nodeclass-default.yaml').spec.amiSelectorTerms = [{ alias: 'al2023@latest' }]), 'DL-KARP-003', 'EC2NodeClass/default'],
    ["the executors' memory limit", keeps, (o) => delete o.k8s(keeps, 'platform/nodepool-spark-executors.yaml').spec.limits.memory, 'DL-KARP-004', 'NodePool/spark-executors'],
    ["the executors' interruptible taint", keeps, (o) => delete o.k8s(keeps, 'platform/nodepool-spark-executors.yaml').spec.template.spec.taints, 'DL-KARP-005', 'NodePool/spark-executors'],
    ["the stable pool's node class", staged, (o) => (o.k8s(staged, 'platform/nodepool-stable.yaml').spec.template.spec.nodeClassRef.name = 'gone'), 'DL-KARP-006', 'NodePool/stable'],
    ['Prune=false,Delete=false on a NodePool', keeps, (o) => delete (o.k8s(keeps, 'platform/nodepool-stable.yaml').metadata as { annotations?: object }).annotations, 'DL-ARGO-001', 'NodePool/stable'],
    ["a suppression's reason", keeps, (o) => ((o.k8s(keeps, 'platform/namespace-hdfs.yaml').metadata.annotations as Record<string, string>)['driftless.io/suppress'] = 'DL-NS-002: legacy'), 'DL-POLICY-001', 'Namespace/hdfs'],
  ];

  it.each(MUTATIONS)('fails when %s is removed (%s)', (_, env, mutate, ruleId, subject) => {
    const mutated = new Mutable(output);
    mutate(mutated);
    const evaluation = evaluate(RULES, mutated.output, fixtures);
    expect(fails(evaluation)).toBe(true);
    const matching = evaluation.findings.filter((f) => f.ruleId === ruleId && f.environment === env && f.severity === 'error');
    expect(matching.map((f) => f.subject).some((s) => s.startsWith(subject)), `${ruleId} on ${subject}: ${JSON.stringify(evaluation.findings.map((f) => [f.ruleId, f.subject]))}`).toBe(true);
  });

  it('has a mutation of the real output for every rule', () => {
    const mutated = new Set(MUTATIONS.map((m) => m[3]));
    expect(RULES.map((r) => r.id).filter((id) => !mutated.has(id))).toEqual([]);
  });
});

describe('npm run validate after a control is removed from the code', () => {
  const project = join(scratch, 'edited');
  const n = fixtures.length;

  beforeAll(() => {
    copyProject(project);
    useFixtures(project);
  });

  /** Edits a source file of the copy, synthesizes and validates, and restores the file. */
  async function validateWithEdit(file: string, from: string | RegExp, to: string) {
    const path = join(project, file);
    const original = readFileSync(path, 'utf8');
    const edited = original.replace(from, to);
    expect(edited, `the edit of ${file} changed nothing`).not.toBe(original);
    writeFileSync(path, edited);
    try {
      const synth = await runScript(project, 'synth', []);
      expect(synth.stderr).toBe('');
      return await runScript(project, 'validate', []);
    } finally {
      writeFileSync(path, original);
    }
  }

  it('fails on a bucket without its public access block', SLOW, async () => {
    const result = await validateWithEdit('infra/constructs/data-lake-bucket.ts', /const publicAccess = new S3BucketPublicAccessBlock\(this, 'public-access', \{[\s\S]*?\}\);/, 'const publicAccess = this.bucket;');
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(
      new RegExp(`error {4}DL-S3-003 {2}${escaped(stackName(keeps, 'data-lake'))} {2}aws_s3_bucket\\.raw_bucket_\\w+\\n {11}bucket ${escaped(bucketName(KEEPS, 'raw'))} has no public access block`),
    );
    // Every bucket of every environment, and nothing else.
    expect(lastLine(result.stdout)).toBe(`${BUCKETS.length * n} errors, 0 warnings, ${REVIEWED.length * n} suppressed`);
  });

  it('fails on a namespace without its default-deny NetworkPolicy', SLOW, async () => {
    const result = await validateWithEdit('k8s/charts/platform-chart.ts', "new k8s.KubeNetworkPolicy(this, `${namespace}-default-deny`", "if (namespace !== 'kafka') new k8s.KubeNetworkPolicy(this, `${namespace}-default-deny`");
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(`DL-NS-003  ${renderedPath(fixtureNames[0]!, 'platform')}/namespace-kafka.yaml  Namespace/kafka\n           namespace kafka has no default-deny NetworkPolicy`);
    // The kafka namespace of every environment.
    expect(lastLine(result.stdout)).toBe(`${n} errors, 0 warnings, ${REVIEWED.length * n} suppressed`);
  });

  it('fails on a suppression whose reason is not a sentence, and on the finding it no longer excuses', SLOW, async () => {
    const result = await validateWithEdit('infra/stacks/data-lake-stack.ts', /reason: 'This is the bucket that receives[^']*'/, "reason: 'loop'");
    expect(result.status).toBe(1);
    expect(result.stdout).toContain("suppression 'DL-S3-005' must give a reason of at least a sentence");
    expect(result.stdout).toMatch(
      new RegExp(`error {4}DL-S3-005 {2}${escaped(stackName(keeps, 'data-lake'))} {2}aws_s3_bucket\\.logs_bucket_\\w+\\n {11}bucket ${escaped(bucketName(KEEPS, 'logs'))} has no server access logging`),
    );
    // In every environment: the invalid suppression and the finding it no longer excuses; one exception fewer.
    expect(lastLine(result.stdout)).toBe(`${2 * n} errors, 0 warnings, ${(REVIEWED.length - 1) * n} suppressed`);
  });
});

/** A deep copy of the synthesized output with helpers that find exactly one block or object (never by position). */
class Mutable {
  readonly output: { stacks: Array<{ environment: string; name: string; file: string; json: any }>; manifests: Array<{ environment: string; file: string; object: KubeObject }> };

  constructor(original: SynthesizedOutput) {
    this.output = structuredClone(original) as Mutable['output'];
  }

  stack(name: string): { provider?: Record<string, Block[]>; resource: Record<string, Record<string, any>> } {
    const found = this.output.stacks.find((s) => s.name === name);
    if (found === undefined) throw new Error(`no stack ${name}`);
    return found.json;
  }

  private entry(stackName: string, type: string, prefix: string): [Record<string, any>, string] {
    const byName = this.stack(stackName).resource[type] ?? {};
    const names = Object.keys(byName).filter((name) => name.startsWith(prefix));
    if (names.length !== 1) throw new Error(`expected one ${type} ${prefix}* in ${stackName}, found ${names.length}`);
    return [byName, names[0]!];
  }

  tf(stackName: string, type: string, prefix: string): Record<string, any> {
    const [byName, name] = this.entry(stackName, type, prefix);
    return byName[name];
  }

  drop(stackName: string, type: string, prefix: string): void {
    const [byName, name] = this.entry(stackName, type, prefix);
    delete byName[name];
  }

  addStatement(env: string, policyPrefix: string, statement: object): void {
    const policy = this.tf(stackName(env, 'cluster'), 'aws_iam_role_policy', policyPrefix);
    const document = JSON.parse(policy.policy);
    document.Statement.push(statement);
    policy.policy = JSON.stringify(document);
  }

  dropTrustTag(env: string, rolePrefix: string, tag: string): void {
    const role = this.tf(stackName(env, 'cluster'), 'aws_iam_role', rolePrefix);
    const document = JSON.parse(role.assume_role_policy);
    delete document.Statement[0].Condition.StringEquals[tag];
    role.assume_role_policy = JSON.stringify(document);
  }

  k8s(env: string, file: string): KubeObject & Record<string, any> {
    const found = this.output.manifests.filter((m) => m.file === `k8s/rendered/${env}/${file}`);
    if (found.length !== 1) throw new Error(`expected one manifest k8s/rendered/${env}/${file}, found ${found.length}`);
    return found[0]!.object as KubeObject & Record<string, any>;
  }

  dropFile(env: string, file: string): void {
    this.k8s(env, file);
    this.output.manifests = this.output.manifests.filter((m) => m.file !== `k8s/rendered/${env}/${file}`);
  }
}
