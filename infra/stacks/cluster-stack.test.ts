import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import {
  bucketName,
  clusterName,
  dataKeyAlias,
  KARPENTER_DISCOVERY_TAG,
  karpenterInterruptionQueueName,
  karpenterNodeRoleName,
  pipelineImageRepository,
  PLATFORM_SERVICE_ACCOUNTS,
  SYSTEM_NODE_TAINT,
  workloadRoleName,
} from '../../environments/naming';
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
  /** The Terraform name of the role named `roleName`. */
  const roleRef = (roleName: string) => roles.find(([, r]) => r.name === roleName)![0];

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

  it('grants access only through API access entries: the configured admin roles, and the nodes of Karpenter as nodes', () => {
    expect(cluster!.access_config).toEqual({ authentication_mode: 'API', bootstrap_cluster_creator_admin_permissions: false });
    const entries = Object.values(stack.resources('aws_eks_access_entry'));
    expect(entries.filter((e) => e.type === 'STANDARD').map((e) => e.principal_arn)).toEqual(env.cluster.adminRoleArns);
    expect(entries.filter((e) => e.type !== 'STANDARD')).toEqual([expect.objectContaining({ type: 'EC2_LINUX', principal_arn: `\${aws_iam_role.${roleRef(karpenterNodeRoleName(env.name))}.arn}` })]);
    expect(Object.values(stack.resources('aws_eks_access_policy_association')).map((a) => a.principal_arn)).toEqual(
      entries.filter((e) => e.type === 'STANDARD').map((_, index) => `\${aws_eks_access_entry.admin-${index}.principal_arn}`),
    );
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
      ['external-secrets/external-secrets', 'spark-operator/spark-history-server', 'karpenter/karpenter', ...pipelines.map((p) => `pipelines/spark-${p.name}`)].sort(),
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

  it('runs only system workloads on the managed node groups, which carry the system taint', () => {
    expect(SYSTEM_NODE_TAINT).toEqual({ key: 'CriticalAddonsOnly', value: 'true', effect: 'NoSchedule' });
    for (const group of Object.values(stack.resources('aws_eks_node_group'))) {
      expect(group.taint, group.node_group_name).toEqual([{ key: 'CriticalAddonsOnly', value: 'true', effect: 'NO_SCHEDULE' }]);
    }
  });

  describe("Karpenter's AWS side", () => {
    const controllerRoleName = workloadRoleName(env.name, 'karpenter');
    const statements = inlinePolicy(controllerRoleName);
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    const name = clusterName(env.name);
    const [queueRef, queue] = Object.entries(stack.resources('aws_sqs_queue')).find(([, q]) => q.name === karpenterInterruptionQueueName(env.name))!;
    const queueArn = `\${aws_sqs_queue.${queueRef}.arn}`;
    const nodeRoleArn = `\${aws_iam_role.${roleRef(karpenterNodeRoleName(env.name))}.arn}`;
    const ec2Arn = (resource: string) => `arn:aws:ec2:${env.aws.region}:${env.aws.accountId}:${resource}`;
    const withActions = (...actions: string[]) => statements.filter((s) => actions.some((a) => [s.Action].flat().includes(a)));

    it('binds the controller role to the service account the chart runs as, through Pod Identity', () => {
      const association = Object.values(stack.resources('aws_eks_pod_identity_association')).find((a) => a.role_arn === `\${aws_iam_role.${roleRef(controllerRoleName)}.arn}`);
      expect(association).toMatchObject({ namespace: PLATFORM_SERVICE_ACCOUNTS.karpenter.namespace, service_account: PLATFORM_SERVICE_ACCOUNTS.karpenter.name, cluster_name: '${aws_eks_cluster.cluster.name}' });
    });

    it('grants the controller only the actions of Karpenter v1, none of them on every resource unless it only reads', () => {
      expect(statements.flatMap((s) => s.Action).sort()).toEqual(
        [
          'ec2:RunInstances', 'ec2:CreateFleet', 'ec2:RunInstances', 'ec2:CreateFleet', 'ec2:RunInstances', 'ec2:CreateFleet', 'ec2:CreateLaunchTemplate',
          'ec2:CreateTags', 'ec2:CreateTags', 'ec2:TerminateInstances', 'ec2:DeleteLaunchTemplate', 'iam:PassRole', 'iam:CreateInstanceProfile',
          'iam:TagInstanceProfile', 'iam:AddRoleToInstanceProfile', 'iam:RemoveRoleFromInstanceProfile', 'iam:DeleteInstanceProfile', 'iam:GetInstanceProfile',
          'sqs:DeleteMessage', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'eks:DescribeCluster', 'ssm:GetParameter', 'ec2:DescribeCapacityReservations',
          'ec2:DescribeImages', 'ec2:DescribeInstances', 'ec2:DescribeInstanceStatus', 'ec2:DescribeInstanceTypeOfferings', 'ec2:DescribeInstanceTypes',
          'ec2:DescribeLaunchTemplates', 'ec2:DescribePlacementGroups', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSpotPriceHistory', 'ec2:DescribeSubnets',
          'pricing:GetProducts', 'iam:ListInstanceProfiles', 'arc-zonal-shift:GetManagedResource',
        ].sort(),
      );
      for (const statement of statements.filter((s) => [s.Resource].flat().includes('*'))) {
        expect(statement.Action.every((a: string) => /^[a-z0-9-]+:(Describe|Get|List)/.test(a)), statement.Sid).toBe(true);
      }
    });

    it('creates instances, fleets and launch templates only with the tags of this cluster and of a NodePool, in its region and account', () => {
      const create = withActions('ec2:RunInstances', 'ec2:CreateFleet', 'ec2:CreateLaunchTemplate');
      for (const statement of create) {
        for (const resource of [statement.Resource].flat()) expect(resource, statement.Sid).toMatch(new RegExp(`^arn:aws:ec2:${env.aws.region}:(${env.aws.accountId})?:`));
      }
      expect(bySid.CreateOnlyTaggedForThisCluster.Condition).toEqual({
        StringEquals: { [`aws:RequestTag/kubernetes.io/cluster/${name}`]: 'owned', 'aws:RequestTag/eks:eks-cluster-name': name },
        StringLike: { 'aws:RequestTag/karpenter.sh/nodepool': '*' },
      });
      // Without conditions only what a launch uses but does not create: public AMIs, snapshots, subnets, security groups.
      const unconditioned = create.filter((s) => s.Condition === undefined).flatMap((s) => [s.Resource].flat());
      expect(unconditioned.every((r: string) => /:(image|snapshot|security-group|subnet|capacity-reservation|placement-group)\/\*$/.test(r))).toBe(true);
      expect(bySid.LaunchFromOwnLaunchTemplates).toMatchObject({ Resource: ec2Arn('launch-template/*'), Condition: { StringEquals: { [`aws:ResourceTag/kubernetes.io/cluster/${name}`]: 'owned' } } });
    });

    it('tags only while creating, and afterwards only its own instances with its own tags', () => {
      const [onCreate, afterwards] = withActions('ec2:CreateTags');
      expect(onCreate!.Condition.StringEquals).toMatchObject({ [`aws:RequestTag/kubernetes.io/cluster/${name}`]: 'owned', 'ec2:CreateAction': ['RunInstances', 'CreateFleet', 'CreateLaunchTemplate'] });
      expect(afterwards).toMatchObject({
        Resource: ec2Arn('instance/*'),
        Condition: { StringEquals: { [`aws:ResourceTag/kubernetes.io/cluster/${name}`]: 'owned' }, 'ForAllValues:StringEquals': { 'aws:TagKeys': ['eks:eks-cluster-name', 'karpenter.sh/nodeclaim', 'Name'] } },
      });
    });

    it('terminates instances and deletes launch templates only where they are tagged for this cluster', () => {
      expect(withActions('ec2:TerminateInstances', 'ec2:DeleteLaunchTemplate')).toEqual([
        expect.objectContaining({
          Resource: [ec2Arn('instance/*'), ec2Arn('launch-template/*')],
          Condition: { StringEquals: { [`aws:ResourceTag/kubernetes.io/cluster/${name}`]: 'owned' }, StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' } },
        }),
      ]);
    });

    it('passes only the node role, and only to EC2; manages only instance profiles tagged for this cluster and region', () => {
      expect(withActions('iam:PassRole')).toEqual([
        { Sid: 'PassOnlyTheNodeRole', Effect: 'Allow', Action: ['iam:PassRole'], Resource: nodeRoleArn, Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } } },
      ]);
      const profile = `arn:aws:iam::${env.aws.accountId}:instance-profile/*`;
      for (const statement of withActions('iam:CreateInstanceProfile', 'iam:TagInstanceProfile', 'iam:AddRoleToInstanceProfile')) {
        expect(statement.Resource, statement.Sid).toBe(profile);
        const tags = { ...statement.Condition.StringEquals };
        expect(Object.entries(tags).filter(([key]) => key.endsWith(`kubernetes.io/cluster/${name}`)).length, statement.Sid).toBeGreaterThan(0);
        expect(Object.entries(tags).filter(([key]) => key.endsWith('topology.kubernetes.io/region')).every(([, v]) => v === env.aws.region), statement.Sid).toBe(true);
      }
    });

    it('reads only its interruption queue, describes only this cluster and reads only the public AMI parameters', () => {
      expect(withActions('sqs:ReceiveMessage')).toEqual([expect.objectContaining({ Action: ['sqs:DeleteMessage', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'], Resource: queueArn })]);
      expect(withActions('eks:DescribeCluster')).toEqual([expect.objectContaining({ Resource: `arn:aws:eks:${env.aws.region}:${env.aws.accountId}:cluster/${name}` })]);
      expect(withActions('ssm:GetParameter')).toEqual([expect.objectContaining({ Resource: `arn:aws:ssm:${env.aws.region}::parameter/aws/service/*` })]);
      expect(withActions('ec2:DescribeSubnets')[0]!.Condition).toEqual({ StringEquals: { 'aws:RequestedRegion': env.aws.region } });
    });

    it('gives its nodes a role EC2 assumes, with the worker and pull policies only, and lets them join as nodes', () => {
      const nodeRole = stack.resources('aws_iam_role')[roleRef(karpenterNodeRoleName(env.name))]!;
      expect(JSON.parse(nodeRole.assume_role_policy).Statement).toEqual([{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
      const attached = Object.values(stack.resources('aws_iam_role_policy_attachment')).filter((a) => a.role === nodeRoleArn.replace(/\.arn\}$/, '.name}'));
      expect(attached.map((a) => a.policy_arn).sort()).toEqual(['arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly', 'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy']);
      expect(Object.values(stack.resources('aws_eks_access_entry')).filter((e) => e.principal_arn === nodeRoleArn)).toEqual([
        { cluster_name: '${aws_eks_cluster.cluster.name}', principal_arn: nodeRoleArn, type: 'EC2_LINUX' },
      ]);
      expect(Object.values(stack.resources('aws_eks_access_policy_association')).some((a) => a.principal_arn === nodeRoleArn)).toBe(false);
    });

    it('keeps interruption notices encrypted for five minutes in a queue that only its EventBridge rules and SQS write to, over TLS only', () => {
      expect(queue).toEqual({ name: karpenterInterruptionQueueName(env.name), message_retention_seconds: 300, sqs_managed_sse_enabled: true });
      const policies = Object.values(stack.resources('aws_sqs_queue_policy')).filter((p) => p.queue_url === `\${aws_sqs_queue.${queueRef}.url}`);
      expect(policies).toHaveLength(1);
      const policy = JSON.parse(policies[0]!.policy).Statement as any[];
      const rules = Object.keys(stack.resources('aws_cloudwatch_event_rule')).map((ref) => `\${aws_cloudwatch_event_rule.${ref}.arn}`);
      expect(policy.filter((s) => s.Effect === 'Allow')).toEqual([
        expect.objectContaining({ Principal: { Service: 'events.amazonaws.com' }, Action: ['sqs:SendMessage'], Resource: queueArn, Condition: { ArnEquals: { 'aws:SourceArn': expect.arrayContaining(rules) } } }),
        expect.objectContaining({ Principal: { Service: 'sqs.amazonaws.com' }, Action: ['sqs:SendMessage'], Resource: queueArn }),
      ]);
      expect(policy.filter((s) => s.Effect === 'Deny')).toEqual([
        expect.objectContaining({ Principal: '*', Action: 'sqs:*', Resource: queueArn, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ]);
    });

    it('sends spot interruptions, rebalance recommendations, instance state changes and scheduled EC2 maintenance to the queue', () => {
      const rules = Object.entries(stack.resources('aws_cloudwatch_event_rule'));
      const patterns = rules.map(([, r]) => JSON.parse(r.event_pattern));
      expect(patterns.flatMap((p) => p['detail-type']).sort()).toEqual(
        ['AWS Health Event', 'EC2 Instance Rebalance Recommendation', 'EC2 Instance State-change Notification', 'EC2 Spot Instance Interruption Warning'].sort(),
      );
      expect(patterns.find((p) => p.source[0] === 'aws.health').detail).toEqual({ service: ['EC2'], eventTypeCategory: ['scheduledChange'] });
      for (const [ref, rule] of rules) {
        expect(rule.name.length, rule.name).toBeLessThanOrEqual(64);
        const targets = Object.values(stack.resources('aws_cloudwatch_event_target')).filter((t) => t.rule === `\${aws_cloudwatch_event_rule.${ref}.name}`);
        expect(targets.map((t) => t.arn), rule.name).toEqual([queueArn]);
      }
    });

    it('tags the security group of the nodes (the cluster security group) for discovery with the cluster name', () => {
      expect(Object.values(stack.resources('aws_ec2_tag'))).toEqual([
        { resource_id: '${aws_eks_cluster.cluster.vpc_config[0].cluster_security_group_id}', key: KARPENTER_DISCOVERY_TAG, value: name },
      ]);
      // The node groups' launch templates name no security group: their nodes have the cluster security group too.
      for (const template of Object.values(stack.resources('aws_launch_template'))) {
        expect(template.vpc_security_group_ids).toBeUndefined();
        expect(template.network_interfaces).toBeUndefined();
      }
    });
  });

  describe('the registry of the pipeline image', () => {
    const repositories = Object.entries(stack.resources('aws_ecr_repository'));
    const [repositoryRef, repository] = repositories[0]!;
    const ofRepository = (type: string) => Object.values(stack.resources(type)).filter((r) => r.repository === `\${aws_ecr_repository.${repositoryRef}.name}`);
    const [nodeRoleRef] = roles.find(([, r]) => r.name === `driftless-${env.name}-node`)!;
    const karpenterNodeRoleRef = roleRef(karpenterNodeRoleName(env.name));

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

    it("lets the node groups' and Karpenter's node roles pull, by the repository policy and by their own", () => {
      const [policy] = ofRepository('aws_ecr_repository_policy');
      const allows = (JSON.parse(policy!.policy).Statement as any[]).filter((s) => s.Effect === 'Allow');
      expect(allows).toEqual([
        expect.objectContaining({
          Principal: { AWS: [`\${aws_iam_role.${nodeRoleRef}.arn}`, `\${aws_iam_role.${karpenterNodeRoleRef}.arn}`] },
          Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
        }),
      ]);
      for (const ref of [nodeRoleRef, karpenterNodeRoleRef]) {
        const nodePolicies = Object.values(stack.resources('aws_iam_role_policy_attachment')).filter((a) => a.role === `\${aws_iam_role.${ref}.name}`);
        expect(nodePolicies.map((a) => a.policy_arn), ref).toContain('arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly');
      }
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
