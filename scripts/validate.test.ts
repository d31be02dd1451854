import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironments, environmentNames } from '../environments/load';
import { evaluate } from './policy/engine';
import { fails } from './policy/report';
import type { Block, KubeObject, SynthesizedOutput } from './policy/rule';
import { RULES } from './policy/rules';
import { readSynthesizedOutput } from './policy/synthesized-output';
import { copyProject } from './project-copy';

/** The environments in environments/, as the scripts list them in their errors. */
const KNOWN = environmentNames().join(', ');

// The gate over the real output: synthesized once in a copy of the project, then validated as `npm run validate`
// does, and mutated in memory to show that removing any one control makes the gate fail with the right rule.
const SLOW = { timeout: 120_000 };
const scratch = mkdtempSync(join(tmpdir(), 'driftless-validate-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const environments = await loadEnvironments();
const names = environments.map((env) => env.name);

function run(project: string, script: string, args: string[] = []) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: project, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const lastLine = (text: string) => text.trimEnd().split('\n').at(-1);

describe('npm run validate on a fresh synth', () => {
  const project = join(scratch, 'synthesized');
  let output: SynthesizedOutput;

  beforeAll(() => {
    copyProject(project);
    const synth = run(project, 'scripts/synth.ts');
    expect(synth.stderr).toBe('');
    expect(synth.status).toBe(0);
    output = readSynthesizedOutput(project, names);
  }, 120_000);

  it('passes all three environments with no unsuppressed error or warning and ends with the count line', SLOW, () => {
    const result = run(project, 'scripts/validate.ts');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(lastLine(result.stdout)).toMatch(/^0 errors, 0 warnings, [1-9]\d* suppressed$/);
    for (const env of names) expect(result.stdout).toMatch(new RegExp(`\\n${env}: 0 errors, 0 warnings, \\d+ suppressed\\n`));
  });

  it('lists every suppressed finding with the reason written next to its construct', SLOW, () => {
    const result = run(project, 'scripts/validate.ts', ['--env', 'prod']);
    expect(result.stdout).toContain('validate: prod: 4 stacks');
    expect(result.stdout).toMatch(
      /DL-S3-002 {2}prod-data-lake {2}aws_s3_bucket\.logs_bucket_\w+\n {11}suppressed: bucket driftless-prod-logs-\S+ is encrypted with AES256, not SSE-KMS\n {11}because: S3 server access logging delivers only to a bucket whose default encryption is SSE-S3/,
    );
    expect(result.stdout).toContain('DL-NS-002  k8s/rendered/prod/platform/namespace-hdfs.yaml  Namespace/hdfs');
  });

  it('excuses exactly the reviewed exceptions, each with a reason of at least a sentence', () => {
    const evaluation = evaluate(RULES, output, environments);
    expect(evaluation.findings).toEqual([]);
    for (const env of names) {
      const excused = evaluation.suppressed.filter((f) => f.environment === env).map((f) => `${f.ruleId} ${f.subject.replace(/_[0-9A-F]{8}$/, '')}`);
      expect(excused.sort()).toEqual(
        [
          'DL-IAM-005 aws_iam_role_policy_attachment.cluster-role-policy',
          'DL-IAM-005 aws_iam_role_policy_attachment.ebs-csi-role_AmazonEBSCSIDriverPolicy',
          'DL-IAM-005 aws_iam_role_policy_attachment.node-role-AmazonEC2ContainerRegistryPullOnly',
          'DL-IAM-005 aws_iam_role_policy_attachment.node-role-AmazonEKSWorkerNodePolicy',
          'DL-IAM-005 aws_iam_role_policy_attachment.vpc-cni-role_AmazonEKS_CNI_Policy',
          'DL-NS-002 Namespace/hdfs',
          'DL-NS-002 Namespace/monitoring-node',
          'DL-NS-002 Namespace/stackable-operators',
          'DL-S3-002 aws_s3_bucket.logs_bucket',
          'DL-S3-005 aws_s3_bucket.logs_bucket',
          'DL-SECRET-001 Secret/argocd/stackable-charts',
        ].sort(),
      );
    }
    for (const f of evaluation.suppressed) expect(f.reason, `${f.ruleId} ${f.subject}`).toMatch(/^.{20,}\.$/s);
  });

  it('keeps suppressions in the Terraform metadata, which Terraform ignores as a comment', () => {
    const dataLake = output.stacks.find((s) => s.name === 'prod-data-lake')!;
    const logs = Object.entries(dataLake.json.resource!.aws_s3_bucket!).find(([name]) => name.startsWith('logs_bucket_'))![1];
    expect(Object.keys(logs['//'].suppressions).sort()).toEqual(['DL-S3-002', 'DL-S3-005']);
    expect(logs['//'].metadata.path).toBe('prod-data-lake/logs/bucket');
  });

  // One security control removed from the real output at a time; the gate must fail with the rule that guards it.
  type Mutation = readonly [description: string, env: string, mutate: (o: Mutable) => void, ruleId: string, subject: string];
  const MUTATIONS: Mutation[] = [
    ["a bucket's public access block", 'prod', (o) => o.drop('prod-data-lake', 'aws_s3_bucket_public_access_block', 'raw_'), 'DL-S3-003', 'aws_s3_bucket.raw_bucket_'],
    ['one of the four public access settings', 'prod', (o) => (o.tf('prod-data-lake', 'aws_s3_bucket_public_access_block', 'curated_').ignore_public_acls = false), 'DL-S3-003', 'aws_s3_bucket.curated_bucket_'],
    ['the TLS deny statement', 'staging', (o) => (o.tf('staging-data-lake', 'aws_s3_bucket_policy', 'raw_').policy = JSON.stringify({ Version: '2012-10-17', Statement: [] })), 'DL-S3-004', 'aws_s3_bucket.raw_bucket_'],
    ['versioning', 'dev', (o) => o.drop('dev-data-lake', 'aws_s3_bucket_versioning', 'checkpoints_'), 'DL-S3-001', 'aws_s3_bucket.checkpoints_bucket_'],
    ['SSE-KMS', 'prod', (o) => (o.tf('prod-data-lake', 'aws_s3_bucket_server_side_encryption_configuration', 'curated_').rule = [{ apply_server_side_encryption_by_default: { sse_algorithm: 'AES256' } }]), 'DL-S3-002', 'aws_s3_bucket.curated_bucket_'],
    ['access logging', 'prod', (o) => o.drop('prod-data-lake', 'aws_s3_bucket_logging', 'raw_'), 'DL-S3-005', 'aws_s3_bucket.raw_bucket_'],
    ['lifecycle rules', 'prod', (o) => o.drop('prod-data-lake', 'aws_s3_bucket_lifecycle_configuration', 'artifacts_'), 'DL-S3-006', 'aws_s3_bucket.artifacts_bucket_'],
    ['bucket-owner-enforced ownership', 'prod', (o) => (o.tf('prod-data-lake', 'aws_s3_bucket_ownership_controls', 'raw_').rule = { object_ownership: 'ObjectWriter' }), 'DL-S3-007', 'aws_s3_bucket.raw_bucket_'],
    ['key rotation', 'prod', (o) => (o.tf('prod-data-lake', 'aws_kms_key', 'data-key').enable_key_rotation = false), 'DL-KMS-001', 'aws_kms_key.data-key'],
    ['no force_destroy in prod', 'prod', (o) => (o.tf('prod-data-lake', 'aws_s3_bucket', 'raw_').force_destroy = true), 'DL-DATA-001', 'aws_s3_bucket.raw_bucket_'],
    ['prevent_destroy on a prod bucket', 'prod', (o) => delete o.tf('prod-data-lake', 'aws_s3_bucket', 'curated_').lifecycle, 'DL-DATA-002', 'aws_s3_bucket.curated_bucket_'],
    ['prevent_destroy on the secrets key', 'prod', (o) => delete o.tf('prod-cluster', 'aws_kms_key', 'secrets-key').lifecycle, 'DL-DATA-002', 'aws_kms_key.secrets-key'],
    ['cluster deletion protection', 'prod', (o) => (o.tf('prod-cluster', 'aws_eks_cluster', 'cluster').deletion_protection = false), 'DL-DATA-003', 'aws_eks_cluster.cluster'],
    ['the private endpoint', 'prod', (o) => (o.tf('prod-cluster', 'aws_eks_cluster', 'cluster').vpc_config.endpoint_public_access = true), 'DL-EKS-001', 'aws_eks_cluster.cluster'],
    ["dev's endpoint allow list", 'dev', (o) => delete o.tf('dev-cluster', 'aws_eks_cluster', 'cluster').vpc_config.public_access_cidrs, 'DL-EKS-001', 'aws_eks_cluster.cluster'],
    ['secrets encryption', 'staging', (o) => delete o.tf('staging-cluster', 'aws_eks_cluster', 'cluster').encryption_config, 'DL-EKS-002', 'aws_eks_cluster.cluster'],
    ['the audit log', 'prod', (o) => (o.tf('prod-cluster', 'aws_eks_cluster', 'cluster').enabled_cluster_log_types = ['api', 'authenticator']), 'DL-EKS-003', 'aws_eks_cluster.cluster'],
    ['a pinned add-on version', 'prod', (o) => delete o.tf('prod-cluster', 'aws_eks_addon', 'coredns').addon_version, 'DL-EKS-005', 'aws_eks_addon.coredns'],
    ['IMDSv2', 'prod', (o) => (o.tf('prod-cluster', 'aws_launch_template', 'general-').metadata_options.http_tokens = 'optional'), 'DL-EC2-001', 'aws_launch_template.general-launch-template'],
    ['volume encryption', 'prod', (o) => (o.tf('prod-cluster', 'aws_launch_template', 'general-').block_device_mappings[0].ebs.encrypted = 'false'), 'DL-EC2-002', 'aws_launch_template.general-launch-template'],
    ["the node group's launch template", 'prod', (o) => delete o.tf('prod-cluster', 'aws_eks_node_group', 'general-').launch_template, 'DL-EC2-003', 'aws_eks_node_group.general-nodes'],
    ['flow logs', 'prod', (o) => o.drop('prod-network', 'aws_flow_log', 'flow-log'), 'DL-VPC-001', 'aws_vpc.vpc'],
    ['enumerated S3 actions', 'prod', (o) => o.addStatement('pipeline-temperature-role_policy_', { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::driftless-prod-raw-333333333333-eu-central-1/*' }), 'DL-IAM-002', 'aws_iam_role_policy.pipeline-temperature-role_policy_'],
    ['resources on writes', 'prod', (o) => o.addStatement('external-secrets-role_policy_', { Effect: 'Allow', Action: ['secretsmanager:PutSecretValue'], Resource: '*' }), 'DL-IAM-003', 'aws_iam_role_policy.external-secrets-role_policy_'],
    ['the cluster condition of a Pod Identity trust', 'prod', (o) => o.dropTrustTag('pipeline-daily-sales-role_', 'aws:RequestTag/eks-cluster-arn'), 'DL-IAM-004', 'aws_iam_role.pipeline-daily-sales-role_'],
    ['a narrow managed policy', 'prod', (o) => (o.tf('prod-cluster', 'aws_iam_role_policy_attachment', 'node-role-AmazonEC2ContainerRegistryPullOnly').policy_arn = 'arn:aws:iam::aws:policy/AdministratorAccess'), 'DL-IAM-006', 'aws_iam_role_policy_attachment.node-role-AmazonEC2ContainerRegistryPullOnly'],
    ['the owner tag', 'prod', (o) => delete o.stack('prod-network').provider!.aws![0]!.default_tags[0].tags.owner, 'DL-TAG-001', 'provider.aws'],
    ['the Argo CD chart version', 'prod', (o) => delete o.tf('prod-bootstrap', 'helm_release', 'argocd').version, 'DL-HELM-001', 'helm_release.argocd'],
    ['a default-deny NetworkPolicy', 'prod', (o) => o.dropFile('prod', 'platform/networkpolicy-kafka-default-deny.yaml'), 'DL-NS-003', 'Namespace/kafka'],
    ['a Pod Security label', 'prod', (o) => delete (o.k8s('prod', 'platform/namespace-kafka.yaml').metadata.labels as Record<string, string>)['pod-security.kubernetes.io/enforce'], 'DL-NS-001', 'Namespace/kafka'],
    ['restricted Pod Security', 'prod', (o) => ((o.k8s('prod', 'platform/namespace-pipelines.yaml').metadata.labels as Record<string, string>)['pod-security.kubernetes.io/enforce'] = 'baseline'), 'DL-NS-002', 'Namespace/pipelines'],
    ['deleteClaim: false', 'prod', (o) => (o.k8s('prod', 'kafka/kafkanodepool-kafka-brokers.yaml').spec.storage.volumes[0].deleteClaim = true), 'DL-KAFKA-005', 'KafkaNodePool/kafka/brokers'],
    ['TLS on the listener', 'prod', (o) => (o.k8s('prod', 'kafka/kafka-kafka-events.yaml').spec.kafka.listeners[0].tls = false), 'DL-KAFKA-001', 'Kafka/kafka/events'],
    ['Kafka authorization', 'staging', (o) => delete o.k8s('staging', 'kafka/kafka-kafka-events.yaml').spec.kafka.authorization, 'DL-KAFKA-002', 'Kafka/kafka/events'],
    ["prod's min.insync.replicas", 'prod', (o) => (o.k8s('prod', 'kafka/kafka-kafka-events.yaml').spec.kafka.config['min.insync.replicas'] = 1), 'DL-KAFKA-003', 'Kafka/kafka/events'],
    ["a topic's replicas", 'prod', (o) => (o.k8s('prod', 'pipelines/order-events/kafkatopic-kafka-orders.yaml').spec.replicas = 1), 'DL-KAFKA-004', 'KafkaTopic/kafka/orders'],
    ["a user's literal ACLs", 'prod', (o) => (o.k8s('prod', 'pipelines/temperature/kafkauser-kafka-temperature.yaml').spec.authorization.acls[0].resource.name = '*'), 'DL-KAFKA-006', 'KafkaUser/kafka/temperature'],
    ['the HdfsCluster', 'prod', (o) => o.dropFile('prod', 'hdfs/hdfscluster-hdfs-lake.yaml'), 'DL-HDFS-001', 'environment prod'],
    ["HDFS's replication", 'prod', (o) => (o.k8s('prod', 'hdfs/hdfscluster-hdfs-lake.yaml').spec.clusterConfig.dfsReplication = 1), 'DL-HDFS-003', 'HdfsCluster/hdfs/lake'],
    ['Prune=false,Delete=false on the HdfsCluster', 'prod', (o) => delete (o.k8s('prod', 'hdfs/hdfscluster-hdfs-lake.yaml').metadata as { annotations?: object }).annotations, 'DL-ARGO-001', 'HdfsCluster/hdfs/lake'],
    ['Prune=false,Delete=false on the kafka Application', 'prod', (o) => delete (o.k8s('prod', 'apps/application-argocd-kafka.yaml').metadata as { annotations?: Record<string, string> }).annotations!['argocd.argoproj.io/sync-options'], 'DL-ARGO-002', 'Application/argocd/kafka'],
    ['self-heal', 'prod', (o) => (o.k8s('prod', 'apps/application-argocd-pipelines.yaml').spec.syncPolicy.automated.selfHeal = false), 'DL-ARGO-003', 'Application/argocd/pipelines'],
    ["a driver's read-only root filesystem", 'prod', (o) => (o.k8s('prod', 'pipelines/temperature/sparkapplication-pipelines-temperature.yaml').spec.driver.securityContext.readOnlyRootFilesystem = false), 'DL-K8S-002', 'SparkApplication/pipelines/temperature'],
    ["an executor's memory", 'dev', (o) => delete o.k8s('dev', 'pipelines/daily-sales/scheduledsparkapplication-pipelines-daily-sales.yaml').spec.template.executor.memory, 'DL-K8S-005', 'ScheduledSparkApplication/pipelines/daily-sales'],
    ['a pinned image', 'prod', (o) => (o.k8s('prod', 'spark/deployment-spark-operator-spark-history-server.yaml').spec.template.spec.containers[0].image = 'docker.io/library/spark:latest'), 'DL-K8S-006', 'Deployment/spark-operator/spark-history-server'],
    ['pod network isolation', 'prod', (o) => (o.k8s('prod', 'spark/deployment-spark-operator-spark-history-server.yaml').spec.template.spec.hostNetwork = true), 'DL-K8S-008', 'Deployment/spark-operator/spark-history-server'],
    ['the retaining StorageClass', 'prod', (o) => (o.k8s('prod', 'platform/storageclass-data-gp3-retain.yaml').reclaimPolicy = 'Delete'), 'DL-STORAGE-001', 'StorageClass/data-gp3-retain'],
    ['Secrets by name only', 'prod', (o) => o.k8s('prod', 'spark/role-kafka-kafka-credentials.yaml').rules[0].verbs.push('list'), 'DL-RBAC-002', 'Role/kafka/kafka-credentials'],
    ['an unsupported EKS version', 'staging', (o) => (o.tf('staging-cluster', 'aws_eks_cluster', 'cluster').version = '1.29'), 'DL-EKS-004', 'aws_eks_cluster.cluster'],
    ['access entries only', 'prod', (o) => (o.tf('prod-cluster', 'aws_eks_cluster', 'cluster').access_config.bootstrap_cluster_creator_admin_permissions = true), 'DL-EKS-006', 'aws_eks_cluster.cluster'],
    ['the closed default security group', 'prod', (o) => o.drop('prod-network', 'aws_default_security_group', 'default-security-group'), 'DL-VPC-002', 'aws_vpc.vpc'],
    ['enumerated actions', 'prod', (o) => o.addStatement('spark-history-server-role_policy_', { Effect: 'Allow', Action: 'logs:*', Resource: 'arn:aws:logs:eu-central-1:333333333333:log-group:x' }), 'DL-IAM-001', 'aws_iam_role_policy.spark-history-server-role_policy_'],
    ['the reason for a managed policy', 'prod', (o) => delete o.tf('prod-cluster', 'aws_iam_role_policy_attachment', 'cluster-role-policy')['//'].suppressions, 'DL-IAM-005', 'aws_iam_role_policy_attachment.cluster-role-policy'],
    ["the argocd namespace's restricted Pod Security", 'prod', (o) => (o.tf('prod-bootstrap', 'kubernetes_namespace_v1', 'argocd-namespace').metadata.labels['pod-security.kubernetes.io/enforce'] = 'privileged'), 'DL-NS-004', 'kubernetes_namespace_v1.argocd-namespace'],
    ['non-root', 'prod', (o) => {
      const pod = o.k8s('prod', 'spark/deployment-spark-operator-spark-history-server.yaml').spec.template.spec;
      delete pod.securityContext.runAsNonRoot;
      delete pod.containers[0].securityContext.runAsNonRoot;
    }, 'DL-K8S-001', 'Deployment/spark-operator/spark-history-server'],
    ['no privilege escalation', 'prod', (o) => delete o.k8s('prod', 'spark/deployment-spark-operator-spark-history-server.yaml').spec.template.spec.initContainers[0].securityContext.allowPrivilegeEscalation, 'DL-K8S-003', 'Deployment/spark-operator/spark-history-server'],
    ['dropped capabilities', 'prod', (o) => (o.k8s('prod', 'pipelines/order-events/sparkapplication-pipelines-order-events.yaml').spec.executor.securityContext.capabilities = { add: ['SYS_ADMIN'] }), 'DL-K8S-004', 'SparkApplication/pipelines/order-events'],
    ['volumes off the host', 'prod', (o) => o.k8s('prod', 'pipelines/temperature/sparkapplication-pipelines-temperature.yaml').spec.volumes.push({ name: 'host', hostPath: { path: '/' } }), 'DL-K8S-007', 'SparkApplication/pipelines/temperature'],
    ['unprivileged containers', 'prod', (o) => (o.k8s('prod', 'spark/deployment-spark-operator-spark-history-server.yaml').spec.template.spec.containers[0].securityContext.privileged = true), 'DL-K8S-009', 'Deployment/spark-operator/spark-history-server'],
    ['the seccomp profile', 'prod', (o) => {
      const driver = o.k8s('prod', 'pipelines/temperature/sparkapplication-pipelines-temperature.yaml').spec.driver;
      delete driver.securityContext.seccompProfile;
      delete driver.podSecurityContext.seccompProfile;
    }, 'DL-K8S-010', 'SparkApplication/pipelines/temperature'],
    ['the retaining StorageClass of the datanodes', 'prod', (o) => delete o.k8s('prod', 'hdfs/hdfscluster-hdfs-lake.yaml').spec.dataNodes.config.resources.storage.data.storageClass, 'DL-HDFS-002', 'HdfsCluster/hdfs/lake'],
    ['a pinned operator chart', 'prod', (o) => (o.k8s('prod', 'apps/application-argocd-strimzi.yaml').spec.source.targetRevision = '1.*'), 'DL-ARGO-004', 'Application/argocd/strimzi'],
    ['a narrow Role', 'prod', (o) => (o.k8s('prod', 'spark/role-pipelines-spark-driver.yaml').rules[0].verbs = ['*']), 'DL-RBAC-001', 'Role/pipelines/spark-driver'],
    ["the repository Secret's reason", 'prod', (o) => delete (o.k8s('prod', 'apps/secret-argocd-stackable-charts.yaml').metadata.annotations as Record<string, string>)['driftless.io/suppress'], 'DL-SECRET-001', 'Secret/argocd/stackable-charts'],
    ['a valid object name', 'dev', (o) => ((o.k8s('dev', 'pipelines/temperature/kafkatopic-kafka-temperature.dlq.yaml').metadata as { name: string }).name = 'temperature..dlq'), 'DL-K8S-011', 'KafkaTopic/kafka/temperature..dlq'],
    ["the logs bucket's suppressions", 'prod', (o) => delete o.tf('prod-data-lake', 'aws_s3_bucket', 'logs_')['//'].suppressions, 'DL-S3-002', 'aws_s3_bucket.logs_bucket_'],
    ["a suppression's reason", 'prod', (o) => ((o.k8s('prod', 'platform/namespace-hdfs.yaml').metadata.annotations as Record<string, string>)['driftless.io/suppress'] = 'DL-NS-002: legacy'), 'DL-POLICY-001', 'Namespace/hdfs'],
  ];

  it.each(MUTATIONS)('fails when %s is removed (%s)', (_, env, mutate, ruleId, subject) => {
    const mutated = new Mutable(output);
    mutate(mutated);
    const evaluation = evaluate(RULES, mutated.output, environments);
    expect(fails(evaluation)).toBe(true);
    const matching = evaluation.findings.filter((f) => f.ruleId === ruleId && f.environment === env && f.severity === 'error');
    expect(matching.map((f) => f.subject).some((s) => s.startsWith(subject)), `${ruleId} on ${subject}: ${JSON.stringify(evaluation.findings.map((f) => [f.ruleId, f.subject]))}`).toBe(true);
  });

  it('has a mutation of the real output for every rule', () => {
    const mutated = new Set(MUTATIONS.map((m) => m[3]));
    expect(RULES.map((r) => r.id).filter((id) => !mutated.has(id))).toEqual([]);
  });

  it('reports missing output with how to produce it', SLOW, () => {
    const bare = join(scratch, 'never-synthesized');
    copyProject(bare);
    const result = run(bare, 'scripts/validate.ts');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('validate: no complete synthesized output: cdktf.out/stacks/dev-network/cdk.tf.json does not exist');
    expect(result.stderr).toContain('Run `npm run synth` first.');
  });

  it('rejects an unknown environment', SLOW, () => {
    const result = run(project, 'scripts/validate.ts', ['--env', 'qa']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`option '--env' must be one of ${KNOWN} (the files in environments/), got 'qa'`);
  });
});

describe('npm run validate after a control is removed from the code', () => {
  const project = join(scratch, 'edited');

  beforeAll(() => copyProject(project));

  /** Edits a source file of the copy, synthesizes and validates, and restores the file. */
  function validateWithEdit(file: string, from: string | RegExp, to: string) {
    const path = join(project, file);
    const original = readFileSync(path, 'utf8');
    const edited = original.replace(from, to);
    expect(edited, `the edit of ${file} changed nothing`).not.toBe(original);
    writeFileSync(path, edited);
    try {
      const synth = run(project, 'scripts/synth.ts');
      expect(synth.stderr).toBe('');
      return run(project, 'scripts/validate.ts');
    } finally {
      writeFileSync(path, original);
    }
  }

  it('fails on a bucket without its public access block', SLOW, () => {
    const result = validateWithEdit('infra/constructs/data-lake-bucket.ts', /const publicAccess = new S3BucketPublicAccessBlock\(this, 'public-access', \{[\s\S]*?\}\);/, 'const publicAccess = this.bucket;');
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/error {4}DL-S3-003 {2}prod-data-lake {2}aws_s3_bucket\.raw_bucket_\w+\n {11}bucket driftless-prod-raw-333333333333-eu-central-1 has no public access block/);
    expect(lastLine(result.stdout)).toBe('15 errors, 0 warnings, 33 suppressed');
  });

  it('fails on a namespace without its default-deny NetworkPolicy', SLOW, () => {
    const result = validateWithEdit('k8s/charts/platform-chart.ts', "new k8s.KubeNetworkPolicy(this, `${namespace}-default-deny`", "if (namespace !== 'kafka') new k8s.KubeNetworkPolicy(this, `${namespace}-default-deny`");
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('DL-NS-003  k8s/rendered/dev/platform/namespace-kafka.yaml  Namespace/kafka\n           namespace kafka has no default-deny NetworkPolicy');
    expect(lastLine(result.stdout)).toBe('3 errors, 0 warnings, 33 suppressed');
  });

  it('fails on a suppression whose reason is not a sentence, and on the finding it no longer excuses', SLOW, () => {
    const result = validateWithEdit('infra/stacks/data-lake-stack.ts', /reason: 'This is the bucket that receives[^']*'/, "reason: 'loop'");
    expect(result.status).toBe(1);
    expect(result.stdout).toContain("suppression 'DL-S3-005' must give a reason of at least a sentence");
    expect(result.stdout).toMatch(/error {4}DL-S3-005 {2}prod-data-lake {2}aws_s3_bucket\.logs_bucket_\w+\n {11}bucket driftless-prod-logs-\S+ has no server access logging/);
    expect(lastLine(result.stdout)).toBe('6 errors, 0 warnings, 30 suppressed');
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

  addStatement(policyPrefix: string, statement: object): void {
    const policy = this.tf('prod-cluster', 'aws_iam_role_policy', policyPrefix);
    const document = JSON.parse(policy.policy);
    document.Statement.push(statement);
    policy.policy = JSON.stringify(document);
  }

  dropTrustTag(rolePrefix: string, tag: string): void {
    const role = this.tf('prod-cluster', 'aws_iam_role', rolePrefix);
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
