import { Construct } from 'constructs';
import { clusterName, INTERRUPTIBLE_TAINT, KARPENTER_DISCOVERY_TAG, karpenterNodeRoleName, NODE_POOLS, PROJECT } from '../../environments/naming';
import type { Environment } from '../../environments/schema';
import { KEEP_DATA } from '../argocd';
import {
  Ec2NodeClass,
  Ec2NodeClassSpecBlockDeviceMappingsEbsVolumeType as VolumeType,
  Ec2NodeClassSpecMetadataOptionsHttpEndpoint as HttpEndpoint,
  Ec2NodeClassSpecMetadataOptionsHttpTokens as HttpTokens,
} from '../imports/karpenter.k8s.aws';
import {
  NodePool,
  NodePoolSpecDisruptionConsolidationPolicy as ConsolidationPolicy,
  NodePoolSpecLimits,
  NodePoolSpecTemplateSpecRequirementsOperator as Operator,
  NodePoolSpecTemplateSpecTaintsEffect as TaintEffect,
  type NodePoolSpecDisruption,
  type NodePoolSpecTemplateSpecRequirements,
  type NodePoolSpecTemplateSpecTaints,
} from '../imports/karpenter.sh';
import { NODE_AMI_ALIAS } from '../versions';

/** The EC2NodeClass every NodePool launches from. */
export const NODE_CLASS = 'default';

/** Props of {@link KarpenterNodes}. */
export interface KarpenterNodesProps {
  /** The environment whose `cluster.nodePools` the NodePools are made from. */
  readonly env: Environment;
}

/**
 * The nodes Karpenter launches for everything but the system workloads: one EC2NodeClass (how an instance is
 * launched: AMI, subnets, security groups, metadata service, disks) and the environment's two NodePools.
 *
 * - `NODE_POOLS.executors`: Spark executors, which tolerate losing a node (the driver re-runs the lost tasks). Spot
 *   first where the environment allows it, tainted INTERRUPTIBLE_TAINT so that only pods that say they tolerate
 *   interruption land there, consolidated when empty or underutilized.
 * - `NODE_POOLS.stable`: on-demand only, untainted, so every other pod (drivers, Kafka, HDFS, ZooKeeper, operators,
 *   monitoring) lands there. Consolidated only when empty, replaced one node at a time, and never expired.
 *
 * Both are kept by every sync (KEEP_DATA): deleting a NodePool makes Karpenter drain and terminate all its nodes, and
 * deleting the EC2NodeClass all nodes of every pool.
 */
