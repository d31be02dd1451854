import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DataAwsKmsAlias } from '@cdktf/provider-aws/lib/data-aws-kms-alias';
import { DataAwsSubnets } from '@cdktf/provider-aws/lib/data-aws-subnets';
import { DataAwsVpc } from '@cdktf/provider-aws/lib/data-aws-vpc';
import { Ec2Tag } from '@cdktf/provider-aws/lib/ec2-tag';
import { EksAccessEntry } from '@cdktf/provider-aws/lib/eks-access-entry';
import { EksAccessPolicyAssociation } from '@cdktf/provider-aws/lib/eks-access-policy-association';
import { EksAddon } from '@cdktf/provider-aws/lib/eks-addon';
import { EksCluster } from '@cdktf/provider-aws/lib/eks-cluster';
import { EksNodeGroup } from '@cdktf/provider-aws/lib/eks-node-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template';
import type { ITerraformDependable } from 'cdktf';
import type { Construct } from 'constructs';
import {
  clusterName,
  dataKeyAlias,
  KARPENTER_DISCOVERY_TAG,
  karpenterInterruptionQueueName,
  karpenterNodeRoleName,
  pipelineImageRepository,
  pipelineRoleName,
  pipelineServiceAccount,
  NAMESPACES,
  PLATFORM_SERVICE_ACCOUNTS,
  SPARK_EVENT_LOG_PREFIX,
  SUBNET_TIER_TAG,
  SYSTEM_NODE_TAINT,
  secretsPrefix,
  vpcName,
  workloadRoleName,
} from '../../environments/naming';
import type { Environment } from '../../environments/schema';
import { PIPELINE_IMAGE_TAG_PREFIX } from '../../pipelines/runtime/image';
import type { Pipeline } from '../../pipelines/schema';
import { storageAccess } from '../../pipelines/storage-access';
import { EnvironmentStack } from '../constructs/environment-stack';
import { ImageRepository } from '../constructs/image-repository';
import { Karpenter } from '../constructs/karpenter';
import { policyDocument } from '../constructs/policy-document';
import { suppressPolicy } from '../constructs/policy-suppression';
import { storageStatements } from '../constructs/storage-statements';
import { WorkloadRole, type WorkloadRoleProps } from '../constructs/workload-role';
import { EKS_ADDON_VERSIONS, type EksAddonName } from '../versions';

/** Control-plane log types shipped to CloudWatch: all of them, audit included. */
const CONTROL_PLANE_LOGS = ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'];

/**
 * `<env>-cluster`: EKS with envelope-encrypted secrets, full control-plane logs and API-mode access entries;
 * managed node groups with IMDSv2 and encrypted gp3 volumes; pinned add-ons; an IAM role per workload,
 * bound to its service account by Pod Identity and limited to what that workload needs; what Karpenter needs of AWS
 * (the managed node groups run only the system workloads, Karpenter launches the rest); and the registry of the
 * pipeline image, which the nodes pull from and only the deploy role pushes to.
 * Finds the VPC and the data key by their names, so it depends on no other stack's outputs.
 */
export class ClusterStack extends EnvironmentStack {
  /** The EKS cluster. */
  readonly cluster: EksCluster;

