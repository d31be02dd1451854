import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import {
  bucketName,
  clusterName,
  karpenterInterruptionQueueName,
  karpenterNodeRoleName,
  pipelineImageRepository,
  pipelineRoleName,
  PROJECT,
  workloadRoleName,
} from '../../environments/naming';
import type { Environment, EnvironmentName } from '../../environments/schema';
import { fixtureEnvironment, fixtureEnvironments } from '../fixtures/environments';
import { evaluate } from './engine';
import type { Block, Rule, TerraformJson } from './rule';
import { RULES } from './rules';

// Each Terraform rule runs alone over a one-stack fixture: a passing one (no finding of the rule) and at least
// one failing one (a finding of the rule whose message contains the expected text). The environment is a fixture
// (live, a production environment, unless said otherwise); how the rules that read an environment's values treat
// the project's own environments is checked as a property.

const environments = fixtureEnvironments();
const envNamed = (name: EnvironmentName) => environments.find((env) => env.name === name)!;
const LIVE = fixtureEnvironment('live');
const LAB = fixtureEnvironment('lab');
/** The fixture environments and the project's own, however many and however named. */
const every = [...environments, ...(await loadEnvironments())];

type Resources = Record<string, Record<string, Block>>;
interface Fixture {
  readonly env?: EnvironmentName;
  readonly json: TerraformJson;
}
interface RuleFixtures {
  readonly pass: Fixture;
  readonly fail: ReadonlyArray<Fixture & { readonly name: string; readonly message: string }>;
}

const clone = <T>(value: T): T => structuredClone(value);
const stack = (resource: Resources, provider?: TerraformJson['provider']): TerraformJson => ({ resource, ...(provider ? { provider } : {}) });

/** Runs one rule over one stack of one environment (live unless said otherwise). */
function findingsOf(rule: Rule, fixture: Fixture, env: Environment = envNamed(fixture.env ?? LIVE.name)) {
  return evaluate([rule], { stacks: [{ environment: env.name, name: `${env.name}-fixture`, file: 'fixture', json: fixture.json }], manifests: [] }, [env]).findings;
}