export class KarpenterNodes extends Construct {
  constructor(scope: Construct, id: string, props: KarpenterNodesProps) {
    super(scope, id);
    const { env } = props;
    const cluster = clusterName(env.name);
    // Images, logs and emptyDirs (Spark's work dir and shuffle files) live on the root volume: the same size as the
    // system nodes' disks, which the environment sizes for the same reasons.
    const rootVolumeGiB = Math.max(...env.cluster.nodeGroups.map((group) => group.diskSizeGiB));

    new Ec2NodeClass(this, 'node-class', {
      metadata: { name: NODE_CLASS, annotations: KEEP_DATA },
      spec: {
        role: karpenterNodeRoleName(env.name),
        // The network stack tags the private subnets and the cluster stack the nodes' security group with this tag.
        subnetSelectorTerms: [{ tags: { [KARPENTER_DISCOVERY_TAG]: cluster } }],
        securityGroupSelectorTerms: [{ tags: { [KARPENTER_DISCOVERY_TAG]: cluster } }],
        amiSelectorTerms: [{ alias: NODE_AMI_ALIAS }],
        associatePublicIpAddress: false,
        // IMDSv2 only, and a hop limit of 1 so that pods cannot reach the node role's credentials (as on the managed nodes).
        metadataOptions: { httpEndpoint: HttpEndpoint.ENABLED, httpTokens: HttpTokens.REQUIRED, httpPutResponseHopLimit: 1 },
        blockDeviceMappings: [
          {
            // AL2023's root device.
            deviceName: '/dev/xvda',
            rootVolume: true,
            ebs: { volumeSize: `${rootVolumeGiB}Gi`, volumeType: VolumeType.GP3, encrypted: true, deleteOnTermination: true },
          },
        ],
        // The stacks' default tags (infra/constructs/environment-stack.ts), which the instances do not get from Terraform.
        tags: { environment: env.name, owner: env.tags.owner, 'cost-centre': env.tags.costCentre, 'managed-by': PROJECT },
      },
    });

    const { executors, stable } = env.cluster.nodePools;
    this.nodePool('executors', {
      name: NODE_POOLS.executors,
      capacityTypes: executors.capacityTypes,
      instanceCategories: executors.instanceCategories,
      cpuLimit: executors.cpuLimit,
      memoryLimitGiB: executors.memoryLimitGiB,
      taints: [{ key: INTERRUPTIBLE_TAINT.key, value: INTERRUPTIBLE_TAINT.value, effect: TaintEffect.NO_SCHEDULE }],
      // Executors are cheap to move: a lost one's tasks are re-run, so nodes are packed tighter as jobs shrink.
      disruption: { consolidationPolicy: ConsolidationPolicy.WHEN_EMPTY_OR_UNDERUTILIZED, consolidateAfter: '5m', budgets: [{ nodes: '20%' }] },
      // A week: nodes are refreshed regularly, which no executor notices more than a spot interruption.
      expireAfter: '168h',
    });
    this.nodePool('stable', {
      name: NODE_POOLS.stable,
      capacityTypes: ['on-demand'],
      instanceCategories: stable.instanceCategories,
      cpuLimit: stable.cpuLimit,
      memoryLimitGiB: stable.memoryLimitGiB,
      taints: [],
      // Kafka brokers, HDFS datanodes and ZooKeeper move with their data: a node is removed only when nothing runs on
      // it, and drift (a new AMI in k8s/versions.ts) replaces one node at a time, each replacement waiting for the
      // pods' disruption budgets, so replicas resync before the next node goes.
      disruption: { consolidationPolicy: ConsolidationPolicy.WHEN_EMPTY, consolidateAfter: '10m', budgets: [{ nodes: '1' }] },
      // Never: expiry is forceful (disruption budgets do not hold it back), and nodes launched together would expire
      // together, taking brokers and datanodes down at once. These nodes are renewed by drift instead, one at a time.
      expireAfter: 'Never',
    });
  }

  private nodePool(id: string, pool: PoolSpec): void {
    const requirements: NodePoolSpecTemplateSpecRequirements[] = [
      { key: 'karpenter.sh/capacity-type', operator: Operator.IN, values: [...pool.capacityTypes] },
      { key: 'karpenter.k8s.aws/instance-category', operator: Operator.IN, values: [...pool.instanceCategories] },
      // Nitro generations (5 and later), where gp3 root volumes and ENA networking are standard.
      { key: 'karpenter.k8s.aws/instance-generation', operator: Operator.GT, values: ['4'] },
      // The pipeline image and the operators' images are built for x86-64.
      { key: 'kubernetes.io/arch', operator: Operator.IN, values: ['amd64'] },
      { key: 'kubernetes.io/os', operator: Operator.IN, values: ['linux'] },
    ];
    new NodePool(this, id, {
      metadata: { name: pool.name, annotations: KEEP_DATA },
      spec: {
        template: {
          spec: {
            nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: NODE_CLASS },
            requirements,
            ...(pool.taints.length > 0 ? { taints: [...pool.taints] } : {}),
            expireAfter: pool.expireAfter,
          },
        },
        // What the pool may cost at most: Karpenter launches no node past these totals.
        limits: { cpu: NodePoolSpecLimits.fromNumber(pool.cpuLimit), memory: NodePoolSpecLimits.fromString(`${pool.memoryLimitGiB}Gi`) },
        disruption: pool.disruption,
      },
    });
  }
}

/** One NodePool as the platform writes it. */
interface PoolSpec {
  readonly name: string;
  readonly capacityTypes: readonly string[];
  readonly instanceCategories: readonly string[];
  readonly cpuLimit: number;
  readonly memoryLimitGiB: number;
  readonly taints: readonly NodePoolSpecTemplateSpecTaints[];
  readonly disruption: NodePoolSpecDisruption;
  readonly expireAfter: string;
}