  constructor(scope: Construct, env: Environment, pipelines: readonly Pipeline[]) {
    super(scope, { env, kind: 'cluster' });
    const name = clusterName(env.name);
    const clusterArn = `arn:aws:eks:${env.aws.region}:${env.aws.accountId}:cluster/${name}`;

    const vpc = new DataAwsVpc(this, 'vpc', { tags: { Name: vpcName(env.name) } });
    const privateSubnets = new DataAwsSubnets(this, 'private-subnets', {
      filter: [
        { name: 'vpc-id', values: [vpc.id] },
        { name: `tag:${SUBNET_TIER_TAG}`, values: ['private'] },
      ],
    });
    const dataKey = new DataAwsKmsAlias(this, 'data-key', { name: dataKeyAlias(env.name) });

    const secretsKey = new KmsKey(this, 'secrets-key', {
      description: `Encrypts the Kubernetes secrets of ${name}`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      // Losing this key makes every secret in the cluster unreadable.
      lifecycle: { preventDestroy: env.retainData },
    });
    new KmsAlias(this, 'secrets-key-alias', { name: `alias/${name}-secrets`, targetKeyId: secretsKey.keyId });

    // Created here rather than by EKS, so that it has a retention period and is removed with the stack.
    const controlPlaneLogs = new CloudwatchLogGroup(this, 'control-plane-logs', {
      name: `/aws/eks/${name}/cluster`,
      retentionInDays: env.cluster.logRetentionDays,
    });

    const clusterRole = new IamRole(this, 'cluster-role', {
      name: `${name}-cluster`,
      assumeRolePolicy: policyDocument([
        {
          Effect: 'Allow',
          Principal: { Service: 'eks.amazonaws.com' },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Condition: { StringEquals: { 'aws:SourceAccount': env.aws.accountId } },
        },
      ]),
    });
    const clusterPolicy = new IamRolePolicyAttachment(this, 'cluster-role-policy', {
      role: clusterRole.name,
      policyArn: 'arn:aws:iam::aws:policy/AmazonEKSClusterPolicy',
    });
    suppressPolicy(clusterPolicy, {
      id: 'DL-IAM-005',
      reason: 'The EKS service role must carry AmazonEKSClusterPolicy: AWS defines what the control plane needs and changes it with EKS versions, and EKS checks for this policy.',
    });

    this.cluster = new EksCluster(this, 'cluster', {
      name,
      version: env.cluster.kubernetesVersion,
      roleArn: clusterRole.arn,
      vpcConfig: {
        subnetIds: privateSubnets.ids,
        endpointPrivateAccess: true,
        endpointPublicAccess: !env.cluster.privateEndpoint,
        publicAccessCidrs: env.cluster.privateEndpoint ? undefined : env.cluster.publicAccessCidrs,
      },
      encryptionConfig: { resources: ['secrets'], provider: { keyArn: secretsKey.arn } },
      enabledClusterLogTypes: CONTROL_PLANE_LOGS,
      // Access is granted only by the access entries below, never implicitly to whoever created the cluster.
      accessConfig: { authenticationMode: 'API', bootstrapClusterCreatorAdminPermissions: false },
      // The add-ons are managed below at pinned versions instead of EKS's unmanaged defaults.
      bootstrapSelfManagedAddons: false,
      deletionProtection: env.retainData,
      dependsOn: [controlPlaneLogs, clusterPolicy],
    });

    env.cluster.adminRoleArns.forEach((principalArn, index) => {
      const entry = new EksAccessEntry(this, `admin-${index}`, { clusterName: this.cluster.name, principalArn, type: 'STANDARD' });
      new EksAccessPolicyAssociation(this, `admin-${index}-policy`, {
        clusterName: this.cluster.name,
        principalArn: entry.principalArn,
        policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy',
        accessScope: { type: 'cluster' },
      });
    });

    const role = (id: string, workload: string, props: Omit<WorkloadRoleProps, 'roleName' | 'clusterName' | 'clusterArn'>) =>
      new WorkloadRole(this, id, { roleName: workloadRoleName(env.name, workload), clusterName: this.cluster.name, clusterArn, ...props });

    // AWS's own add-ons get AWS's managed policies; the add-on binds the role to its service account.
    const vpcCniRole = role('vpc-cni-role', 'vpc-cni', { serviceAccount: PLATFORM_SERVICE_ACCOUNTS.vpcCni, managedPolicies: ['AmazonEKS_CNI_Policy'], associate: false });
    // AWS publishes the EBS CSI driver's policy under service-role/: the path-less ARN does not exist (the AWS API
    // emulator refused the attachment with NoSuchEntity, as AWS would).
    const ebsCsiRole = role('ebs-csi-role', 'ebs-csi', { serviceAccount: PLATFORM_SERVICE_ACCOUNTS.ebsCsiController, managedPolicies: ['service-role/AmazonEBSCSIDriverPolicy'], associate: false });

    const addon = (
      addonName: EksAddonName,
      dependsOn: ITerraformDependable[],
      podRole?: { role: WorkloadRole; serviceAccount: string },
      configuration?: object,
    ) =>
      new EksAddon(this, addonName, {
        clusterName: this.cluster.name,
        addonName,
        addonVersion: EKS_ADDON_VERSIONS[env.cluster.kubernetesVersion][addonName],
        resolveConflictsOnCreate: 'OVERWRITE',
        resolveConflictsOnUpdate: 'OVERWRITE',
        podIdentityAssociation: podRole === undefined ? undefined : [{ roleArn: podRole.role.role.arn, serviceAccount: podRole.serviceAccount }],
        configurationValues: configuration === undefined ? undefined : JSON.stringify(configuration),
        dependsOn,
      });
    // Nodes become Ready only with pod networking (which gets its credentials from the Pod Identity agent);
    // CoreDNS and the EBS CSI driver need running nodes, so they come after the node groups.
    const podIdentityAgent = addon('eks-pod-identity-agent', []);
    const networking = [
      podIdentityAgent,
      // Without the network policy agent, the NetworkPolicies of k8s/rendered would be accepted but not enforced.
      addon('vpc-cni', [podIdentityAgent], { role: vpcCniRole, serviceAccount: PLATFORM_SERVICE_ACCOUNTS.vpcCni.name }, { enableNetworkPolicy: 'true' }),
      addon('kube-proxy', []),
    ];
    const { nodeRole, nodeGroups } = this.addNodeGroups(env, name, privateSubnets.ids, networking);
    addon('coredns', nodeGroups);
    addon('aws-ebs-csi-driver', nodeGroups, { role: ebsCsiRole, serviceAccount: PLATFORM_SERVICE_ACCOUNTS.ebsCsiController.name });

    const karpenter = new Karpenter(this, 'karpenter', {
      cluster: this.cluster,
      clusterName: name,
      clusterArn,
      region: env.aws.region,
      accountId: env.aws.accountId,
      controllerRoleName: workloadRoleName(env.name, 'karpenter'),
      serviceAccount: PLATFORM_SERVICE_ACCOUNTS.karpenter,
      nodeRoleName: karpenterNodeRoleName(env.name),
      interruptionQueueName: karpenterInterruptionQueueName(env.name),
    });
    // Karpenter's nodes get the security groups its EC2NodeClass selects by this tag. The managed node groups' launch
    // templates name no security group, so their nodes have the one EKS creates for the cluster (which lets nodes and
    // control plane reach each other); Karpenter's nodes need exactly that one too. EKS owns the group, so the tag is
    // a resource of its own rather than an argument of it.
    new Ec2Tag(this, 'karpenter-discovery-security-group', {
      resourceId: this.cluster.vpcConfig.clusterSecurityGroupId,
      key: KARPENTER_DISCOVERY_TAG,
      value: name,
    });

    // Beside the nodes that pull from it, and encrypted with the environment's key, the data key.
    new ImageRepository(this, 'pipeline-image', {
      repositoryName: pipelineImageRepository(env.name),
      kmsKeyArn: dataKey.targetKeyArn,
      pushRoleArn: env.aws.deployRoleArn,
      pullRoleArns: [nodeRole.arn, karpenter.nodeRole.arn],
      tagPrefix: PIPELINE_IMAGE_TAG_PREFIX,
      retain: env.retainData,
    });

    role('external-secrets-role', 'external-secrets', {
      serviceAccount: PLATFORM_SERVICE_ACCOUNTS.externalSecrets,
      statements: [
        {
          Sid: 'ReadThisEnvironmentsSecrets',
          Effect: 'Allow',
          Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret', 'secretsmanager:ListSecretVersionIds'],
          Resource: `arn:aws:secretsmanager:${env.aws.region}:${env.aws.accountId}:secret:${secretsPrefix(env.name)}*`,
        },
      ],
    });
    role('spark-history-server-role', 'spark-history-server', {
      serviceAccount: PLATFORM_SERVICE_ACCOUNTS.sparkHistoryServer,
      statements: storageStatements(env, { read: [{ bucket: 'logs', prefix: SPARK_EVENT_LOG_PREFIX }], write: [] }, dataKey.targetKeyArn),
    });
    for (const pipeline of pipelines) {
      new WorkloadRole(this, `pipeline-${pipeline.name}-role`, {
        roleName: pipelineRoleName(env.name, pipeline.name),
        clusterName: this.cluster.name,
        clusterArn,
        serviceAccount: { namespace: NAMESPACES.pipelines, name: pipelineServiceAccount(pipeline.name) },
        statements: storageStatements(env, storageAccess(pipeline), dataKey.targetKeyArn),
      });
    }
  }

