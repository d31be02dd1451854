import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import { bucketName, dataKeyAlias, pipelineImageRepository } from '../../environments/naming';
import { loadPipelines } from '../../pipelines/load';
import { pipelineImage, pipelineImageTag, PIPELINE_IMAGE_TAG_PREFIX } from '../../pipelines/runtime/image';
import type { Pipeline } from '../../pipelines/schema';
import { storageAccess } from '../../pipelines/storage-access';
import { FIXTURE_INPUTS, fixtureEnvironment, fixtureEnvironments } from '../../scripts/fixtures/environments';
import { fixturePipelines } from '../../scripts/fixtures/pipelines';
import { pipeline as ledgerSpec } from '../../scripts/fixtures/pipeline-specs/ledger/pipeline';
import { IMAGES_KEPT, UNTAGGED_EXPIRY_DAYS } from '../constructs/image-repository';
import { stackOf, synthesizeStacks, type SynthesizedStack } from '../synthesized-stacks';
import { EKS_ADDON_VERSIONS, EKS_ADDONS } from '../versions';

const DATA_KEY = '${data.aws_kms_alias.data-key.target_key_arn}';
const fixtures = await fixturePipelines();

// The team's environments with its pipelines, and the fixture environments with the fixture pipelines.
const cases = [
  { environments: await loadEnvironments(), pipelines: await loadPipelines() },
  { environments: fixtureEnvironments(), pipelines: fixtures },
].flatMap(({ environments, pipelines }) => environments.map((env) => ({ env, pipelines, stack: stackOf(synthesizeStacks(env, pipelines), env.name, 'cluster') })));
/** The cluster stack of a fixture environment, with the fixture pipelines. */
const fixtureCluster = (name: keyof typeof FIXTURE_INPUTS) => cases.find((c) => c.pipelines === fixtures && c.env.name === name)!.stack;

/** The statements of the inline policy of the role named `roleName`. */
function inlinePolicyOf(stack: SynthesizedStack, roleName: string): any[] {
  const [ref] = Object.entries(stack.resources('aws_iam_role')).find(([, r]) => r.name === roleName)!;
  const policy = Object.values(stack.resources('aws_iam_role_policy')).find((p) => p.role === `\${aws_iam_role.${ref}.id}`);
  return JSON.parse(policy!.policy).Statement as any[];
}

