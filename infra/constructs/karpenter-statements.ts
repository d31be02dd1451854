import type { PolicyStatement } from './policy-document';

/** What the Karpenter controller's policy is scoped to. */
export interface KarpenterScope {
  /** The cluster whose nodes Karpenter launches. */
  readonly clusterName: string;
  /** Region and account of the cluster: Karpenter creates nothing elsewhere. */
  readonly region: string;
  readonly accountId: string;
  /** The one role Karpenter may hand to the instances it launches (through the instance profiles it creates). */
  readonly nodeRoleArn: string;
  /** The interruption queue it reads. */
  readonly queueArn: string;
}

/** Tag keys Karpenter puts on what it creates, by which the policy recognises what is Karpenter's. */
const NODEPOOL_TAG = 'karpenter.sh/nodepool';
const NODECLASS_TAG = 'karpenter.k8s.aws/ec2nodeclass';
const EKS_CLUSTER_TAG = 'eks:eks-cluster-name';

/**
 * The Karpenter controller's permissions, after the reference policy of Karpenter v1 (its getting-started
 * CloudFormation template), narrowed further where this platform allows: EC2 resources are in the cluster's
 * account rather than any (`*`), except the public AMIs and their snapshots. Creating is allowed only with the tags that
 * mark the resource as this cluster's and a NodePool's; tagging only as part of that creation (and, afterwards,
 * only the few tags Karpenter adds to its own instances); terminating and deleting only what carries those tags.
 * Everything read-only that cannot be scoped to a resource (Describe*, prices, instance-profile listing) is on `*`.
 */