// A bucket with every control, which each failing fixture breaks in one way.
const BUCKET = bucketName(LIVE, 'raw');
const REF = '${aws_s3_bucket.b.id}';
const tlsDeny = {
  Sid: 'DenyInsecureTransport',
  Effect: 'Deny',
  Principal: '*',
  Action: 's3:*',
  Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
};
const goodBucket = (): Resources => ({
  aws_s3_bucket: { b: { bucket: BUCKET, force_destroy: false, lifecycle: { prevent_destroy: true } } },
  aws_s3_bucket_versioning: { v: { bucket: REF, versioning_configuration: { status: 'Enabled' } } },
  aws_s3_bucket_server_side_encryption_configuration: {
    e: { bucket: REF, rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms', kms_master_key_id: '${aws_kms_key.k.arn}' }, bucket_key_enabled: true }] },
  },
  aws_s3_bucket_public_access_block: { p: { bucket: REF, block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true } },
  aws_s3_bucket_policy: { pol: { bucket: REF, policy: JSON.stringify({ Version: '2012-10-17', Statement: [tlsDeny] }) } },
  aws_s3_bucket_logging: { l: { bucket: REF, target_bucket: bucketName(LIVE, 'logs'), target_prefix: `${BUCKET}/` } },
  aws_s3_bucket_lifecycle_configuration: {
    lc: {
      bucket: REF,
      rule: [
        { id: 'abort', status: 'Enabled', filter: [{}], abort_incomplete_multipart_upload: [{ days_after_initiation: 7 }] },
        { id: 'noncurrent', status: 'Enabled', filter: [{}], noncurrent_version_expiration: [{ noncurrent_days: 30 }] },
      ],
    },
  },
  aws_s3_bucket_ownership_controls: { o: { bucket: REF, rule: { object_ownership: 'BucketOwnerEnforced' } } },
});
const bucketWith = (edit: (r: Resources) => void): TerraformJson => {
  const resources = clone(goodBucket());
  edit(resources);
  return stack(resources);
};

// A repository with every control, which each failing fixture breaks in one way.
const REPOSITORY = pipelineImageRepository(LIVE.name);
const REPOSITORY_REF = '${aws_ecr_repository.r.name}';
const WRITES = ['ecr:PutImage', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:BatchDeleteImage'];
const pushDeny = (deployRole: string = LIVE.aws.deployRoleArn) => ({ Sid: 'OnlyThePushRoleWrites', Effect: 'Deny', Principal: '*', Action: WRITES, Condition: { StringNotEquals: { 'aws:PrincipalArn': deployRole } } });
const nodesPull = { Sid: 'PullRolesRead', Effect: 'Allow', Principal: { AWS: ['${aws_iam_role.node-role.arn}'] }, Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'] };
const repositoryPolicy = (...statements: object[]) => ({ p: { repository: REPOSITORY_REF, policy: JSON.stringify({ Version: '2012-10-17', Statement: statements }) } });
const goodRepository = (): Resources => ({
  aws_ecr_repository: {
    r: {
      name: REPOSITORY,
      image_tag_mutability: 'IMMUTABLE',
      image_scanning_configuration: { scan_on_push: true },
      encryption_configuration: [{ encryption_type: 'KMS', kms_key: '${data.aws_kms_alias.data-key.target_key_arn}' }],
      force_delete: false,
      lifecycle: { prevent_destroy: true },
    },
  },
  aws_ecr_lifecycle_policy: {
    lc: {
      repository: REPOSITORY_REF,
      policy: JSON.stringify({ rules: [{ rulePriority: 1, selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 }, action: { type: 'expire' } }] }),
    },
  },
  aws_ecr_repository_policy: repositoryPolicy(pushDeny(), nodesPull),
});
const repositoryWith = (edit: (r: Resources, repository: Record<string, any>) => void): TerraformJson => {
  const resources = clone(goodRepository());
  edit(resources, resources.aws_ecr_repository!.r as Record<string, any>);
  return stack(resources);
};

const goodKey = (): Resources => ({ aws_kms_key: { k: { enable_key_rotation: true, deletion_window_in_days: 30, lifecycle: { prevent_destroy: true } } } });

const CLUSTER_ARN = `arn:aws:eks:${LIVE.aws.region}:${LIVE.aws.accountId}:cluster/${clusterName(LIVE.name)}`;
const goodCluster = (): Block => ({
  name: clusterName(LIVE.name),
  version: '1.34',
  vpc_config: { endpoint_private_access: true, endpoint_public_access: false, subnet_ids: '${data.aws_subnets.private.ids}' },
  encryption_config: { resources: ['secrets'], provider: { key_arn: '${aws_kms_key.secrets.arn}' } },
  enabled_cluster_log_types: ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'],
  access_config: { authentication_mode: 'API', bootstrap_cluster_creator_admin_permissions: false },
  deletion_protection: true,
});
const clusterWith = (edit: (c: Record<string, any>) => void): TerraformJson => {
  const cluster = clone(goodCluster()) as Record<string, any>;
  edit(cluster);
  return stack({ aws_eks_cluster: { cluster } });
};

const goodTemplate = (): Block => ({
  name: `${clusterName(LIVE.name)}-general`,
  metadata_options: { http_endpoint: 'enabled', http_tokens: 'required', http_put_response_hop_limit: 1 },
  // EC2 takes a device by its short name (xvdh) as well as by its full path.
  block_device_mappings: [{ device_name: 'xvdh', ebs: { volume_size: 200, volume_type: 'gp3', encrypted: 'true' } }],
});
const templateWith = (edit: (t: Record<string, any>) => void): TerraformJson => {
  const template = clone(goodTemplate()) as Record<string, any>;
  edit(template);
  return stack({ aws_launch_template: { lt: template } });
};

const goodNetwork = (): Resources => ({
  aws_vpc: { vpc: { cidr_block: LIVE.network.vpcCidr } },
  aws_flow_log: { fl: { vpc_id: '${aws_vpc.vpc.id}', traffic_type: 'ALL', log_destination: '${aws_cloudwatch_log_group.fl.arn}' } },
  aws_default_security_group: { dsg: { vpc_id: '${aws_vpc.vpc.id}', ingress: [], egress: [] } },
});
const networkWith = (edit: (r: Resources) => void): TerraformJson => {
  const resources = clone(goodNetwork());
  edit(resources);
  return stack(resources);
};

const policy = (...statements: object[]) => ({ aws_iam_role_policy: { p: { role: '${aws_iam_role.r.id}', name: 'workload', policy: JSON.stringify({ Version: '2012-10-17', Statement: statements }) } } });
const readObjects = { Sid: 'ReadObjects', Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${BUCKET}/ledger/*`] };
const podIdentityTrust = (condition: object) => ({
  aws_iam_role: {
    r: {
      name: pipelineRoleName(LIVE.name, 'x'),
      assume_role_policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'], Condition: condition }],
      }),
    },
  },
});
const scopedCondition = {
  StringEquals: {
    'aws:RequestTag/eks-cluster-arn': CLUSTER_ARN,
    'aws:RequestTag/kubernetes-namespace': 'pipelines',
    'aws:RequestTag/kubernetes-service-account': 'spark-x',
  },
};
const attachment = (policyArn: string) => ({ aws_iam_role_policy_attachment: { a: { role: '${aws_iam_role.r.name}', policy_arn: policyArn } } });

// Karpenter's AWS side with every control, which each failing fixture breaks in one way.
const passRole = { Sid: 'PassOnlyTheNodeRole', Effect: 'Allow', Action: ['iam:PassRole'], Resource: '${aws_iam_role.node.arn}', Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } } };
const goodKarpenter = (): Resources => ({
  aws_iam_role: {
    controller: { name: workloadRoleName(LIVE.name, 'karpenter'), assume_role_policy: '{}' },
    node: { name: karpenterNodeRoleName(LIVE.name), assume_role_policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) },
  },
  aws_iam_role_policy: { controller: { role: '${aws_iam_role.controller.id}', name: 'workload', policy: JSON.stringify({ Version: '2012-10-17', Statement: [passRole] }) } },
  aws_eks_access_entry: { node: { cluster_name: '${aws_eks_cluster.cluster.name}', principal_arn: '${aws_iam_role.node.arn}', type: 'EC2_LINUX' } },
});
const karpenterWith = (edit: (r: Resources) => void): TerraformJson => {
  const resources = clone(goodKarpenter());
  edit(resources);
  return stack(resources);
};
const controllerPassing = (statement: object) => karpenterWith((r) => ((r.aws_iam_role_policy!.controller as any).policy = JSON.stringify({ Statement: [statement] })));

// The interruption queue with every control.
const QUEUE = karpenterInterruptionQueueName(LIVE.name);
const queueTlsDeny = { Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: 'sqs:*', Resource: '${aws_sqs_queue.q.arn}', Condition: { Bool: { 'aws:SecureTransport': 'false' } } };
const goodQueue = (): Resources => ({
  aws_sqs_queue: { q: { name: QUEUE, message_retention_seconds: 300, sqs_managed_sse_enabled: true } },
  aws_sqs_queue_policy: { p: { queue_url: '${aws_sqs_queue.q.url}', policy: JSON.stringify({ Version: '2012-10-17', Statement: [queueTlsDeny] }) } },
});
const queueWith = (edit: (r: Resources, queue: Record<string, any>) => void): TerraformJson => {
  const resources = clone(goodQueue());
  edit(resources, resources.aws_sqs_queue!.q as Record<string, any>);
  return stack(resources);
};
const queuePolicy = (...statements: object[]) => ({ p: { queue_url: '${aws_sqs_queue.q.url}', policy: JSON.stringify({ Statement: statements }) } });

const provider = (tags: Record<string, string>) => ({ aws: [{ region: LIVE.aws.region, allowed_account_ids: [LIVE.aws.accountId], default_tags: [{ tags }] }] });
const LIVE_TAGS = { environment: LIVE.name, owner: LIVE.tags.owner, 'cost-centre': LIVE.tags.costCentre, 'managed-by': PROJECT };
/** A log group ARN in the fixture environment's account and region. */
const logGroup = `arn:aws:logs:${LIVE.aws.region}:${LIVE.aws.accountId}:log-group:x`;

const FIXTURES: Record<string, RuleFixtures> = {
  'DL-S3-001': {
    pass: { json: stack(goodBucket()) },
    fail: [
      { name: 'no versioning resource', json: bucketWith((r) => delete r.aws_s3_bucket_versioning), message: `bucket ${BUCKET} has no versioning` },
      { name: 'versioning suspended', json: bucketWith((r) => (r.aws_s3_bucket_versioning!.v = { bucket: REF, versioning_configuration: { status: 'Suspended' } })), message: 'has no versioning' },
      { name: 'versioning of another bucket', json: bucketWith((r) => (r.aws_s3_bucket_versioning!.v = { bucket: '${aws_s3_bucket.other.id}', versioning_configuration: { status: 'Enabled' } })), message: 'has no versioning' },
    ],
  },
  'DL-S3-002': {
    pass: { json: stack(goodBucket()) },
    fail: [
      { name: 'SSE-S3', json: bucketWith((r) => (r.aws_s3_bucket_server_side_encryption_configuration!.e = { bucket: REF, rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'AES256' } }] })), message: 'is encrypted with AES256, not SSE-KMS' },
      { name: 'no encryption configuration', json: bucketWith((r) => delete r.aws_s3_bucket_server_side_encryption_configuration), message: 'has no default encryption configuration' },
      { name: 'SSE-KMS without a bucket key', json: bucketWith((r) => (r.aws_s3_bucket_server_side_encryption_configuration!.e = { bucket: REF, rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms', kms_master_key_id: 'k' } }] })), message: 'without an S3 bucket key' },
      { name: 'SSE-KMS with the AWS managed key', json: bucketWith((r) => (r.aws_s3_bucket_server_side_encryption_configuration!.e = { bucket: REF, rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms' }, bucket_key_enabled: true }] })), message: 'without naming a key' },
    ],
  },
  'DL-S3-003': {
    pass: { json: stack(goodBucket()) },
    fail: [
      { name: 'no public access block', json: bucketWith((r) => delete r.aws_s3_bucket_public_access_block), message: 'has no public access block' },
      { name: 'one setting off', json: bucketWith((r) => (r.aws_s3_bucket_public_access_block!.p = { ...r.aws_s3_bucket_public_access_block!.p, restrict_public_buckets: false })), message: 'does not set restrict_public_buckets to true' },
    ],
  },
  'DL-S3-004': {
    pass: { json: stack(goodBucket()) },
    fail: [
      { name: 'no bucket policy', json: bucketWith((r) => delete r.aws_s3_bucket_policy), message: 'has no bucket policy' },
      { name: 'a policy without the TLS deny', json: bucketWith((r) => (r.aws_s3_bucket_policy!.pol = { bucket: REF, policy: JSON.stringify({ Statement: [{ ...tlsDeny, Effect: 'Allow' }] }) })), message: 'no policy statement denying s3:* to anyone without TLS' },
      { name: 'a TLS deny on the objects only', json: bucketWith((r) => (r.aws_s3_bucket_policy!.pol = { bucket: REF, policy: JSON.stringify({ Statement: [{ ...tlsDeny, Resource: `arn:aws:s3:::${BUCKET}/*` }] }) })), message: 'denying s3:*' },
    ],
  },
  'DL-S3-005': {
    pass: { json: stack(goodBucket()) },
    fail: [
      { name: 'no access logging', json: bucketWith((r) => delete r.aws_s3_bucket_logging), message: 'has no server access logging' },
      { name: 'logging into itself', json: bucketWith((r) => (r.aws_s3_bucket_logging!.l = { bucket: REF, target_bucket: BUCKET })), message: 'logs its access to itself' },
    ],
  },
  'DL-S3-006': {
    pass: { json: stack(goodBucket()) },
    fail: [
      { name: 'no lifecycle configuration', json: bucketWith((r) => delete r.aws_s3_bucket_lifecycle_configuration), message: 'has no lifecycle configuration' },
      { name: 'noncurrent expiry disabled', json: bucketWith((r) => ((r.aws_s3_bucket_lifecycle_configuration!.lc as any).rule[1].status = 'Disabled')), message: 'to expire noncurrent versions' },
    ],
  },
  'DL-S3-007': {
    pass: { json: stack(goodBucket()) },
    fail: [{ name: 'ACLs allowed', json: bucketWith((r) => (r.aws_s3_bucket_ownership_controls!.o = { bucket: REF, rule: { object_ownership: 'ObjectWriter' } })), message: 'does not enforce bucket-owner object ownership' }],
  },
  'DL-KMS-001': {
    pass: { json: stack(goodKey()) },
    fail: [{ name: 'rotation off', json: stack({ aws_kms_key: { k: { enable_key_rotation: false } } }), message: 'does not rotate' }],
  },
  'DL-DATA-001': {
    pass: { json: stack({ ...goodBucket(), ...goodRepository() }) },
    fail: [
      { name: 'force_destroy where data is kept', json: bucketWith((r) => ((r.aws_s3_bucket!.b as any).force_destroy = true)), message: `bucket ${BUCKET} has force_destroy although environment '${LIVE.name}' retains data` },
      { name: 'a repository with force_delete where data is kept', json: repositoryWith((_, repository) => (repository.force_delete = true)), message: `repository ${REPOSITORY} has force_delete although environment '${LIVE.name}' retains data` },
    ],
  },
  'DL-DATA-002': {
    pass: { json: stack({ ...goodBucket(), ...goodKey(), ...goodRepository() }) },
    fail: [
      { name: 'a bucket without prevent_destroy where data is kept', json: bucketWith((r) => delete (r.aws_s3_bucket!.b as any).lifecycle), message: `bucket ${BUCKET} lacks lifecycle prevent_destroy although environment '${LIVE.name}' retains data` },
      { name: 'a key without prevent_destroy where data is kept', json: stack({ aws_kms_key: { k: { enable_key_rotation: true, lifecycle: { prevent_destroy: false } } } }), message: 'the key lacks lifecycle prevent_destroy' },
      { name: 'a repository without prevent_destroy where data is kept', json: repositoryWith((_, repository) => (repository.lifecycle = { prevent_destroy: false })), message: `repository ${REPOSITORY} lacks lifecycle prevent_destroy although environment '${LIVE.name}' retains data` },
    ],
  },
  'DL-ECR-001': {
    pass: { json: stack(goodRepository()) },
    fail: [
      { name: 'mutable tags', json: repositoryWith((_, repository) => (repository.image_tag_mutability = 'MUTABLE')), message: `repository ${REPOSITORY} lets a push move its tags (image_tag_mutability MUTABLE)` },
      { name: 'the default mutability', json: repositoryWith((_, repository) => delete repository.image_tag_mutability), message: 'image_tag_mutability unset, so MUTABLE' },
      { name: 'immutable tags with exclusions', json: repositoryWith((_, repository) => (repository.image_tag_mutability = 'IMMUTABLE_WITH_EXCLUSION')), message: 'image_tag_mutability IMMUTABLE_WITH_EXCLUSION' },
    ],
  },
  'DL-ECR-002': {
    pass: { json: stack(goodRepository()) },
    fail: [
      { name: 'no scan on push', json: repositoryWith((_, repository) => (repository.image_scanning_configuration = { scan_on_push: false })), message: `repository ${REPOSITORY} does not scan images on push` },
      { name: 'no scanning configuration', json: repositoryWith((_, repository) => delete repository.image_scanning_configuration), message: 'does not scan images on push' },
    ],
  },
  'DL-ECR-003': {
    pass: { json: stack(goodRepository()) },
    fail: [
      { name: 'AES256', json: repositoryWith((_, repository) => (repository.encryption_configuration = [{ encryption_type: 'AES256' }])), message: `repository ${REPOSITORY} is encrypted with AES256, not KMS` },
      { name: 'no encryption configuration (AES256 by default)', json: repositoryWith((_, repository) => delete repository.encryption_configuration), message: 'is encrypted with AES256, not KMS' },
      { name: 'KMS with the AWS managed key', json: repositoryWith((_, repository) => (repository.encryption_configuration = [{ encryption_type: 'KMS' }])), message: 'uses KMS without naming a key' },
    ],
  },
  'DL-ECR-004': {
    pass: { json: stack(goodRepository()) },
    fail: [
      { name: 'no lifecycle policy', json: repositoryWith((r) => delete r.aws_ecr_lifecycle_policy), message: `repository ${REPOSITORY} has no lifecycle policy, so every image pushed is kept forever` },
      { name: "another repository's lifecycle policy", json: repositoryWith((r) => ((r.aws_ecr_lifecycle_policy!.lc as any).repository = '${aws_ecr_repository.other.name}')), message: 'has no lifecycle policy' },
      { name: 'a lifecycle policy that expires nothing', json: repositoryWith((r) => ((r.aws_ecr_lifecycle_policy!.lc as any).policy = JSON.stringify({ rules: [] }))), message: 'has a lifecycle policy that expires nothing' },
    ],
  },
  'DL-ECR-005': {
    pass: { json: stack(goodRepository()) },
    fail: [
      { name: 'no repository policy', json: repositoryWith((r) => delete r.aws_ecr_repository_policy), message: `repository ${REPOSITORY} has no repository policy, so any principal that IAM lets push can push` },
      { name: 'a policy that only allows pulls', json: repositoryWith((r) => (r.aws_ecr_repository_policy = repositoryPolicy(nodesPull))), message: `does not deny ${WRITES.join(', ')} to every principal but the deploy role ${LIVE.aws.deployRoleArn}` },
      {
        name: 'a deny that exempts another admin of the cluster',
        json: repositoryWith((r) => (r.aws_ecr_repository_policy = repositoryPolicy(pushDeny(LIVE.cluster.adminRoleArns.find((arn) => arn !== LIVE.aws.deployRoleArn)!), nodesPull))),
        message: `(its deny exempts ${LIVE.cluster.adminRoleArns.find((arn) => arn !== LIVE.aws.deployRoleArn)})`,
      },
      { name: 'a deny that exempts a second role', json: repositoryWith((r) => (r.aws_ecr_repository_policy = repositoryPolicy({ ...pushDeny(), Condition: { StringNotEquals: { 'aws:PrincipalArn': [LIVE.aws.deployRoleArn, 'arn:aws:iam::666666666666:role/ci'] } } }))), message: 'does not deny ecr:PutImage' },
      { name: 'a deny without ecr:BatchDeleteImage', json: repositoryWith((r) => (r.aws_ecr_repository_policy = repositoryPolicy({ ...pushDeny(), Action: WRITES.slice(0, 4) }))), message: 'does not deny ecr:BatchDeleteImage to every principal but' },
      { name: 'a deny only without TLS', json: repositoryWith((r) => (r.aws_ecr_repository_policy = repositoryPolicy({ ...pushDeny(), Condition: { ...pushDeny().Condition, Bool: { 'aws:SecureTransport': 'false' } } }))), message: 'does not deny ecr:PutImage' },
      { name: 'a deny of one principal only', json: repositoryWith((r) => (r.aws_ecr_repository_policy = repositoryPolicy({ ...pushDeny(), Principal: { AWS: 'arn:aws:iam::666666666666:role/ci' } }))), message: 'does not deny ecr:PutImage' },
      { name: 'a policy the gate cannot read', json: repositoryWith((r) => ((r.aws_ecr_repository_policy!.p as any).policy = '${data.aws_iam_policy_document.p.json}')), message: 'has a repository policy the gate cannot read' },
    ],
  },
  'DL-DATA-003': {
    pass: { json: stack({ aws_eks_cluster: { cluster: goodCluster() } }) },
    fail: [{ name: 'no deletion protection where data is kept', json: clusterWith((c) => (c.deletion_protection = false)), message: `has no deletion protection although environment '${LIVE.name}' retains data` }],
  },
  'DL-EKS-001': {
    pass: { json: stack({ aws_eks_cluster: { cluster: goodCluster() } }) },
    fail: [
      { name: 'public endpoint where a private one is required', json: clusterWith((c) => (c.vpc_config.endpoint_public_access = true)), message: `has a public API endpoint although environment '${LIVE.name}' requires a private one` },
      { name: 'public endpoint open to the internet where one is allowed', env: LAB.name, json: clusterWith((c) => (c.vpc_config = { endpoint_private_access: true, endpoint_public_access: true, public_access_cidrs: ['0.0.0.0/0'] })), message: 'open to 0.0.0.0/0' },
      { name: 'public endpoint without an allow list where one is allowed', env: LAB.name, json: clusterWith((c) => (c.vpc_config = { endpoint_private_access: true })), message: 'open to 0.0.0.0/0 (no public_access_cidrs)' },
    ],
  },
  'DL-EKS-002': {
    pass: { json: stack({ aws_eks_cluster: { cluster: goodCluster() } }) },
    fail: [{ name: 'no secrets encryption', json: clusterWith((c) => delete c.encryption_config), message: 'does not encrypt secrets with a KMS key' }],
  },
  'DL-EKS-003': {
    pass: { json: stack({ aws_eks_cluster: { cluster: goodCluster() } }) },
    fail: [{ name: 'no audit log', json: clusterWith((c) => (c.enabled_cluster_log_types = ['api', 'authenticator'])), message: 'does not ship the control-plane logs audit' }],
  },
  'DL-EKS-004': {
    pass: { json: stack({ aws_eks_cluster: { cluster: goodCluster() } }) },
    fail: [{ name: 'an unsupported version', json: clusterWith((c) => (c.version = '1.29')), message: 'runs version "1.29", not one of 1.34' }],
  },
  'DL-EKS-005': {
    pass: { json: stack({ aws_eks_addon: { cni: { addon_name: 'vpc-cni', addon_version: 'v1.22.3-eksbuild.1' } } }) },
    fail: [{ name: 'an add-on at whatever EKS picks', json: stack({ aws_eks_addon: { cni: { addon_name: 'vpc-cni' } } }), message: 'add-on vpc-cni has no pinned addon_version' }],
  },
  'DL-EKS-006': {
    pass: { json: stack({ aws_eks_cluster: { cluster: goodCluster() } }) },
    fail: [{ name: 'creator becomes admin', json: clusterWith((c) => (c.access_config = { authentication_mode: 'API' })), message: 'makes whoever creates it cluster admin' }],
  },
  'DL-EC2-001': {
    pass: { json: stack({ aws_launch_template: { lt: goodTemplate() } }) },
    fail: [
      { name: 'IMDSv1 allowed', json: templateWith((t) => (t.metadata_options.http_tokens = 'optional')), message: "allows IMDSv1 (http_tokens is not 'required')" },
      { name: 'no metadata options', json: templateWith((t) => delete t.metadata_options), message: 'allows IMDSv1' },
      { name: 'hop limit 2', json: templateWith((t) => (t.metadata_options.http_put_response_hop_limit = 2)), message: 'hop limit 2, not 1' },
    ],
  },
  'DL-EC2-002': {
    pass: { json: stack({ aws_launch_template: { lt: goodTemplate() } }) },
    fail: [
      { name: 'an unencrypted volume', json: templateWith((t) => (t.block_device_mappings[0].ebs.encrypted = 'false')), message: 'does not encrypt the volume xvdh' },
      { name: 'no volumes declared', json: templateWith((t) => delete t.block_device_mappings), message: 'declares no block device mapping' },
    ],
  },
  'DL-EC2-003': {
    pass: { json: stack({ aws_launch_template: { lt: goodTemplate() }, aws_eks_node_group: { ng: { node_group_name: 'general', launch_template: { id: '${aws_launch_template.lt.id}', version: '${aws_launch_template.lt.latest_version}' } } } }) },
    fail: [
      { name: 'no launch template', json: stack({ aws_eks_node_group: { ng: { node_group_name: 'general', disk_size: 50 } } }), message: 'node group general uses no launch template' },
      { name: 'a launch template from elsewhere', json: stack({ aws_eks_node_group: { ng: { node_group_name: 'general', launch_template: { id: 'lt-0123456789' } } } }), message: 'which is not a launch template of its stack' },
    ],
  },
  'DL-VPC-001': {
    pass: { json: stack(goodNetwork()) },
    fail: [
      { name: 'no flow log', json: networkWith((r) => delete r.aws_flow_log), message: 'the VPC has no flow logs' },
      { name: 'rejected traffic only', json: networkWith((r) => ((r.aws_flow_log!.fl as any).traffic_type = 'REJECT')), message: 'only part of its traffic' },
    ],
  },
  'DL-VPC-002': {
    pass: { json: stack(goodNetwork()) },
    fail: [
      { name: 'default security group unmanaged', json: networkWith((r) => delete r.aws_default_security_group), message: 'leaves its default security group unmanaged' },
      { name: 'default security group open', json: networkWith((r) => ((r.aws_default_security_group!.dsg as any).egress = [{ from_port: 0, to_port: 0, protocol: '-1', cidr_blocks: ['0.0.0.0/0'] }])), message: 'allows traffic' },
    ],
  },
  'DL-IAM-001': {
    pass: { json: stack({ ...policy(readObjects, { Effect: 'Allow', Action: ['logs:PutLogEvents'], Resource: `${logGroup}:*` }) }) },
    fail: [
      { name: "Action '*'", json: stack(policy({ Sid: 'Everything', Effect: 'Allow', Action: '*', Resource: '*' })), message: "statement 'Everything' allows the wildcard action '*'" },
      { name: 'a service wildcard', json: stack(policy({ Effect: 'Allow', Action: ['logs:Put*'], Resource: logGroup })), message: "statement 0 allows the wildcard action 'logs:Put*'" },
      { name: 'NotAction', json: stack(policy({ Effect: 'Allow', NotAction: ['iam:*'], Resource: 'arn:aws:s3:::x' })), message: 'allows every action except iam:*' },
      { name: 'a policy the gate cannot read', json: stack({ aws_iam_policy: { p: { policy: '${data.aws_iam_policy_document.p.json}' } } }), message: 'is a Terraform expression' },
      { name: "'ecr:*' in a repository policy", json: repositoryWith((r) => (r.aws_ecr_repository_policy = repositoryPolicy(pushDeny(), { ...nodesPull, Action: 'ecr:*' }))), message: "statement 'PullRolesRead' allows the wildcard action 'ecr:*'" },
    ],
  },
  'DL-IAM-002': {
    pass: { json: stack({ ...policy(readObjects), aws_s3_bucket_policy: { pol: { bucket: REF, policy: JSON.stringify({ Statement: [tlsDeny] }) } } }) },
    fail: [
      { name: 's3:* on a bucket', json: stack(policy({ Sid: 'All', Effect: 'Allow', Action: 's3:*', Resource: `arn:aws:s3:::${BUCKET}/*` })), message: "statement 'All' allows the S3 wildcard 's3:*'" },
      { name: 's3:Get* in a bucket policy', json: stack({ aws_s3_bucket_policy: { pol: { bucket: REF, policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${LIVE.aws.accountId}:root` }, Action: ['s3:Get*'], Resource: `arn:aws:s3:::${BUCKET}/*` }] }) } } }), message: "allows the S3 wildcard 's3:Get*'" },
    ],
  },
  'DL-IAM-003': {
    pass: { json: stack(policy(readObjects, { Effect: 'Allow', Action: ['ec2:DescribeInstances', 'sts:GetCallerIdentity'], Resource: '*' })) },
    fail: [
      { name: 'a write on *', json: stack(policy({ Sid: 'Tag', Effect: 'Allow', Action: ['ec2:CreateTags', 'ec2:DescribeTags'], Resource: '*' })), message: "statement 'Tag' allows ec2:CreateTags on every resource" },
      { name: 'a write through NotResource', json: stack(policy({ Effect: 'Allow', Action: ['s3:PutObject'], NotResource: `arn:aws:s3:::${BUCKET}/*` })), message: 'allows s3:PutObject on every resource' },
    ],
  },
  'DL-IAM-004': {
    pass: { json: stack({ ...podIdentityTrust(scopedCondition), aws_iam_role: { ...podIdentityTrust(scopedCondition).aws_iam_role, node: { assume_role_policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) } } }) },
    fail: [
      { name: 'Pod Identity trust for any cluster', json: stack(podIdentityTrust({ StringEquals: { 'aws:RequestTag/kubernetes-namespace': 'pipelines', 'aws:RequestTag/kubernetes-service-account': 'spark-x' } })), message: 'without requiring aws:RequestTag/eks-cluster-arn' },
      { name: 'Pod Identity trust with a wildcard service account', json: stack(podIdentityTrust({ StringEquals: { ...scopedCondition.StringEquals, 'aws:RequestTag/kubernetes-service-account': 'spark-*' } })), message: 'with a wildcard aws:RequestTag/kubernetes-service-account' },
      { name: 'trust of anyone', json: stack({ aws_iam_role: { r: { assume_role_policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }] }) } } }), message: 'lets any principal assume the role' },
    ],
  },
  'DL-IAM-005': {
    pass: { json: stack(attachment(`arn:aws:iam::${LIVE.aws.accountId}:policy/${PROJECT}-${LIVE.name}-reader`)) },
    fail: [{ name: 'an AWS managed policy', json: stack(attachment('arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy')), message: 'attaches the AWS managed policy AmazonEKS_CNI_Policy' }],
  },
  'DL-IAM-006': {
    pass: { json: stack(attachment('arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy')) },
    fail: [
      { name: 'AdministratorAccess', json: stack(attachment('arn:aws:iam::aws:policy/AdministratorAccess')), message: 'attaches the privileged AWS managed policy AdministratorAccess' },
      { name: 'a *FullAccess policy as a managed_policy_arns entry', json: stack({ aws_iam_role: { r: { assume_role_policy: '{}', managed_policy_arns: ['arn:aws:iam::aws:policy/AmazonS3FullAccess'] } } }), message: 'AmazonS3FullAccess' },
    ],
  },
  'DL-IAM-007': {
    pass: { json: stack({ ...goodKarpenter(), ...policy(readObjects) }) },
    fail: [
      { name: 'PassRole on every role', json: controllerPassing({ ...passRole, Resource: '*' }), message: "statement 'PassOnlyTheNodeRole' allows iam:PassRole on *, not a named role" },
      { name: 'PassRole on a role pattern', json: stack(policy({ Sid: 'Pass', Effect: 'Allow', Action: 'iam:Pass*', Resource: `arn:aws:iam::${LIVE.aws.accountId}:role/${PROJECT}-*`, Condition: passRole.Condition })), message: `allows iam:PassRole on arn:aws:iam::${LIVE.aws.accountId}:role/${PROJECT}-*, not a named role` },
      { name: 'PassRole to any service', json: controllerPassing({ ...passRole, Condition: undefined }), message: 'allows iam:PassRole to any service (no iam:PassedToService condition naming one)' },
    ],
  },
  'DL-KARP-007': {
    pass: { json: stack(goodKarpenter()) },
    fail: [
      { name: 'PassRole on another role of the stack', json: karpenterWith((r) => {
        (r.aws_iam_role as any).other = { name: pipelineRoleName(LIVE.name, 'x'), assume_role_policy: '{}' };
        (r.aws_iam_role_policy!.controller as any).policy = JSON.stringify({ Statement: [{ ...passRole, Resource: ['${aws_iam_role.node.arn}', '${aws_iam_role.other.arn}'] }] });
      }), message: `the Karpenter controller's statement 'PassOnlyTheNodeRole' passes \${aws_iam_role.other.arn}, not the node role ${karpenterNodeRoleName(LIVE.name)}` },
      { name: 'PassRole on a role by its literal ARN', json: controllerPassing({ ...passRole, Resource: LIVE.aws.deployRoleArn }), message: `passes ${LIVE.aws.deployRoleArn}, not the node role` },
      { name: 'PassRole on every role', json: controllerPassing({ ...passRole, Resource: '*' }), message: 'passes *, not the node role' },
      { name: 'PassRole by an inline policy of the role', json: karpenterWith((r) => {
        delete r.aws_iam_role_policy;
        (r.aws_iam_role!.controller as any).inline_policy = [{ name: 'w', policy: JSON.stringify({ Statement: [{ ...passRole, Resource: LIVE.aws.deployRoleArn }] }) }];
      }), message: 'passes' },
    ],
  },
  'DL-KARP-008': {
    pass: { json: stack(goodKarpenter()) },
    fail: [
      { name: 'no access entry', json: karpenterWith((r) => delete r.aws_eks_access_entry), message: `the Karpenter node role ${karpenterNodeRoleName(LIVE.name)} has no access entry, so the nodes Karpenter launches cannot join the cluster` },
      { name: 'a STANDARD entry', json: karpenterWith((r) => ((r.aws_eks_access_entry!.node as any).type = 'STANDARD')), message: 'joins through aws_eks_access_entry.node of type STANDARD, not EC2_LINUX' },
      { name: 'an entry by literal ARN without a type', json: karpenterWith((r) => (r.aws_eks_access_entry!.node = { principal_arn: `arn:aws:iam::${LIVE.aws.accountId}:role/${karpenterNodeRoleName(LIVE.name)}` })), message: 'of type STANDARD (unset), not EC2_LINUX' },
      {
        name: 'an access policy for the node role',
        json: karpenterWith((r) => (r.aws_eks_access_policy_association = { a: { principal_arn: '${aws_eks_access_entry.node.principal_arn}', policy_arn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy' } })),
        message: 'is given the access policy arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy by aws_eks_access_policy_association.a',
      },
    ],
  },
  'DL-SQS-001': {
    pass: { json: stack(goodQueue()) },
    fail: [
      { name: 'no encryption', json: queueWith((_, queue) => delete queue.sqs_managed_sse_enabled), message: `queue ${QUEUE} does not encrypt its messages` },
      { name: 'SQS-managed encryption off', json: queueWith((_, queue) => (queue.sqs_managed_sse_enabled = false)), message: 'does not encrypt its messages' },
    ],
  },
  'DL-SQS-002': {
    pass: { json: stack(goodQueue()) },
    fail: [
      { name: 'no queue policy', json: queueWith((r) => delete r.aws_sqs_queue_policy), message: `queue ${QUEUE} has no queue policy, so nothing denies requests without TLS` },
      { name: 'a policy without the TLS deny', json: queueWith((r) => (r.aws_sqs_queue_policy = queuePolicy({ ...queueTlsDeny, Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Condition: undefined }))), message: 'has no policy statement denying sqs:* to anyone without TLS' },
      { name: 'a TLS deny of sending only', json: queueWith((r) => (r.aws_sqs_queue_policy = queuePolicy({ ...queueTlsDeny, Action: 'sqs:SendMessage' }))), message: 'denying sqs:*' },
      { name: "another queue's policy", json: queueWith((r) => ((r.aws_sqs_queue_policy!.p as any).queue_url = '${aws_sqs_queue.other.url}')), message: 'has no queue policy' },
    ],
  },
  'DL-TAG-001': {
    pass: { json: stack({}, provider(LIVE_TAGS)) },
    fail: [
      { name: 'no owner tag', json: stack({}, provider({ ...LIVE_TAGS, owner: '' })), message: 'the provider does not tag resources with owner' },
      { name: 'no default tags', json: stack({}, { aws: [{ region: LIVE.aws.region }] }), message: 'does not tag resources with environment, owner, cost-centre, managed-by' },
      { name: "another environment's tag", json: stack({}, provider({ ...LIVE_TAGS, environment: LAB.name })), message: `tags resources with environment "${LAB.name}", not '${LIVE.name}'` },
    ],
  },
  'DL-HELM-001': {
    pass: { json: stack({ helm_release: { argocd: { name: 'argocd', chart: 'argo-cd', version: '10.4.0' } } }) },
    fail: [
      { name: 'no version', json: stack({ helm_release: { argocd: { name: 'argocd', chart: 'argo-cd' } } }), message: 'installs chart argo-cd at null, not an exact version' },
      { name: 'a version range', json: stack({ helm_release: { argocd: { name: 'argocd', chart: 'argo-cd', version: '^10.0.0' } } }), message: 'at "^10.0.0"' },
    ],
  },
  'DL-NS-004': {
    pass: { json: stack({ kubernetes_namespace_v1: { ns: { metadata: { name: 'argocd', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } } } }) },
    fail: [
      { name: 'no Pod Security label', json: stack({ kubernetes_namespace_v1: { ns: { metadata: { name: 'argocd' } } } }), message: 'namespace argocd enforces no Pod Security level' },
      { name: 'privileged', json: stack({ kubernetes_namespace_v1: { ns: { metadata: [{ name: 'argocd', labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } }] } } }), message: "enforces Pod Security 'privileged'" },
    ],
  },
};

const terraformRules = RULES.filter((rule) => rule.target === 'terraform');

describe('Terraform rules', () => {
  it('has a passing and a failing fixture for every Terraform rule, and none for rules that do not exist', () => {
    expect(Object.keys(FIXTURES).sort()).toEqual(terraformRules.map((rule) => rule.id).sort());
    for (const [id, fixtures] of Object.entries(FIXTURES)) expect(fixtures.fail.length, id).toBeGreaterThan(0);
  });

  describe.each(terraformRules.map((rule) => [rule.id, rule] as const))('%s', (id, rule) => {
    const fixtures = FIXTURES[id]!;

    it('finds nothing in its passing fixture', () => {
      expect(findingsOf(rule, fixtures.pass)).toEqual([]);
    });

    it.each(fixtures.fail.map((f) => [f.name, f] as const))('finds %s', (_, fixture) => {
      const findings = findingsOf(rule, fixture);
      expect(findings.length).toBeGreaterThan(0);
      expect(findings.every((f) => f.ruleId === id && f.severity === rule.severity)).toBe(true);
      expect(findings.map((f) => f.message).join('\n')).toContain(fixture.message);
    });
  });

  it('does not require data protection where the environment does not retain data', () => {
    expect(LAB.retainData).toBe(false);
    const lab = (json: TerraformJson) => findingsOf(RULES.find((r) => r.id === 'DL-DATA-002')!, { env: LAB.name, json });
    expect(lab(bucketWith((r) => delete (r.aws_s3_bucket!.b as any).lifecycle))).toEqual([]);
    expect(findingsOf(RULES.find((r) => r.id === 'DL-DATA-001')!, { env: LAB.name, json: bucketWith((r) => ((r.aws_s3_bucket!.b as any).force_destroy = true)) })).toEqual([]);
  });

  describe.each(every.map((env) => [env.name, env] as const))('in environment %s', (name, env) => {
    const findingsIn = (id: string, json: TerraformJson) => findingsOf(RULES.find((r) => r.id === id)!, { json }, env);
    const bucket = bucketName(env, 'raw');
    const envBucketWith = (edit: (r: Resources) => void) =>
      bucketWith((r) => {
        (r.aws_s3_bucket!.b as any).bucket = bucket;
        edit(r);
      });

    it('requires force_destroy off, prevent_destroy and deletion protection exactly where the environment retains data', () => {
      const retained = env.retainData ? `although environment '${name}' retains data` : undefined;
      const messages = (id: string, json: TerraformJson) => findingsIn(id, json).map((f) => f.message).join('\n');
      const forceDestroy = messages('DL-DATA-001', envBucketWith((r) => ((r.aws_s3_bucket!.b as any).force_destroy = true)));
      const noPreventDestroy = messages('DL-DATA-002', envBucketWith((r) => delete (r.aws_s3_bucket!.b as any).lifecycle));
      const noProtection = messages('DL-DATA-003', clusterWith((c) => (c.deletion_protection = false)));
      const repository = pipelineImageRepository(name);
      const envRepositoryWith = (edit: (r: Record<string, any>) => void) => repositoryWith((_, r) => ((r.name = repository), edit(r)));
      const forceDelete = messages('DL-DATA-001', envRepositoryWith((r) => (r.force_delete = true)));
      const repositoryDestroyable = messages('DL-DATA-002', envRepositoryWith((r) => delete r.lifecycle));
      if (retained === undefined) {
        expect([forceDestroy, noPreventDestroy, noProtection, forceDelete, repositoryDestroyable]).toEqual(['', '', '', '', '']);
      } else {
        expect(forceDestroy).toContain(`bucket ${bucket} has force_destroy ${retained}`);
        expect(noPreventDestroy).toContain(`bucket ${bucket} lacks lifecycle prevent_destroy ${retained}`);
        expect(noProtection).toContain(`has no deletion protection ${retained}`);
        expect(forceDelete).toContain(`repository ${repository} has force_delete ${retained}`);
        expect(repositoryDestroyable).toContain(`repository ${repository} lacks lifecycle prevent_destroy ${retained}`);
      }
      for (const id of ['DL-DATA-001', 'DL-DATA-002']) expect(findingsIn(id, envBucketWith(() => undefined)), id).toEqual([]);
      for (const id of ['DL-DATA-001', 'DL-DATA-002']) expect(findingsIn(id, envRepositoryWith(() => undefined)), id).toEqual([]);
    });

    it('requires a private API endpoint exactly where the environment asks for one, and never accepts one open to 0.0.0.0/0', () => {
      const allowed = clusterWith((c) => (c.vpc_config = { endpoint_private_access: true, endpoint_public_access: true, public_access_cidrs: ['203.0.113.0/24'] }));
      const open = clusterWith((c) => (c.vpc_config = { endpoint_private_access: true, endpoint_public_access: true, public_access_cidrs: ['0.0.0.0/0'] }));
      const messages = (json: TerraformJson) => findingsIn('DL-EKS-001', json).map((f) => f.message).join('\n');
      expect(messages(clusterWith(() => undefined))).toBe('');
      if (env.cluster.privateEndpoint) expect(messages(allowed)).toContain(`has a public API endpoint although environment '${name}' requires a private one`);
      else expect(messages(allowed)).toBe('');
      expect(messages(open)).not.toBe('');
    });

    it("requires the registry's push deny to exempt this environment's deploy role, and no other", () => {
      const policyExempting = (role: string) =>
        repositoryWith((r, repository) => {
          repository.name = pipelineImageRepository(name);
          r.aws_ecr_repository_policy = repositoryPolicy(pushDeny(role), nodesPull);
        });
      expect(findingsIn('DL-ECR-005', policyExempting(env.aws.deployRoleArn))).toEqual([]);
      const other = every.find((e) => e.aws.deployRoleArn !== env.aws.deployRoleArn)!.aws.deployRoleArn;
      expect(findingsIn('DL-ECR-005', policyExempting(other)).map((f) => f.message)).toEqual([
        `repository ${pipelineImageRepository(name)} does not deny ${WRITES.join(', ')} to every principal but the deploy role ${env.aws.deployRoleArn} (its deny exempts ${other})`,
      ]);
    });

    it("requires Karpenter's controller in this environment to pass this environment's node role, and no other", () => {
      const other = every.find((e) => e.name !== name)!;
      const karpenterOf = (nodeRoleOwner: Environment) =>
        karpenterWith((r) => {
          (r.aws_iam_role!.controller as any).name = workloadRoleName(name, 'karpenter');
          (r.aws_iam_role!.node as any).name = karpenterNodeRoleName(nodeRoleOwner.name);
        });
      expect(findingsIn('DL-KARP-007', karpenterOf(env))).toEqual([]);
      expect(findingsIn('DL-KARP-007', karpenterOf(other)).map((f) => f.message)).toEqual([
        `the Karpenter controller's statement 'PassOnlyTheNodeRole' passes \${aws_iam_role.node.arn}, not the node role ${karpenterNodeRoleName(name)}`,
      ]);
    });

    it("accepts the provider's tags for this environment and finds another environment's", () => {
      const tags = { ...LIVE_TAGS, environment: name };
      expect(findingsIn('DL-TAG-001', stack({}, provider(tags)))).toEqual([]);
      expect(findingsIn('DL-TAG-001', stack({}, provider({ ...tags, environment: `${name}-other` }))).map((f) => f.message)).toEqual([
        `the provider tags resources with environment "${name}-other", not '${name}'`,
      ]);
    });
  });

  it('accepts a repository policy that names the repository literally, and a deny of every ECR action but for the deploy role', () => {
    const rule = RULES.find((r) => r.id === 'DL-ECR-005')!;
    expect(findingsOf(rule, { json: repositoryWith((r) => ((r.aws_ecr_repository_policy!.p as any).repository = REPOSITORY)) })).toEqual([]);
    expect(findingsOf(rule, { json: repositoryWith((r) => (r.aws_ecr_repository_policy = repositoryPolicy({ ...pushDeny(), Action: 'ecr:*' }, nodesPull))) })).toEqual([]);
    expect(findingsOf(rule, { json: repositoryWith((r) => (r.aws_ecr_repository_policy = repositoryPolicy({ ...pushDeny(), Condition: { ArnNotEquals: { 'aws:PrincipalArn': LIVE.aws.deployRoleArn } } }))) })).toEqual([]);
  });

  it('finds bucket controls that name the bucket literally instead of referencing it', () => {
    const literal = bucketWith((r) => (r.aws_s3_bucket_public_access_block!.p = { ...r.aws_s3_bucket_public_access_block!.p, bucket: BUCKET }));
    expect(findingsOf(RULES.find((r) => r.id === 'DL-S3-003')!, { json: literal })).toEqual([]);
  });

  it('names the environment, the stack and the resource address in a finding, with the hint', () => {
    const [finding] = findingsOf(RULES.find((r) => r.id === 'DL-S3-003')!, { json: bucketWith((r) => delete r.aws_s3_bucket_public_access_block) });
    expect(finding).toMatchObject({ environment: LIVE.name, location: `${LIVE.name}-fixture`, subject: 'aws_s3_bucket.b', ruleId: 'DL-S3-003', severity: 'error' });
    expect(finding!.hint).toContain('aws_s3_bucket_public_access_block');
  });
});
