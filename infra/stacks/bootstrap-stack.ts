import { DataAwsEksCluster } from '@cdktf/provider-aws/lib/data-aws-eks-cluster';
import { DataAwsEksClusterAuth } from '@cdktf/provider-aws/lib/data-aws-eks-cluster-auth';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { Fn } from 'cdktf';
import type { Construct } from 'constructs';
import { clusterName, NAMESPACES } from '../../environments/naming';
import type { Environment } from '../../environments/schema';
import { EnvironmentStack } from '../constructs/environment-stack';

/**
 * `<env>-bootstrap`: installs Argo CD into the cluster. A separate apply from `<env>-cluster`, with
 * providers configured from data sources, so that they never point at a cluster that does not exist yet.
 */
export class BootstrapStack extends EnvironmentStack {
  constructor(scope: Construct, env: Environment) {
    super(scope, { env, kind: 'bootstrap' });
    const cluster = new DataAwsEksCluster(this, 'cluster', { name: clusterName(env.name) });
    const auth = new DataAwsEksClusterAuth(this, 'cluster-auth', { name: clusterName(env.name) });
    new KubernetesProvider(this, 'kubernetes', {
      host: cluster.endpoint,
      clusterCaCertificate: Fn.base64decode(cluster.certificateAuthority.get(0).data),
      token: auth.token,
    });
    new NamespaceV1(this, 'argocd-namespace', {
      metadata: { name: NAMESPACES.argocd, labels: { 'pod-security.kubernetes.io/enforce': 'baseline' } },
    });
  }
}
