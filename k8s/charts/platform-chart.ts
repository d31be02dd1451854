import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { NAMESPACES } from '../../environments/naming';
import type { Environment } from '../../environments/schema';
import { k8s } from '../kube';

/** Props of the platform chart. */
export interface PlatformChartProps {
  /** The environment being rendered. */
  readonly env: Environment;
}

/** The namespaces the platform's components and pipelines run in, each Pod-Security labelled and closed by default. */
const PLATFORM_NAMESPACES = [
  NAMESPACES.kafka,
  NAMESPACES.hdfs,
  NAMESPACES.sparkOperator,
  NAMESPACES.monitoring,
  NAMESPACES.pipelines,
] as const;

/**
 * `k8s/rendered/<env>/platform`: what every other component relies on, synced first by Argo CD.
 * Namespaces enforce the `restricted` Pod Security Standard, and each starts with a NetworkPolicy that
 * denies all traffic, so that every allowed flow is one that a chart asked for explicitly.
 */
export class PlatformChart extends Chart {
  constructor(scope: Construct, id: string, props: PlatformChartProps) {
    super(scope, id, { labels: { 'app.kubernetes.io/part-of': 'driftless', 'driftless.io/environment': props.env.name } });
    for (const name of PLATFORM_NAMESPACES) {
      new k8s.KubeNamespace(this, `namespace-${name}`, {
        metadata: {
          name,
          labels: {
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/enforce-version': 'latest',
            'pod-security.kubernetes.io/audit': 'restricted',
            'pod-security.kubernetes.io/warn': 'restricted',
          },
        },
      });
      new k8s.KubeNetworkPolicy(this, `default-deny-${name}`, {
        metadata: { name: 'default-deny', namespace: name },
        spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
      });
    }
  }
}