  private addNodeGroups(env: Environment, name: string, subnetIds: string[], after: ITerraformDependable[]): { nodeRole: IamRole; nodeGroups: EksNodeGroup[] } {
    const nodeRole = new IamRole(this, 'node-role', {
      name: `${name}-node`,
      assumeRolePolicy: policyDocument([
        { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ]),
    });
    // No CNI policy here: the VPC CNI gets its own role through Pod Identity, so pods never inherit it.
    const nodePolicies = {
      AmazonEKSWorkerNodePolicy:
        'The kubelet and the Pod Identity agent of managed nodes need AmazonEKSWorkerNodePolicy (EC2 and EKS describe calls, eks-auth:AssumeRoleForPodIdentity), which AWS maintains with EKS; it grants no data access.',
      AmazonEC2ContainerRegistryPullOnly:
        'Nodes pull images from ECR with AmazonEC2ContainerRegistryPullOnly, the read-only pull policy AWS maintains; it grants no push and no data access.',
    };
    const attachments = Object.entries(nodePolicies).map(([policy, reason]) => {
      const attachment = new IamRolePolicyAttachment(this, `node-role-${policy}`, { role: nodeRole.name, policyArn: `arn:aws:iam::aws:policy/${policy}` });
      suppressPolicy(attachment, { id: 'DL-IAM-005', reason });
      return attachment;
    });
    const nodeGroups = env.cluster.nodeGroups.map((group) => {
      const template = new LaunchTemplate(this, `${group.name}-launch-template`, {
        name: `${name}-${group.name}`,
        updateDefaultVersion: true,
        // IMDSv2 only, and a hop limit of 1 so that pods cannot reach the node's credentials.
        metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1 },
        blockDeviceMappings: [
          { deviceName: '/dev/xvda', ebs: { volumeSize: group.diskSizeGiB, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' } },
        ],
        tagSpecifications: [{ resourceType: 'instance', tags: { Name: `${name}-${group.name}` } }],
      });
      return new EksNodeGroup(this, `${group.name}-nodes`, {
        clusterName: this.cluster.name,
        nodeGroupName: group.name,
        nodeRoleArn: nodeRole.arn,
        subnetIds,
        amiType: 'AL2023_x86_64_STANDARD',
        capacityType: group.capacityType,
        instanceTypes: group.instanceTypes,
        scalingConfig: { minSize: group.minSize, desiredSize: group.desiredSize, maxSize: group.maxSize },
        updateConfig: { maxUnavailable: 1 },
        launchTemplate: { id: template.id, version: template.latestVersion.toString() },
        // Only the system workloads, which tolerate it, run here: Argo CD and Karpenter must start before any node
        // of Karpenter's exists, and everything else should run on the nodes it sizes to their requests.
        taint: [{ key: SYSTEM_NODE_TAINT.key, value: SYSTEM_NODE_TAINT.value, effect: 'NO_SCHEDULE' }],
        // Scaling is the autoscaler's business once the group exists; Terraform must not fight it.
        lifecycle: { ignoreChanges: ['scaling_config[0].desired_size'] },
        dependsOn: [...attachments, ...after],
      });
    });
    return { nodeRole, nodeGroups };
  }
}
