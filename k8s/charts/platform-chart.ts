import type { Construct } from 'constructs';
import { NAMESPACES } from '../../environments/naming';
import type { Environment } from '../../environments/schema';
import type { Pipeline } from '../../pipelines/schema';
import { KEEP_DATA } from '../argocd';
import { k8s } from '../kube';
import { cpus, gibibytes, hdfsPods, kafkaPods, karpenterPods, monitoringPods, pipelinePods, sparkRuntimePods, totals, type PodGroup } from '../sizing';
import { KarpenterNodes } from './karpenter-nodes';
import { EnvironmentChart, type EnvironmentChartProps } from './environment-chart';

/** The StorageClass of every volume that holds data: encrypted gp3, kept when its claim is deleted. */
export const DATA_STORAGE_CLASS = 'data-gp3-retain';

/** A peer of a network flow: pods in a namespace, or an address range (the API server, AWS endpoints). */
type Peer = { readonly namespace: string } | { readonly cidr: string };

/** Traffic a namespace's pods need, to or from a peer, on some TCP ports (all ports when absent). */
interface Flow {
  readonly peer: Peer;
  readonly ports?: readonly number[];
}

/** One namespace of the platform: its Pod Security level, the traffic it needs and what it may consume. */
interface NamespaceSpec {
  readonly name: string;
  /** `restricted` unless the workloads cannot run so; then the level and why. */
  readonly podSecurity: 'restricted' | { readonly level: 'baseline' | 'privileged'; readonly reason: string };
  readonly ingress: readonly Flow[];
  readonly egress: readonly Flow[];
  /** What its pods request at most; undefined where the pods are sized by others (operators' own charts). */
  readonly quota?: readonly PodGroup[];
}

const ANYWHERE = '0.0.0.0/0';
/** The EKS Pod Identity agent on every node, where the AWS SDKs get a pod's credentials (over HTTP, port 80). */
const POD_IDENTITY_AGENT = '169.254.170.23/32';
/** Where Karpenter's controller serves its metrics (the chart's `controller.metrics.port`). */
const KARPENTER_METRICS_PORT = 8080;
const HDFS_METRICS_PORTS = [9870, 9864, 8480, 7000] as const;
const same = (name: string): Flow => ({ peer: { namespace: name } });

