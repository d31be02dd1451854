import { DataAwsEksCluster } from '@cdktf/provider-aws/lib/data-aws-eks-cluster';
import { DataAwsEksClusterAuth } from '@cdktf/provider-aws/lib/data-aws-eks-cluster-auth';
import { HelmProvider } from '@cdktf/provider-helm/lib/provider';
import { Release } from '@cdktf/provider-helm/lib/release';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { Fn } from 'cdktf';
import type { Construct } from 'constructs';
import { clusterName, NAMESPACES, renderedPath, SYSTEM_NODE_TAINT } from '../../environments/naming';
import type { Environment } from '../../environments/schema';
import { EnvironmentStack } from '../constructs/environment-stack';
import { ARGO_CD_APPS_CHART, ARGO_CD_CHART } from '../versions';

/** The subset of the argo-cd chart's values this platform sets. */
interface ArgoCdValues {
  readonly crds: { readonly install: boolean; readonly keep: boolean };
  readonly global: {
    /** Argo CD's own address (its `url` setting, links, SSO callbacks, any ingress); the chart's default is argocd.example.com. */
    readonly domain: string;
    readonly logging: { readonly format: 'json' };
    readonly networkPolicy: { readonly create: boolean; readonly defaultDenyIngress: boolean };
    /** Tolerations of every component (the chart's default for each). */
    readonly tolerations: readonly Toleration[];
  };
  readonly configs: {
    readonly cm: Readonly<Record<string, string>>;
    readonly params: Readonly<Record<string, string | boolean>>;
  };
  readonly dex: { readonly enabled: boolean };
  readonly notifications: { readonly enabled: boolean };
  readonly controller: Sized;
  readonly server: Sized;
  readonly repoServer: Sized;
  readonly applicationSet: Sized;
  readonly redis: Sized;
  readonly redisSecretInit: Sized;
}

/** A Kubernetes toleration. */
interface Toleration {
  readonly key: string;
  readonly operator: 'Exists' | 'Equal';
  readonly effect: string;
}

/** A component's requests and memory limit, as the argo-cd chart takes them. */
interface Sized {
  readonly resources: { readonly requests: { readonly cpu: string; readonly memory: string }; readonly limits: { readonly memory: string } };
}

/** Requests, and a memory limit equal to the memory request (no CPU limit: throttling only slows a sync). */
const sized = (cpu: string, memory: string): Sized => ({ resources: { requests: { cpu, memory }, limits: { memory } } });

/** An Argo CD Application as the argocd-apps chart takes it. */
interface RootApplication {
  readonly namespace: string;
  readonly finalizers: readonly string[];
  readonly project: string;
  readonly source: { readonly repoURL: string; readonly targetRevision: string; readonly path: string; readonly directory: { readonly recurse: boolean } };
  readonly destination: { readonly server: string; readonly namespace: string };
  readonly syncPolicy: {
    readonly automated: { readonly prune: boolean; readonly selfHeal: boolean };
    readonly syncOptions: readonly string[];
    readonly retry: { readonly limit: number; readonly backoff: { readonly duration: string; readonly factor: number; readonly maxDuration: string } };
  };
}

/** Health of an Application is the health it reports (the check from Argo CD's documentation). */
const APPLICATION_HEALTH_CHECK = [
  'hs = {}',
  'hs.status = "Progressing"',
  'hs.message = ""',
  'if obj.status ~= nil then',
  '  if obj.status.health ~= nil then',
  '    hs.status = obj.status.health.status',
  '    if obj.status.health.message ~= nil then',
  '      hs.message = obj.status.health.message',
  '    end',
  '  end',
  'end',
  'return hs',
].join('\n');

/** Name of the app of apps in Argo CD. */
export const ROOT_APPLICATION = 'driftless-root';

/**
 * `<env>-bootstrap`: installs Argo CD and the root Application that makes it sync `k8s/rendered/<env>/apps`.
 * A separate apply from `<env>-cluster`, with providers configured from data sources, so that they never
 * point at a cluster that does not exist yet.
 */
