import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import { SYSTEM_NODE_TAINT } from '../../environments/naming';
import { fixtureEnvironments } from '../../scripts/fixtures/environments';
import { stackOf, synthesizeStacks } from '../synthesized-stacks';
import { ARGO_CD_APPS_CHART, ARGO_CD_CHART } from '../versions';

// The team's environments and the fixture environments: these properties hold for any valid environment.
const environments = [...(await loadEnvironments()), ...fixtureEnvironments()];

describe.each(environments)('the $name bootstrap', (env) => {
  const stack = stackOf(synthesizeStacks(env, []), env.name, 'bootstrap');
  const helm = stack.resources('helm_release');

  it('configures the kubernetes and helm providers from data sources, never from resources of the same apply', () => {
    expect(stack.json.resource?.aws_eks_cluster).toBeUndefined();
    const connection = {
      host: '${data.aws_eks_cluster.cluster.endpoint}',
      cluster_ca_certificate: '${base64decode(data.aws_eks_cluster.cluster.certificate_authority[0].data)}',
      token: '${data.aws_eks_cluster_auth.cluster-auth.token}',
    };
    expect(stack.json.provider.kubernetes).toEqual([connection]);
    expect(stack.json.provider.helm).toEqual([{ kubernetes: connection }]);
    expect(Object.values(stack.dataSources('aws_eks_cluster'))).toEqual([expect.objectContaining({ name: `driftless-${env.name}` })]);
  });

  it('installs Argo CD at the pinned chart version and keeps its CRDs on uninstall', () => {
    expect(helm.argocd).toMatchObject({ ...ARGO_CD_CHART, namespace: '${kubernetes_namespace_v1.argocd-namespace.metadata[0].name}', atomic: true });
    const values = JSON.parse(helm.argocd!.values[0]);
    expect(values.crds).toEqual({ install: true, keep: true });
    expect(values.global.networkPolicy).toEqual({ create: true, defaultDenyIngress: true });
    // Sync waves of the app of apps wait for child Applications only with this health check.
    expect(values.configs.cm['resource.customizations.health.argoproj.io_Application']).toContain('hs.status = obj.status.health.status');
  });

  it('lets every Argo CD component run on the system nodes, since Argo CD installs Karpenter before any other node exists', () => {
    const values = JSON.parse(helm.argocd!.values[0]);
    expect(values.global.tolerations).toEqual([{ key: SYSTEM_NODE_TAINT.key, operator: 'Exists', effect: SYSTEM_NODE_TAINT.effect }]);
    // The chart falls back to global.tolerations only for components that set none of their own.
    for (const component of ['controller', 'server', 'repoServer', 'applicationSet', 'redis', 'redisSecretInit']) expect(values[component].tolerations, component).toBeUndefined();
  });

  it("gives Argo CD the environment's hostname as its domain, which its URL and links are made from", () => {
    expect(helm.argocd).toMatchObject({ chart: 'argo-cd' });
    expect(JSON.parse(helm.argocd!.values[0]).global.domain).toBe(env.gitops.argoCdHostname);
  });

  it('points the root Application at k8s/rendered/<env>/apps of the environment repository and revision, syncing automatically', () => {
    expect(helm['root-application']).toMatchObject({ ...ARGO_CD_APPS_CHART, depends_on: ['helm_release.argocd'] });
    const root = JSON.parse(helm['root-application']!.values[0]).applications['driftless-root'];
    expect(root.source).toEqual({ repoURL: env.gitops.repoUrl, targetRevision: env.gitops.revision, path: `k8s/rendered/${env.name}/apps`, directory: { recurse: true } });
    expect(root.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    expect(root.syncPolicy.retry.limit).toBeGreaterThan(0);
  });
});