describe.each(cases)('the $env.name cluster', ({ env, pipelines, stack }) => {
  const [cluster] = Object.values(stack.resources('aws_eks_cluster'));
  const roles = Object.entries(stack.resources('aws_iam_role'));
  const inlinePolicy = (roleName: string) => inlinePolicyOf(stack, roleName);

  it('runs the environment EKS version in the private subnets found by tag', () => {
    expect(cluster).toMatchObject({ name: `driftless-${env.name}`, version: env.cluster.kubernetesVersion });
    expect(cluster!.vpc_config.subnet_ids).toBe('${data.aws_subnets.private-subnets.ids}');
    expect(stack.dataSources('aws_subnets')['private-subnets']!.filter).toContainEqual({ name: 'tag:driftless.io/subnet-tier', values: ['private'] });
  });

  it(env.cluster.privateEndpoint ? 'has a private API endpoint only' : 'has a public API endpoint open only to the configured networks', () => {
    expect(cluster!.vpc_config.endpoint_private_access).toBe(true);
    expect(cluster!.vpc_config.endpoint_public_access).toBe(!env.cluster.privateEndpoint);
    expect(cluster!.vpc_config.public_access_cidrs).toEqual(env.cluster.privateEndpoint ? undefined : env.cluster.publicAccessCidrs);
  });

  it('envelope-encrypts secrets with a rotated key and ships all control-plane logs', () => {
    const [keyRef] = Object.entries(stack.resources('aws_kms_key')).find(([, k]) => k.description.includes('secrets'))!;
    expect(stack.resources('aws_kms_key')[keyRef]!.enable_key_rotation).toBe(true);
    expect(cluster!.encryption_config).toEqual({ resources: ['secrets'], provider: { key_arn: `\${aws_kms_key.${keyRef}.arn}` } });
    expect(cluster!.enabled_cluster_log_types).toEqual(expect.arrayContaining(['api', 'audit', 'authenticator']));
    expect(Object.values(stack.resources('aws_cloudwatch_log_group'))).toEqual([
      expect.objectContaining({ name: `/aws/eks/driftless-${env.name}/cluster`, retention_in_days: env.cluster.logRetentionDays }),
    ]);
  });

  it('grants access only through API access entries for the configured admin roles', () => {
    expect(cluster!.access_config).toEqual({ authentication_mode: 'API', bootstrap_cluster_creator_admin_permissions: false });
    expect(Object.values(stack.resources('aws_eks_access_entry')).map((e) => e.principal_arn)).toEqual(env.cluster.adminRoleArns);
    expect(Object.values(stack.resources('aws_eks_access_policy_association'))).toHaveLength(env.cluster.adminRoleArns.length);
  });

  it('protects the cluster from deletion exactly when data is retained', () => {
    expect(cluster!.deletion_protection).toBe(env.retainData);
  });

  it('launches nodes in private subnets with IMDSv2 (hop limit 1) and encrypted gp3 volumes', () => {
    const groups = Object.values(stack.resources('aws_eks_node_group'));
    expect(groups.map((g) => g.node_group_name)).toEqual(env.cluster.nodeGroups.map((g) => g.name));
    for (const template of Object.values(stack.resources('aws_launch_template'))) {
      expect(template.metadata_options).toEqual({ http_endpoint: 'enabled', http_tokens: 'required', http_put_response_hop_limit: 1 });
      expect(template.block_device_mappings).toEqual([
        expect.objectContaining({ ebs: expect.objectContaining({ encrypted: 'true', volume_type: 'gp3' }) }),
      ]);
    }
    for (const group of groups) {
      expect(group.subnet_ids).toBe('${data.aws_subnets.private-subnets.ids}');
      expect(group.launch_template.id).toMatch(/^\$\{aws_launch_template\./);
    }
  });

  it('turns on NetworkPolicy enforcement in the VPC CNI', () => {
    const [cni] = Object.values(stack.resources('aws_eks_addon')).filter((a) => a.addon_name === 'vpc-cni');
    expect(JSON.parse(cni!.configuration_values)).toEqual({ enableNetworkPolicy: 'true' });
  });

  it('installs every add-on at its pinned version', () => {
    const addons = Object.values(stack.resources('aws_eks_addon'));
    expect(addons.map((a) => a.addon_name).sort()).toEqual([...EKS_ADDONS].sort());
    for (const addon of addons) {
      expect(addon.addon_version).toBe(EKS_ADDON_VERSIONS[env.cluster.kubernetesVersion][addon.addon_name as (typeof EKS_ADDONS)[number]]);
    }
  });

  it('binds a role to each workload service account through Pod Identity, trusted only for this cluster', () => {
    const associations = Object.values(stack.resources('aws_eks_pod_identity_association')).map((a) => `${a.namespace}/${a.service_account}`);
    expect(associations.sort()).toEqual(
      ['external-secrets/external-secrets', 'spark-operator/spark-history-server', ...pipelines.map((p) => `pipelines/spark-${p.name}`)].sort(),
    );
    const addonAssociations = Object.values(stack.resources('aws_eks_addon')).flatMap((a) => (a.pod_identity_association ?? []).map((p: any) => p.service_account));
    expect(addonAssociations.sort()).toEqual(['aws-node', 'ebs-csi-controller-sa']);
    const podRoles = roles.filter(([, r]) => JSON.parse(r.assume_role_policy).Statement[0].Principal.Service === 'pods.eks.amazonaws.com');
    expect(podRoles).toHaveLength(associations.length + addonAssociations.length);
    const trusted = podRoles.map(([, role]) => {
      const [statement] = JSON.parse(role.assume_role_policy).Statement;
      expect(statement).toMatchObject({ Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:TagSession'] });
      const tags = statement.Condition.StringEquals;
      expect(tags['aws:RequestTag/eks-cluster-arn']).toBe(`arn:aws:eks:${env.aws.region}:${env.aws.accountId}:cluster/driftless-${env.name}`);
      return `${tags['aws:RequestTag/kubernetes-namespace']}/${tags['aws:RequestTag/kubernetes-service-account']}`;
    });
    expect(trusted.sort()).toEqual([...associations, 'kube-system/aws-node', 'kube-system/ebs-csi-controller-sa'].sort());
  });

  it('limits every pipeline role to the prefixes its spec reads and writes', () => {
    const object = (g: { bucket: 'raw' | 'curated' | 'artifacts' | 'checkpoints' | 'logs'; prefix: string }) => `arn:aws:s3:::${bucketName(env, g.bucket)}/${g.prefix}*`;
    for (const pipeline of pipelines) {
      const access = storageAccess(pipeline);
      const bySid = Object.fromEntries(inlinePolicy(`driftless-${env.name}-pipeline-${pipeline.name}`).map((s) => [s.Sid, s]));
      expect(new Set(bySid.WriteObjects.Resource), pipeline.name).toEqual(new Set(access.write.map(object)));
      expect(bySid.ReadObjects.Resource, pipeline.name).toEqual(expect.arrayContaining([...access.read, ...access.write].map(object)));
      expect(bySid.ReadObjects.Resource.filter((r: string) => r.endsWith('*')).length, pipeline.name).toBe(new Set([...access.read, ...access.write].map(object)).size);
    }
  });

  it('lets External Secrets read only the secrets of this environment', () => {
    expect(inlinePolicy(`driftless-${env.name}-external-secrets`)).toEqual([
      expect.objectContaining({
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret', 'secretsmanager:ListSecretVersionIds'],
        Resource: `arn:aws:secretsmanager:${env.aws.region}:${env.aws.accountId}:secret:driftless/${env.name}/*`,
      }),
    ]);
  });

  it('lets the Spark History Server only read event logs', () => {
    const statements = inlinePolicy(`driftless-${env.name}-spark-history-server`);
    expect(statements.flatMap((s) => s.Action).sort()).toEqual(['kms:Decrypt', 's3:GetBucketLocation', 's3:GetObject', 's3:ListBucket']);
  });

  describe('the registry of the pipeline image', () => {
    const repositories = Object.entries(stack.resources('aws_ecr_repository'));
    const [repositoryRef, repository] = repositories[0]!;
    const ofRepository = (type: string) => Object.values(stack.resources(type)).filter((r) => r.repository === `\${aws_ecr_repository.${repositoryRef}.name}`);
    const [nodeRoleRef] = roles.find(([, r]) => r.name === `driftless-${env.name}-node`)!;

    it('is the one repository the Spark pods pull from, in the environment account and region', () => {
      expect(repositories).toHaveLength(1);
      expect(repository.name).toBe(pipelineImageRepository(env.name));
      expect(pipelineImage(env)).toBe(`${env.aws.accountId}.dkr.ecr.${env.aws.region}.amazonaws.com/${repository.name}:${pipelineImageTag()}`);
    });

    it('has immutable tags, scans on push and encrypts with the environment data key', () => {
      expect(repository.image_tag_mutability).toBe('IMMUTABLE');
      expect(repository.image_scanning_configuration).toEqual({ scan_on_push: true });
      expect(repository.encryption_configuration).toEqual([{ encryption_type: 'KMS', kms_key: DATA_KEY }]);
      expect(stack.dataSources('aws_kms_alias')['data-key']).toMatchObject({ name: dataKeyAlias(env.name) });
    });

    it('is never force-deleted, and kept from destroy exactly when data is retained', () => {
      expect(repository.force_delete).toBe(false);
      expect(repository.lifecycle).toEqual({ prevent_destroy: env.retainData });
    });

    it('expires untagged images after some days and keeps only the newest images the build tags', () => {
      const policies = ofRepository('aws_ecr_lifecycle_policy');
      expect(policies).toHaveLength(1);
      const rules = JSON.parse(policies[0]!.policy).rules as any[];
      expect(rules.map((r) => r.rulePriority)).toEqual([1, 2]);
      expect(rules.map((r) => [r.selection, r.action])).toEqual([
        [{ tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: UNTAGGED_EXPIRY_DAYS }, { type: 'expire' }],
        [{ tagStatus: 'tagged', tagPrefixList: [PIPELINE_IMAGE_TAG_PREFIX], countType: 'imageCountMoreThan', countNumber: IMAGES_KEPT }, { type: 'expire' }],
      ]);
      expect([UNTAGGED_EXPIRY_DAYS, IMAGES_KEPT].every((n) => Number.isInteger(n) && n >= 1)).toBe(true);
      // The image the manifests run is among those counted, so it is never an untagged leftover.
      expect(pipelineImageTag().startsWith(PIPELINE_IMAGE_TAG_PREFIX)).toBe(true);
    });

    it('denies pushing and deleting images to every principal but the deploy role', () => {
      const policies = ofRepository('aws_ecr_repository_policy');
      expect(policies).toHaveLength(1);
      const denies = (JSON.parse(policies[0]!.policy).Statement as any[]).filter((s) => s.Effect === 'Deny');
      expect(denies).toEqual([
        expect.objectContaining({
          Principal: '*',
          Action: ['ecr:PutImage', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:BatchDeleteImage'],
          Condition: { StringNotEquals: { 'aws:PrincipalArn': env.aws.deployRoleArn } },
        }),
      ]);
      expect(Object.keys(denies[0])).not.toContain('Resource');
    });

    it('lets the node role pull, by the repository policy and by its own', () => {
      const [policy] = ofRepository('aws_ecr_repository_policy');
      const allows = (JSON.parse(policy!.policy).Statement as any[]).filter((s) => s.Effect === 'Allow');
      expect(allows).toEqual([
        expect.objectContaining({ Principal: { AWS: [`\${aws_iam_role.${nodeRoleRef}.arn}`] }, Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'] }),
      ]);
      const nodePolicies = Object.values(stack.resources('aws_iam_role_policy_attachment')).filter((a) => a.role === `\${aws_iam_role.${nodeRoleRef}.name}`);
      expect(nodePolicies.map((a) => a.policy_arn)).toContain('arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly');
      for (const group of Object.values(stack.resources('aws_eks_node_group'))) expect(group.node_role_arn).toBe(`\${aws_iam_role.${nodeRoleRef}.arn}`);
    });
  });
});

describe.each(fixtureEnvironments())('the $name role of a batch pipeline', (env) => {
  it('limits it to its own prefixes and actions, from its spec', () => {
    type Bucket = 'raw' | 'curated' | 'artifacts' | 'checkpoints' | 'logs';
    const object = (bucket: Bucket, prefix: string) => `arn:aws:s3:::${bucketName(env, bucket)}/${prefix}*`;
    const statements = inlinePolicyOf(fixtureCluster(env.name as keyof typeof FIXTURE_INPUTS), `driftless-${env.name}-pipeline-${ledgerSpec.name}`);
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    const { name, source, sink, rejects } = ledgerSpec;
    const prefixes: ReadonlyArray<readonly [Bucket, string]> = [[source.bucket, source.prefix], ['artifacts', `pipelines/${name}/`], [sink.bucket, sink.prefix], [rejects.bucket, rejects.prefix], ['logs', 'spark-events/']];
    const marker = (bucket: Bucket, prefix: string) => `arn:aws:s3:::${bucketName(env, bucket)}/${prefix.slice(0, -1)}`;
    expect(bySid.ReadObjects.Resource.sort()).toEqual([...prefixes.map(([b, p]) => object(b, p)), ...prefixes.map(([b, p]) => marker(b, p))].sort());
    expect(bySid.WriteObjects.Resource.sort()).toEqual(
      // No checkpoints bucket: a stream's checkpoint is in HDFS, and a batch has none.
      [object(sink.bucket, sink.prefix), object(rejects.bucket, rejects.prefix), object('logs', 'spark-events/')].sort(),
    );
    expect(bySid.WriteObjects.Action).toEqual(['s3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts']);
    expect(bySid.ListRawPrefixes.Condition).toEqual({ StringLike: { 's3:prefix': [source.prefix, `${source.prefix}*`] } });
    expect(bySid.ListCuratedPrefixes.Condition).toEqual({ StringLike: { 's3:prefix': [sink.prefix, `${sink.prefix}*`, rejects.prefix, `${rejects.prefix}*`] } });
    expect(bySid.UseDataKeyThroughS3).toEqual({
      Sid: 'UseDataKeyThroughS3',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: DATA_KEY,
      Condition: { StringEquals: { 'kms:ViaService': `s3.${env.aws.region}.amazonaws.com` } },
    });
    expect(statements.map((s) => s.Sid).sort()).toEqual(
      ['ListArtifactsPrefixes', 'ListCuratedPrefixes', 'ListLogsPrefixes', 'ListRawPrefixes', 'LocateBuckets', 'ReadObjects', 'UseDataKeyThroughS3', 'WriteObjects'].sort(),
    );
  });
});

describe('the API endpoint and deletion protection by environment', () => {
  const clusterOf = (name: keyof typeof FIXTURE_INPUTS) => Object.values(fixtureCluster(name).resources('aws_eks_cluster'))[0]!;
  const lab = clusterOf('lab');
  const live = clusterOf('live');

  it('is public, and open only to the configured networks, where the environment has no private endpoint', () => {
    expect(FIXTURE_INPUTS.lab.cluster.privateEndpoint).toBe(false);
    expect(lab.vpc_config).toMatchObject({ endpoint_private_access: true, endpoint_public_access: true, public_access_cidrs: FIXTURE_INPUTS.lab.cluster.publicAccessCidrs });
  });

  it('is private only where the environment asks for a private endpoint', () => {
    expect(FIXTURE_INPUTS.live.cluster.privateEndpoint).toBe(true);
    expect(live.vpc_config).toMatchObject({ endpoint_private_access: true, endpoint_public_access: false });
    expect(live.vpc_config.public_access_cidrs).toBeUndefined();
  });

  it('protects the cluster from deletion where data is retained, and only there', () => {
    expect([FIXTURE_INPUTS.live.retainData, FIXTURE_INPUTS.lab.retainData]).toEqual([true, false]);
    expect([live.deletion_protection, lab.deletion_protection]).toEqual([true, false]);
  });

  it('keeps the registry from destroy where data is retained, and only there', () => {
    const registryOf = (name: keyof typeof FIXTURE_INPUTS) => Object.values(fixtureCluster(name).resources('aws_ecr_repository'))[0]!;
    expect([registryOf('live').lifecycle, registryOf('lab').lifecycle]).toEqual([{ prevent_destroy: true }, { prevent_destroy: false }]);
  });
});

describe('pipeline roles', () => {
  it('appear for a new pipeline without any change to infra/', () => {
    const extra: Pipeline = {
      name: 'clickstream',
      description: 'Sessions from click events.',
      kind: 'streaming',
      triggerSeconds: 60,
      source: { type: 'kafka', topic: 'page-views', format: 'json' },
      schema: [{ name: 'user_id', type: 'string' }],
      quality: { required: ['user_id'], ranges: [] },
      steps: ['sessions.sql'],
      sink: { type: 's3', bucket: 'curated', prefix: 'sessions/' },
      rejects: { type: 'kafka', topic: 'page-views.dlq' },
      alerts: { staleAfterMinutes: 10 },
    };
    const env = fixtureEnvironment('lab');
    const stack = stackOf(synthesizeStacks(env, [...fixtures, extra]), env.name, 'cluster');
    expect(Object.values(stack.resources('aws_iam_role')).map((r) => r.name)).toContain(`driftless-${env.name}-pipeline-clickstream`);
    expect(Object.values(stack.resources('aws_eks_pod_identity_association')).map((a) => a.service_account)).toContain('spark-clickstream');
  });
});
