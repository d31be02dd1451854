import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import { FIXTURE_INPUTS, fixtureEnvironment, fixtureEnvironments } from '../../scripts/fixtures/environments';
import { findObject, ofKind, renderChart, type KubeObject } from '../manifest-lookup';
import { OPERATOR_CHARTS } from '../versions';
import { AppsChart } from './apps-chart';

// The team's environments and the fixture environments: these properties hold for any valid environment.
const environments = [...(await loadEnvironments()), ...fixtureEnvironments()];
const wave = (app: KubeObject) => Number(app.metadata.annotations?.['argocd.argoproj.io/sync-wave']);

describe.each(environments)('the $name app of apps', (env) => {
  const objects = renderChart(AppsChart, env);
  const apps = ofKind(objects, 'Application', 'argocd');
  const app = (name: string) => findObject(objects, 'Application', name, 'argocd');

  it('has an Application per operator and per rendered folder', () => {
    expect(apps.map((a) => a.metadata.name).sort()).toEqual(
      [
        'external-secrets', 'hdfs', 'kafka', 'kube-prometheus-stack', 'monitoring', 'pipelines', 'platform', 'spark', 'spark-operator',
        'stackable-commons', 'stackable-hdfs', 'stackable-listener', 'stackable-secret', 'stackable-zookeeper', 'strimzi',
      ].sort(),
    );
  });

  it('points each folder Application at k8s/rendered/<env>/<folder> of the environment repository and revision', () => {
    for (const folder of ['platform', 'kafka', 'hdfs', 'spark', 'monitoring', 'pipelines']) {
      expect(app(folder).spec.source).toEqual({
        repoURL: env.gitops.repoUrl,
        targetRevision: env.gitops.revision,
        path: `k8s/rendered/${env.name}/${folder}`,
        directory: { recurse: true },
      });
    }
  });

  it('installs operators from pinned chart versions with server-side apply', () => {
    expect(app('strimzi').spec.source).toMatchObject({ chart: 'strimzi-kafka-operator', targetRevision: '1.2.0', repoURL: OPERATOR_CHARTS.strimzi.repoURL });
    expect(app('spark-operator').spec.source).toMatchObject({ chart: 'spark-operator', targetRevision: '2.5.2' });
    expect(app('stackable-hdfs').spec.source).toMatchObject({ chart: 'hdfs-operator', targetRevision: '26.7.0' });
    for (const name of ['strimzi', 'spark-operator', 'kube-prometheus-stack', 'external-secrets', 'stackable-hdfs']) {
      expect(app(name).spec.source.targetRevision).toMatch(/^\d+\.\d+\.\d+$/);
      expect(app(name).spec.syncPolicy.syncOptions).toContain('ServerSideApply=true');
    }
  });

  it('puts sync waves in order: platform, then each operator before the custom resources it serves, then pipelines', () => {
    const servedBy: Record<string, string[]> = {
      kafka: ['strimzi'],
      hdfs: ['stackable-commons', 'stackable-secret', 'stackable-listener', 'stackable-zookeeper', 'stackable-hdfs'],
      monitoring: ['kube-prometheus-stack', 'external-secrets'],
      spark: ['spark-operator'],
      pipelines: ['strimzi', 'spark-operator'],
    };
    for (const [folder, operators] of Object.entries(servedBy)) {
      for (const operator of operators) expect(wave(app(operator)), `${operator} before ${folder}`).toBeLessThan(wave(app(folder)));
      expect(wave(app('platform'))).toBeLessThan(wave(app(folder)));
    }
    for (const other of apps.filter((a) => a.metadata.name !== 'pipelines')) expect(wave(other)).toBeLessThanOrEqual(wave(app('pipelines')));
    expect(wave(findObject(objects, 'AppProject', 'driftless', 'argocd'))).toBeLessThan(wave(app('platform')));
  });

  it('syncs every Application automatically with self-heal and retries with backoff', () => {
    for (const application of apps) {
      expect(application.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
      expect(application.spec.syncPolicy.retry).toEqual({ limit: 10, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } });
      expect(application.spec.project).toBe('driftless');
    }
  });

  it('never prunes or cascades the deletion of Applications whose objects hold data, or of operators (their CRDs own the data objects)', () => {
    for (const name of ['platform', 'kafka', 'hdfs', 'pipelines', 'strimzi', 'stackable-hdfs', 'stackable-zookeeper', 'kube-prometheus-stack', 'external-secrets', 'spark-operator']) {
      expect(app(name).metadata.annotations?.['argocd.argoproj.io/sync-options']).toBe('Prune=false,Delete=false');
      expect(app(name).metadata.finalizers).toBeUndefined();
    }
  });

  it('routes alerts by severity to the environment receivers, with credentials from mounted files', () => {
    const values = app('kube-prometheus-stack').spec.source.helm.valuesObject;
    const receivers = Object.fromEntries(values.alertmanager.config.receivers.map((r: any) => [r.name, r]));
    for (const severity of ['critical', 'warning'] as const) {
      const target = env.monitoring.alertReceivers[severity];
      if (target.type === 'pagerduty') expect(receivers[severity].pagerduty_configs[0].routing_key_file).toMatch(/^\/etc\/alertmanager\/secrets\//);
      else expect(receivers[severity].slack_configs[0]).toMatchObject({ channel: target.channel, api_url_file: expect.stringMatching(/^\/etc\/alertmanager\/secrets\//) });
    }
    expect(values.alertmanager.config.route.routes.map((r: any) => r.matchers[0])).toEqual(['severity="critical"', 'severity="warning"']);
    expect(values.prometheus.prometheusSpec.retention).toBe(`${env.monitoring.retentionDays}d`);
    expect(values.grafana.admin.existingSecret).toBe('grafana-admin');
  });

  it('runs Spark jobs only in the pipelines namespace with the platform service accounts', () => {
    expect(app('spark-operator').spec.source.helm.valuesObject.spark).toEqual({ jobNamespaces: ['pipelines'], serviceAccount: { create: false }, rbac: { create: false } });
  });
});

describe('alert routing by environment', () => {
  const receivers = (name: keyof typeof FIXTURE_INPUTS) => {
    const app = findObject(renderChart(AppsChart, fixtureEnvironment(name)), 'Application', 'kube-prometheus-stack', 'argocd');
    return Object.fromEntries(app.spec.source.helm.valuesObject.alertmanager.config.receivers.map((r: any) => [r.name, r]));
  };

  it('pages PagerDuty for critical alerts and posts warnings to Slack where the environment says so', () => {
    const { critical, warning } = FIXTURE_INPUTS.live.monitoring.alertReceivers;
    expect(critical.type).toBe('pagerduty');
    const routed = receivers('live');
    expect(routed.critical).toEqual({ name: 'critical', pagerduty_configs: [expect.objectContaining({ routing_key_file: expect.stringMatching(/^\/etc\/alertmanager\/secrets\//) })] });
    expect(routed.warning).toEqual({ name: 'warning', slack_configs: [expect.objectContaining({ channel: warning.channel })] });
  });

  it('posts both severities to Slack where the environment has no PagerDuty', () => {
    const { critical, warning } = FIXTURE_INPUTS.lab.monitoring.alertReceivers;
    const routed = receivers('lab');
    expect(routed.critical).toEqual({ name: 'critical', slack_configs: [expect.objectContaining({ channel: critical.channel })] });
    expect(routed.warning).toEqual({ name: 'warning', slack_configs: [expect.objectContaining({ channel: warning.channel })] });
  });
});