/** The namespaces, their Pod Security levels and the exact flows their workloads need. */
function namespaces(env: Environment, pipelines: readonly Pipeline[]): NamespaceSpec[] {
  const vpc = env.network.vpcCidr;
  // The EKS API endpoint's network interfaces are in the VPC; so are the kubelets and webhooks' callers.
  const apiServer: Flow = { peer: { cidr: vpc }, ports: [443] };
  // S3 (through the gateway endpoint) and other AWS APIs answer on public addresses.
  const awsApis: Flow = { peer: { cidr: ANYWHERE }, ports: [443] };
  // Every pod with an IAM role (Pod Identity) gets its credentials from the node's agent, which network policies
  // govern like any other address: without this flow the AWS SDKs time out.
  const podIdentityAgent: Flow = { peer: { cidr: POD_IDENTITY_AGENT }, ports: [80] };
  const fromMonitoring = (...ports: number[]): Flow => ({ peer: { namespace: NAMESPACES.monitoring }, ports });
  const kafka = kafkaPods(env);
  const hdfs = hdfsPods(env);
  return [
    {
      name: NAMESPACES.kafka,
      podSecurity: 'restricted',
      // 9093: the TLS listener; 9404: JMX and Kafka Exporter metrics; 8080: operator metrics.
      ingress: [same(NAMESPACES.kafka), { peer: { namespace: NAMESPACES.pipelines }, ports: [9093] }, fromMonitoring(9404, 8080)],
      egress: [same(NAMESPACES.kafka), apiServer],
      quota: Object.values(kafka),
    },
    {
      name: NAMESPACES.hdfs,
      podSecurity: {
        level: 'baseline',
        reason: 'the Stackable 26.7 HDFS and ZooKeeper pods are not verified against restricted (audit and warn stay on restricted to show what would break)',
      },
      // 8020: namenode RPC; 9866/9867: datanode data transfer and IPC. Metrics (Stackable 26.7): Hadoop's /prom
      // on the web ports of namenodes (9870), datanodes (9864) and journalnodes (8480); ZooKeeper on 7000.
      ingress: [same(NAMESPACES.hdfs), { peer: { namespace: NAMESPACES.pipelines }, ports: [8020, 9866, 9867] }, fromMonitoring(...HDFS_METRICS_PORTS)],
      egress: [same(NAMESPACES.hdfs), apiServer],
      quota: Object.values(hdfs),
    },
    {
      name: NAMESPACES.sparkOperator,
      podSecurity: 'restricted',
      // 9443: the operator's admission webhook, called by the API server; 8080: operator metrics; 18080: History Server.
      ingress: [same(NAMESPACES.sparkOperator), { peer: { cidr: vpc }, ports: [9443] }, fromMonitoring(8080, 18080)],
      egress: [same(NAMESPACES.sparkOperator), apiServer, awsApis, podIdentityAgent],
      quota: Object.values(sparkRuntimePods()),
    },
    {
      name: NAMESPACES.pipelines,
      podSecurity: 'restricted',
      // Drivers and executors talk to each other on Spark's ports; 4040: driver UI with the Prometheus servlet.
      ingress: [same(NAMESPACES.pipelines), fromMonitoring(4040)],
      egress: [
        same(NAMESPACES.pipelines),
        { peer: { namespace: NAMESPACES.kafka }, ports: [9093] },
        { peer: { namespace: NAMESPACES.hdfs }, ports: [8020, 9866, 9867] },
        apiServer,
        awsApis,
        podIdentityAgent,
      ],
      quota: pipelinePods(env, pipelines),
    },
    {
      name: NAMESPACES.monitoring,
      podSecurity: 'restricted',
      // 10250: the prometheus-operator admission webhook, called by the API server.
      ingress: [same(NAMESPACES.monitoring), { peer: { cidr: vpc }, ports: [10250] }],
      egress: [
        same(NAMESPACES.monitoring),
        // The kubelets (10250) and node exporters (9100) listen on the nodes' VPC addresses.
        { peer: { cidr: vpc }, ports: [443, 9100, 10250] },
        { peer: { namespace: NAMESPACES.kafka }, ports: [9404, 8080] },
        { peer: { namespace: NAMESPACES.hdfs }, ports: [...HDFS_METRICS_PORTS] },
        { peer: { namespace: NAMESPACES.sparkOperator }, ports: [8080, 18080] },
        { peer: { namespace: NAMESPACES.pipelines }, ports: [4040] },
        { peer: { namespace: NAMESPACES.externalSecrets }, ports: [8080] },
        { peer: { namespace: NAMESPACES.karpenter }, ports: [KARPENTER_METRICS_PORT] },
        // CoreDNS's metrics (the kube-prometheus-stack chart's ServiceMonitor of kube-dns).
        { peer: { namespace: 'kube-system' }, ports: [9153] },
        // Alertmanager delivers to PagerDuty, Slack and the dead man's switch, over HTTPS.
        { peer: { cidr: ANYWHERE }, ports: [443] },
      ],
      quota: Object.values(monitoringPods(env)),
    },
    {
      name: NAMESPACES.nodeExporter,
      podSecurity: { level: 'privileged', reason: 'node-exporter reads the host (hostNetwork, hostPID, hostPath /proc and /sys) to report node health' },
      ingress: [],
      egress: [],
    },
    {
      name: NAMESPACES.externalSecrets,
      podSecurity: 'restricted',
      // 10250: the admission webhook; 8080: metrics.
      ingress: [same(NAMESPACES.externalSecrets), { peer: { cidr: vpc }, ports: [10250] }, fromMonitoring(8080)],
      egress: [same(NAMESPACES.externalSecrets), apiServer, awsApis, podIdentityAgent],
    },
    {
      name: NAMESPACES.karpenter,
      podSecurity: 'restricted',
      // The controller serves no webhook (Karpenter 1.x validates with CEL in its CRDs); only Prometheus calls it.
      ingress: [fromMonitoring(KARPENTER_METRICS_PORT)],
      // EC2, SQS (the interruption queue), SSM (AMI aliases), pricing and EKS, all on 443; its credentials from the
      // Pod Identity agent. The replicas agree on a leader through a Lease of the API server, not with each other.
      egress: [apiServer, awsApis, podIdentityAgent],
      quota: Object.values(karpenterPods(env)),
    },
    {
      name: NAMESPACES.stackableOperators,
      podSecurity: { level: 'privileged', reason: "Stackable's secret and listener operators run CSI node drivers that mount host paths with privileges" },
      // 8443: every Stackable operator's webhooks (CRD conversion; commons' StatefulSet restarter), which the API
      // server calls through the operator's Service (`conversion-webhook`, port and targetPort 8443 in each chart).
      ingress: [same(NAMESPACES.stackableOperators), { peer: { cidr: vpc }, ports: [8443] }],
      egress: [same(NAMESPACES.stackableOperators), apiServer],
    },
  ];
}

