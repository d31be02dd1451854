import { EksAccessEntry } from '@cdktf/provider-aws/lib/eks-access-entry';
import type { EksCluster } from '@cdktf/provider-aws/lib/eks-cluster';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { Construct } from 'constructs';
import type { ServiceAccountRef } from '../../environments/naming';
import { InterruptionQueue } from './interruption-queue';
import { karpenterControllerStatements } from './karpenter-statements';
import { policyDocument } from './policy-document';
import { suppressPolicy } from './policy-suppression';
import { WorkloadRole } from './workload-role';

/**
 * AWS managed policies of the nodes Karpenter launches, each with why. No AmazonEKS_CNI_Policy: the VPC CNI gets its
 * own role through Pod Identity (the Pod Identity agent runs on the host network, so it serves aws-node before pod
 * networking is up), and on the node role every pod that reached the instance metadata would inherit it. No
 * AmazonSSMManagedInstanceCore: nothing here logs in to nodes, and it would open a shell to whoever may use SSM.
 */
export const KARPENTER_NODE_POLICIES = {
  AmazonEKSWorkerNodePolicy:
    'The kubelet and the Pod Identity agent of the nodes Karpenter launches need AmazonEKSWorkerNodePolicy (EC2 and EKS describe calls, eks-auth:AssumeRoleForPodIdentity), which AWS maintains with EKS; it grants no data access.',
  AmazonEC2ContainerRegistryPullOnly:
    'The nodes Karpenter launches pull images from ECR with AmazonEC2ContainerRegistryPullOnly, the read-only pull policy AWS maintains; it grants no push and no data access.',
} as const;

/** Props of Karpenter's AWS side. */
export interface KarpenterProps {
  /** The cluster Karpenter adds nodes to: the access entry and the Pod Identity association are created after it. */
  readonly cluster: EksCluster;
  /** Its name as a literal: IAM condition keys and tag values must hold the name itself, not a reference. */
  readonly clusterName: string;
  /** Its ARN: only Pod Identity acting for this cluster may assume the controller role. */
  readonly clusterArn: string;
  /** Region and account of the cluster. */
  readonly region: string;
  readonly accountId: string;
  /** Name of the controller's role, from environments/naming.ts. */
  readonly controllerRoleName: string;
  /** The service account the controller runs as. */
  readonly serviceAccount: ServiceAccountRef;
  /** Name of the nodes' role, which the EC2NodeClass names (environments/naming.ts). */
  readonly nodeRoleName: string;
  /** Name of the interruption queue, which the chart's settings name (environments/naming.ts). */
  readonly interruptionQueueName: string;
}

/**
 * What Karpenter needs of AWS: the role of the nodes it launches, with the access entry that lets them join the
 * cluster; the interruption queue that warns it of spot interruptions and maintenance; and the controller's own role,
 * bound to its service account by Pod Identity, that may launch and terminate only this cluster's nodes and pass
 * only the node role.
 */
export class Karpenter extends Construct {
  /** The role of the nodes Karpenter launches. */
  readonly nodeRole: IamRole;
  /** The controller's role. */
  readonly controllerRole: WorkloadRole;
  /** The interruption queue. */
  readonly interruptionQueue: InterruptionQueue;

  constructor(scope: Construct, id: string, props: KarpenterProps) {
    super(scope, id);
    this.nodeRole = new IamRole(this, 'node-role', {
      name: props.nodeRoleName,
      assumeRolePolicy: policyDocument([{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }]),
    });
    for (const [policy, reason] of Object.entries(KARPENTER_NODE_POLICIES)) {
      const attachment = new IamRolePolicyAttachment(this, `node-role-${policy}`, { role: this.nodeRole.name, policyArn: `arn:aws:iam::aws:policy/${policy}` });
      suppressPolicy(attachment, { id: 'DL-IAM-005', reason });
    }
    // Managed node groups get their entry from EKS; Karpenter's nodes are plain instances and need this one, of the
    // type that maps them to system:nodes and nothing more (no access policy can be associated with it).
    new EksAccessEntry(this, 'node-access', { clusterName: props.cluster.name, principalArn: this.nodeRole.arn, type: 'EC2_LINUX' });

    this.interruptionQueue = new InterruptionQueue(this, 'interruption', { queueName: props.interruptionQueueName });

    this.controllerRole = new WorkloadRole(this, 'controller', {
      roleName: props.controllerRoleName,
      clusterName: props.cluster.name,
      clusterArn: props.clusterArn,
      serviceAccount: props.serviceAccount,
      statements: karpenterControllerStatements({
        clusterName: props.clusterName,
        region: props.region,
        accountId: props.accountId,
        nodeRoleArn: this.nodeRole.arn,
        queueArn: this.interruptionQueue.queue.arn,
      }),
    });
  }
}