export class BootstrapStack extends EnvironmentStack {
  constructor(scope: Construct, env: Environment) {
    super(scope, { env, kind: 'bootstrap' });
    const cluster = new DataAwsEksCluster(this, 'cluster', { name: clusterName(env.name) });
    const auth = new DataAwsEksClusterAuth(this, 'cluster-auth', { name: clusterName(env.name) });
    const connection = {
      host: cluster.endpoint,
      clusterCaCertificate: Fn.base64decode(cluster.certificateAuthority.get(0).data),
      token: auth.token,
    };
    new KubernetesProvider(this, 'kubernetes', connection);
    new HelmProvider(this, 'helm', { kubernetes: connection });

    const namespace = new NamespaceV1(this, 'argocd-namespace', {
      // Argo CD's repo server and controller meet `restricted`; enforcing it keeps it that way.
      metadata: { name: NAMESPACES.argocd, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
    });

    const values: ArgoCdValues = {
      // Deleting the CRDs would delete every Application, and with them the platform: keep them on uninstall.
      crds: { install: true, keep: true },
      global: {
        domain: env.gitops.argoCdHostname,
        logging: { format: 'json' },
        // Like every other namespace of the platform, argocd allows only the traffic its components need.
        networkPolicy: { create: true, defaultDenyIngress: true },
        // Argo CD installs Karpenter, so it must run before Karpenter has launched any node: on the managed node
        // groups, which are tainted for system workloads only.
        tolerations: [{ key: SYSTEM_NODE_TAINT.key, operator: 'Exists', effect: SYSTEM_NODE_TAINT.effect }],
      },
      configs: {
        cm: {
          'application.resourceTrackingMethod': 'annotation',
          'timeout.reconciliation': '180s',
          // Argo CD dropped the health check of Applications in 1.8; without it the sync waves of the app of
          // apps would not wait for the operators to be healthy before creating the resources they serve.
          'resource.customizations.health.argoproj.io_Application': APPLICATION_HEALTH_CHECK,
        },
        params: { 'server.insecure': false },
      },
      dex: { enabled: false },
      notifications: { enabled: false },
      // The chart sets no resources, and the argocd namespace has no LimitRange: sized for the platform's dozen or
      // so Applications. The repo server templates the operators' charts (kube-prometheus-stack is the largest) and
      // the controller holds every managed object in memory: raise both as Applications are added.
      controller: sized('250m', '1Gi'),
      server: sized('100m', '256Mi'),
      repoServer: sized('250m', '1Gi'),
      applicationSet: sized('50m', '128Mi'),
      redis: sized('50m', '128Mi'),
      redisSecretInit: sized('50m', '64Mi'),
    };
    const argoCd = new Release(this, 'argocd', {
      name: 'argocd',
      namespace: namespace.metadata.name,
      ...ARGO_CD_CHART,
      values: [JSON.stringify(values)],
      atomic: true,
      wait: true,
      timeout: 600,
    });

    const root: RootApplication = {
      namespace: NAMESPACES.argocd,
      // Deleting the root Application must not cascade into everything it created.
      finalizers: [],
      project: 'default',
      source: { repoURL: env.gitops.repoUrl, targetRevision: env.gitops.revision, path: renderedPath(env.name, 'apps'), directory: { recurse: true } },
      destination: { server: 'https://kubernetes.default.svc', namespace: NAMESPACES.argocd },
      syncPolicy: {
        automated: { prune: true, selfHeal: true },
        syncOptions: ['ServerSideApply=true'],
        retry: { limit: 10, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } },
      },
    };
    new Release(this, 'root-application', {
      name: 'argocd-root-application',
      namespace: namespace.metadata.name,
      ...ARGO_CD_APPS_CHART,
      values: [JSON.stringify({ applications: { [ROOT_APPLICATION]: root } })],
      dependsOn: [argoCd],
    });
  }
}