export function karpenterControllerStatements(scope: KarpenterScope): PolicyStatement[] {
  const { clusterName, region, accountId } = scope;
  const ec2 = (resource: string) => `arn:aws:ec2:${region}:${accountId}:${resource}`;
  const owned = { [`aws:RequestTag/kubernetes.io/cluster/${clusterName}`]: 'owned', [`aws:RequestTag/${EKS_CLUSTER_TAG}`]: clusterName };
  const ownedResource = { [`aws:ResourceTag/kubernetes.io/cluster/${clusterName}`]: 'owned' };
  // What a launch creates: each must carry the cluster's tags when it is created.
  const launched = ['fleet/*', 'instance/*', 'volume/*', 'network-interface/*', 'launch-template/*', 'spot-instances-request/*'].map(ec2);
  const instanceProfiles = `arn:aws:iam::${accountId}:instance-profile/*`;
  const profileOwned = { [`aws:ResourceTag/kubernetes.io/cluster/${clusterName}`]: 'owned', 'aws:ResourceTag/topology.kubernetes.io/region': region };
  const profileRequest = {
    [`aws:RequestTag/kubernetes.io/cluster/${clusterName}`]: 'owned',
    [`aws:RequestTag/${EKS_CLUSTER_TAG}`]: clusterName,
    'aws:RequestTag/topology.kubernetes.io/region': region,
  };
  return [
    {
      Sid: 'LaunchFromSubnetsGroupsAndImages',
      Effect: 'Allow',
      Action: ['ec2:RunInstances', 'ec2:CreateFleet'],
      // Public AMIs and their snapshots belong to no account of ours, hence the empty account field.
      Resource: [
        `arn:aws:ec2:${region}::image/*`,
        `arn:aws:ec2:${region}::snapshot/*`,
        ec2('security-group/*'),
        ec2('subnet/*'),
        ec2('capacity-reservation/*'),
        ec2('placement-group/*'),
      ],
    },
    {
      Sid: 'LaunchFromOwnLaunchTemplates',
      Effect: 'Allow',
      Action: ['ec2:RunInstances', 'ec2:CreateFleet'],
      Resource: ec2('launch-template/*'),
      Condition: { StringEquals: ownedResource, StringLike: { [`aws:ResourceTag/${NODEPOOL_TAG}`]: '*' } },
    },
    {
      Sid: 'CreateOnlyTaggedForThisCluster',
      Effect: 'Allow',
      Action: ['ec2:RunInstances', 'ec2:CreateFleet', 'ec2:CreateLaunchTemplate'],
      Resource: launched,
      Condition: { StringEquals: owned, StringLike: { [`aws:RequestTag/${NODEPOOL_TAG}`]: '*' } },
    },
    {
      Sid: 'TagOnlyOnCreate',
      Effect: 'Allow',
      Action: ['ec2:CreateTags'],
      Resource: launched,
      Condition: {
        StringEquals: { ...owned, 'ec2:CreateAction': ['RunInstances', 'CreateFleet', 'CreateLaunchTemplate'] },
        StringLike: { [`aws:RequestTag/${NODEPOOL_TAG}`]: '*' },
      },
    },
    {
      // After launch Karpenter names its instances and records the NodeClaim; it may add no other tag, so it can
      // never re-tag an instance into or out of the cluster.
      Sid: 'TagOwnInstancesWithNodeClaim',
      Effect: 'Allow',
      Action: ['ec2:CreateTags'],
      Resource: ec2('instance/*'),
      Condition: {
        StringEquals: ownedResource,
        StringLike: { [`aws:ResourceTag/${NODEPOOL_TAG}`]: '*' },
        StringEqualsIfExists: { [`aws:RequestTag/${EKS_CLUSTER_TAG}`]: clusterName },
        'ForAllValues:StringEquals': { 'aws:TagKeys': [EKS_CLUSTER_TAG, 'karpenter.sh/nodeclaim', 'Name'] },
      },
    },
    {
      Sid: 'DeleteOnlyOwnInstancesAndTemplates',
      Effect: 'Allow',
      Action: ['ec2:TerminateInstances', 'ec2:DeleteLaunchTemplate'],
      Resource: [ec2('instance/*'), ec2('launch-template/*')],
      Condition: { StringEquals: ownedResource, StringLike: { [`aws:ResourceTag/${NODEPOOL_TAG}`]: '*' } },
    },
    {
      Sid: 'PassOnlyTheNodeRole',
      Effect: 'Allow',
      Action: ['iam:PassRole'],
      Resource: scope.nodeRoleArn,
      Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    },
    {
      Sid: 'CreateTaggedInstanceProfiles',
      Effect: 'Allow',
      Action: ['iam:CreateInstanceProfile'],
      Resource: instanceProfiles,
      Condition: { StringEquals: profileRequest, StringLike: { [`aws:RequestTag/${NODECLASS_TAG}`]: '*' } },
    },
    {
      Sid: 'TagOwnInstanceProfiles',
      Effect: 'Allow',
      Action: ['iam:TagInstanceProfile'],
      Resource: instanceProfiles,
      Condition: {
        StringEquals: { ...profileOwned, ...profileRequest },
        StringLike: { [`aws:ResourceTag/${NODECLASS_TAG}`]: '*', [`aws:RequestTag/${NODECLASS_TAG}`]: '*' },
      },
    },
    {
      Sid: 'ManageOwnInstanceProfiles',
      Effect: 'Allow',
      Action: ['iam:AddRoleToInstanceProfile', 'iam:RemoveRoleFromInstanceProfile', 'iam:DeleteInstanceProfile'],
      Resource: instanceProfiles,
      Condition: { StringEquals: profileOwned, StringLike: { [`aws:ResourceTag/${NODECLASS_TAG}`]: '*' } },
    },
    { Sid: 'ReadInstanceProfiles', Effect: 'Allow', Action: ['iam:GetInstanceProfile'], Resource: instanceProfiles },
    {
      Sid: 'ReadInterruptionQueue',
      Effect: 'Allow',
      Action: ['sqs:DeleteMessage', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
      Resource: scope.queueArn,
    },
    {
      Sid: 'FindTheApiServer',
      Effect: 'Allow',
      Action: ['eks:DescribeCluster'],
      Resource: `arn:aws:eks:${region}:${accountId}:cluster/${clusterName}`,
    },
    {
      // The EKS-optimized AMIs are published as public parameters under /aws/service/.
      Sid: 'ResolvePublicAmiParameters',
      Effect: 'Allow',
      Action: ['ssm:GetParameter'],
      Resource: `arn:aws:ssm:${region}::parameter/aws/service/*`,
    },
    {
      Sid: 'DiscoverInThisRegion',
      Effect: 'Allow',
      Action: [
        'ec2:DescribeCapacityReservations',
        'ec2:DescribeImages',
        'ec2:DescribeInstances',
        'ec2:DescribeInstanceStatus',
        'ec2:DescribeInstanceTypeOfferings',
        'ec2:DescribeInstanceTypes',
        'ec2:DescribeLaunchTemplates',
        'ec2:DescribePlacementGroups',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSpotPriceHistory',
        'ec2:DescribeSubnets',
      ],
      Resource: '*',
      Condition: { StringEquals: { 'aws:RequestedRegion': region } },
    },
    // Prices and the instance-profile list have no resource to scope to; both only read.
    { Sid: 'ReadPrices', Effect: 'Allow', Action: ['pricing:GetProducts'], Resource: '*' },
    { Sid: 'ListInstanceProfiles', Effect: 'Allow', Action: ['iam:ListInstanceProfiles'], Resource: '*' },
    {
      // Karpenter avoids an Availability Zone that ARC has shifted this cluster away from.
      Sid: 'ReadZonalShiftOfThisCluster',
      Effect: 'Allow',
      Action: ['arc-zonal-shift:GetManagedResource'],
      Resource: '*',
      Condition: { StringEquals: { 'arc-zonal-shift:ResourceIdentifier': `arn:aws:eks:${region}:${accountId}:cluster/${clusterName}` } },
    },
  ];
}