/**
 * `k8s/rendered/<env>/platform`: what every other component relies on, synced first by Argo CD.
 * Each namespace enforces a Pod Security level (`restricted` unless a reason says otherwise), starts
 * from a NetworkPolicy that denies all traffic and then allows exactly the flows its workloads need
 * (DNS always), and is bounded by a quota summed from the environment's sizing.
 */
export class PlatformChart extends EnvironmentChart {
  constructor(scope: Construct, id: string, props: EnvironmentChartProps) {
    super(scope, id, props);
    for (const spec of namespaces(props.env, props.pipelines)) this.addNamespace(spec);
    // Cluster-scoped, like the namespaces; their CRDs are synced in the wave before this folder (SYNC_WAVES.crds).
    new KarpenterNodes(this, 'karpenter-nodes', { env: props.env });

    new k8s.KubeStorageClass(this, 'data-storage-class', {
      metadata: { name: DATA_STORAGE_CLASS, annotations: KEEP_DATA },
      provisioner: 'ebs.csi.aws.com',
      parameters: { type: 'gp3', encrypted: 'true', 'csi.storage.k8s.io/fstype': 'ext4' },
      // Deleting a claim, by hand or by a sync, must never delete the volume and its data.
      reclaimPolicy: 'Retain',
      volumeBindingMode: 'WaitForFirstConsumer',
      allowVolumeExpansion: true,
    });
  }

  private addNamespace(spec: NamespaceSpec): void {
    const enforced = spec.podSecurity === 'restricted' ? 'restricted' : spec.podSecurity.level;
    new k8s.KubeNamespace(this, `namespace-${spec.name}`, {
      metadata: {
        name: spec.name,
        labels: {
          'pod-security.kubernetes.io/enforce': enforced,
          'pod-security.kubernetes.io/enforce-version': 'latest',
          // Audit and warn stay strict, so every departure from restricted remains visible.
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/warn': 'restricted',
        },
        // Deleting a namespace deletes every claim in it: no sync may do that.
        annotations: {
          ...KEEP_DATA,
          ...(spec.podSecurity === 'restricted'
            ? {}
            : {
                'driftless.io/pod-security-reason': spec.podSecurity.reason,
                // The policy gate's suppression of its rule 'namespaces enforce restricted', with the same reason.
                'driftless.io/suppress': `DL-NS-002: ${spec.podSecurity.reason}.`,
              }),
        },
      },
    });
    const namespace = spec.name;
    new k8s.KubeNetworkPolicy(this, `${namespace}-default-deny`, {
      metadata: { name: 'default-deny', namespace },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });
    new k8s.KubeNetworkPolicy(this, `${namespace}-allow`, {
      metadata: { name: 'allow-required-traffic', namespace },
      spec: {
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
        ingress: spec.ingress.map((flow) => ({ from: [peer(flow.peer)], ports: ports(flow) })),
        egress: [
          {
            to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
            ports: [{ protocol: 'UDP', port: k8s.IntOrString.fromNumber(53) }, { protocol: 'TCP', port: k8s.IntOrString.fromNumber(53) }],
          },
          ...spec.egress.map((flow) => ({ to: [peer(flow.peer)], ports: ports(flow) })),
        ],
      },
    });
    if (spec.quota !== undefined) {
      const total = totals(spec.quota);
      new k8s.KubeResourceQuota(this, `${namespace}-quota`, {
        metadata: { name: 'platform-sizing', namespace },
        spec: {
          hard: {
            'requests.cpu': k8s.Quantity.fromString(cpus(total.cpu)),
            'requests.memory': k8s.Quantity.fromString(gibibytes(total.memoryGiB)),
            'limits.memory': k8s.Quantity.fromString(gibibytes(total.memoryGiB)),
            'requests.storage': k8s.Quantity.fromString(gibibytes(Math.max(total.storageGiB, 1))),
            pods: k8s.Quantity.fromNumber(total.pods),
          },
        },
      });
    }
    // Containers that forget to say what they need still get a request and a memory limit.
    new k8s.KubeLimitRange(this, `${namespace}-limits`, {
      metadata: { name: 'container-defaults', namespace },
      spec: {
        limits: [
          {
            type: 'Container',
            defaultRequest: { cpu: k8s.Quantity.fromString('100m'), memory: k8s.Quantity.fromString('128Mi') },
            default: { memory: k8s.Quantity.fromString('512Mi') },
          },
        ],
      },
    });
  }
}

function peer(target: Peer) {
  return 'cidr' in target
    ? { ipBlock: { cidr: target.cidr } }
    : { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': target.namespace } } };
}

function ports(flow: Flow) {
  return flow.ports?.map((port) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) }));
}
