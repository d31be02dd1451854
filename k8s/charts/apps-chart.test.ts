import { describe, expect, it } from 'vitest';
import { loadEnvironments, validateEnvironments } from '../../environments/load';
import type { Environment } from '../../environments/schema';
import { FIXTURE_INPUTS, fixtureEnvironment, fixtureEnvironments, withValues } from '../../scripts/fixtures/environments';
import { findObject, ofKind, renderChart, type KubeObject } from '../manifest-lookup';
import { clusterName, karpenterInterruptionQueueName, NAMESPACES, PLATFORM_SERVICE_ACCOUNTS } from '../../environments/naming';
import { OPERATOR_CHARTS } from '../versions';
import { AppsChart, applicationValues } from './apps-chart';
import { HdfsChart } from './hdfs-chart';
import { MonitoringChart } from './monitoring-chart';

// The team's environments and the fixture environments: these properties hold for any valid environment.
const environments = [...(await loadEnvironments()), ...fixtureEnvironments()];
const wave = (app: KubeObject) => Number(app.metadata.annotations?.['argocd.argoproj.io/sync-wave']);

/** A node of Alertmanager's routing tree, as far as these tests read it. */
interface Route {
  readonly receiver?: string;
  readonly matchers?: readonly string[];
  readonly routes?: readonly Route[];
  readonly continue?: boolean;
  readonly repeat_interval?: string;
}

/** An Alertmanager receiver: a name and its `<kind>_configs`. */
type Receiver = { readonly name: string } & Readonly<Record<string, any>>;

/** Whether an alert's labels satisfy one matcher (`name="value"`, `!=`, `=~`, `!~`; a missing label is ""). */
function matches(matcher: string, labels: Readonly<Record<string, string>>): boolean {
  const parsed = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*$/.exec(matcher);
  if (parsed === null) throw new Error(`a matcher these tests cannot read: ${matcher}`);
  const [, name, op, value] = parsed;
  const actual = labels[name!] ?? '';
  if (op === '=') return actual === value;
  if (op === '!=') return actual !== value;
  const regex = new RegExp(`^(?:${value})$`);
  return op === '=~' ? regex.test(actual) : !regex.test(actual);
}

/**
 * Where Alertmanager sends an alert: depth first into the first child route whose matchers all hold (and into later
 * ones only after a child with `continue`), each child inheriting what it does not set; the routes that notify.
 */
function routesFor(route: Route, labels: Readonly<Record<string, string>>, inherited: Route = {}): Route[] {
  const node: Route = { receiver: route.receiver ?? inherited.receiver, repeat_interval: route.repeat_interval ?? inherited.repeat_interval };
  const chosen: Route[] = [];
  for (const child of route.routes ?? []) {
    if (!(child.matchers ?? []).every((m) => matches(m, labels))) continue;
    chosen.push(...routesFor(child, labels, node));
    if (child.continue !== true) break;
  }
  return chosen.length > 0 ? chosen : [node];
}

/** Seconds in a Prometheus duration such as `1h30m` or `50s`. */
function seconds(duration: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  const parts = [...duration.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)];
  if (parts.map((p) => p[0]).join('') !== duration || parts.length === 0) throw new Error(`not a duration: ${duration}`);
  return parts.reduce((total, [, n, unit]) => total + Number(n) * units[unit!]!, 0);
}

const withDeadMansSwitch = (env: Environment): Environment => ({ ...env, monitoring: { ...env.monitoring, deadMansSwitch: { type: 'webhook' } } });

describe.each(environments)('the $name app of apps', (env) => {
  const objects = renderChart(AppsChart, env);
  const apps = ofKind(objects, 'Application', 'argocd');
  const app = (name: string) => findObject(objects, 'Application', name, 'argocd');

  it('has an Application per operator and per rendered folder', () => {
    expect(apps.map((a) => a.metadata.name).sort()).toEqual(
      [
        'external-secrets', 'hdfs', 'kafka', 'karpenter', 'karpenter-crd', 'kube-prometheus-stack', 'monitoring', 'pipelines', 'platform', 'spark', 'spark-operator',
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

  it("syncs Karpenter's CRDs after the project and before the platform folder, which holds the NodePools and EC2NodeClass", () => {
    expect(wave(findObject(objects, 'AppProject', 'driftless', 'argocd'))).toBeLessThan(wave(app('karpenter-crd')));
    expect(wave(app('karpenter-crd'))).toBeLessThan(wave(app('platform')));
    expect(app('karpenter-crd').spec.source).toMatchObject({ chart: 'karpenter-crd', repoURL: OPERATOR_CHARTS.karpenterCrd.repoURL, targetRevision: OPERATOR_CHARTS.karpenterCrd.version });
    // One owner for the CRDs: the controller's chart leaves its own copy of them out.
    expect(app('karpenter').spec.source.helm.skipCrds).toBe(true);
    expect(app('karpenter-crd').spec.source.helm.skipCrds).toBeUndefined();
    // Deleting the CRDs would delete every NodePool and NodeClaim, and with them the nodes.
    for (const name of ['karpenter-crd', 'karpenter']) {
      expect(app(name).metadata.annotations?.['argocd.argoproj.io/sync-options']).toBe('Prune=false,Delete=false');
      expect(app(name).metadata.finalizers).toBeUndefined();
      expect(app(name).spec.syncPolicy.syncOptions).toContain('ServerSideApply=true');
    }
    const repository = findObject(objects, 'Secret', 'karpenter-charts', 'argocd');
    expect(repository.stringData).toEqual({ name: 'karpenter', type: 'helm', enableOCI: 'true', url: OPERATOR_CHARTS.karpenter.repoURL });
    expect(findObject(objects, 'AppProject', 'driftless', 'argocd').spec.sourceRepos).toContain(OPERATOR_CHARTS.karpenter.repoURL);
  });

  it("runs Karpenter for the environment's cluster and interruption queue, as the service account Pod Identity binds, on the system nodes", () => {
    const karpenter = app('karpenter');
    expect(karpenter.spec.destination.namespace).toBe(NAMESPACES.karpenter);
    const values = applicationValues(karpenter.spec.source.helm);
    expect(values.settings).toEqual({ clusterName: clusterName(env.name), interruptionQueue: karpenterInterruptionQueueName(env.name) });
    // No IRSA role annotation: the role is bound by a Pod Identity association in the cluster stack.
    expect(values.serviceAccount).toEqual({ create: true, name: PLATFORM_SERVICE_ACCOUNTS.karpenter.name });
    expect(PLATFORM_SERVICE_ACCOUNTS.karpenter.namespace).toBe(NAMESPACES.karpenter);
    expect(values.controller.image).toEqual({ tag: OPERATOR_CHARTS.karpenter.version, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(values.controller.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    expect(values.controller.resources.limits.memory).toBe(values.controller.resources.requests.memory);
    expect(values.tolerations).toContainEqual({ key: 'CriticalAddonsOnly', operator: 'Exists' });
    // The chart's affinity keeps the controller off the nodes it manages; the platform leaves it as it is.
    expect(values).not.toHaveProperty('affinity');
    // The chart requires its replicas on different nodes: never more than the system nodes.
    const systemNodes = env.cluster.nodeGroups.reduce((sum, group) => sum + group.desiredSize, 0);
    expect(values.replicas).toBeGreaterThanOrEqual(1);
    expect(values.replicas).toBeLessThanOrEqual(Math.max(1, Math.min(2, systemNodes)));
    expect(values.serviceMonitor).toEqual({ enabled: false });
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
    const values = applicationValues(app('kube-prometheus-stack').spec.source.helm);
    const receivers = Object.fromEntries(values.alertmanager.config.receivers.map((r: any) => [r.name, r]));
    for (const severity of ['critical', 'warning'] as const) {
      const target = env.monitoring.alertReceivers[severity];
      if (target.type === 'pagerduty') expect(receivers[severity].pagerduty_configs[0].routing_key_file).toMatch(/^\/etc\/alertmanager\/secrets\//);
      else expect(receivers[severity].slack_configs[0]).toMatchObject({ channel: target.channel, api_url_file: expect.stringMatching(/^\/etc\/alertmanager\/secrets\//) });
    }
    expect(values.prometheus.prometheusSpec.retention).toBe(`${env.monitoring.retentionDays}d`);
    expect(values.grafana.admin.existingSecret).toBe('grafana-admin');
  });

  it("leaves the listener operator's ListenerClass preset to the chart: every listener of HDFS and ZooKeeper is cluster-internal, a ClusterIP under every preset", () => {
    expect(applicationValues(app('stackable-listener').spec.source.helm)).not.toHaveProperty('preset');
    const listenerClasses = (node: unknown): string[] =>
      typeof node !== 'object' || node === null
        ? []
        : Object.entries(node).flatMap(([key, value]) => (key === 'listenerClass' ? [String(value)] : listenerClasses(value)));
    const used = listenerClasses(renderChart(HdfsChart, env));
    expect(used.length).toBeGreaterThan(0);
    expect(new Set(used)).toEqual(new Set(['cluster-internal']));
  });

  it("gives Argo CD the null that deletes the Strimzi chart's CPU limit, as values text that nothing on the way drops", () => {
    expect(app('strimzi').spec.source.helm.valuesObject).toBeUndefined();
    expect(typeof app('strimzi').spec.source.helm.values).toBe('string');
    expect(applicationValues(app('strimzi').spec.source.helm).resources.limits).toEqual({ cpu: null, memory: expect.stringMatching(/Gi$|Mi$/) });
  });

  it('runs Spark jobs only in the pipelines namespace with the platform service accounts', () => {
    expect(applicationValues(app('spark-operator').spec.source.helm).spark).toEqual({ jobNamespaces: ['pipelines'], serviceAccount: { create: false }, rbac: { create: false } });
  });
});

describe('alert routing by environment', () => {
  const receivers = (name: keyof typeof FIXTURE_INPUTS) => {
    const app = findObject(renderChart(AppsChart, fixtureEnvironment(name)), 'Application', 'kube-prometheus-stack', 'argocd');
    return Object.fromEntries(applicationValues(app.spec.source.helm).alertmanager.config.receivers.map((r: any) => [r.name, r]));
  };

  it('pages PagerDuty for critical alerts and posts warnings to Slack where the environment says so', () => {
    const { critical, warning } = FIXTURE_INPUTS.live.monitoring.alertReceivers;
    expect(critical.type).toBe('pagerduty');
    const routed = receivers('live');
    expect(routed.critical).toEqual({ name: 'critical', pagerduty_configs: [expect.objectContaining({ routing_key_file: expect.stringMatching(/^\/etc\/alertmanager\/secrets\//) })] });
    expect(routed.warning).toEqual({ name: 'warning', slack_configs: [expect.objectContaining({ channel: warning.channel })] });
  });

  it("sends Watchdog to the dead man's switch where the environment file names one", () => {
    const declared = { ...FIXTURE_INPUTS, live: withValues(FIXTURE_INPUTS.live, { 'monitoring.deadMansSwitch': { type: 'webhook' } }) };
    const live = validateEnvironments(declared).find((env) => env.name === 'live')!;
    const { config } = applicationValues(findObject(renderChart(AppsChart, live), 'Application', 'kube-prometheus-stack', 'argocd').spec.source.helm).alertmanager;
    const [watchdog] = routesFor(config.route, { alertname: 'Watchdog', severity: 'none' });
    expect(config.receivers.find((r: Receiver) => r.name === watchdog!.receiver)).toEqual({
      name: watchdog!.receiver,
      webhook_configs: [expect.objectContaining({ url_file: '/etc/alertmanager/secrets/alertmanager-receivers/dead-mans-switch-url' })],
    });
  });

  it('posts both severities to Slack where the environment has no PagerDuty', () => {
    const { critical, warning } = FIXTURE_INPUTS.lab.monitoring.alertReceivers;
    const routed = receivers('lab');
    expect(routed.critical).toEqual({ name: 'critical', slack_configs: [expect.objectContaining({ channel: critical.channel })] });
    expect(routed.warning).toEqual({ name: 'warning', slack_configs: [expect.objectContaining({ channel: warning.channel })] });
  });
});

// Each environment as it is and with a dead man's switch, so that both routes of Watchdog are checked everywhere.
const alerting = [...environments, ...environments.map(withDeadMansSwitch)].map((env) => ({
  env,
  label: `${env.name}${env.monitoring.deadMansSwitch === undefined ? '' : ' with a dead man\'s switch'}`,
}));

describe.each(alerting)('alert routing of $label', ({ env }) => {
  const app = findObject(renderChart(AppsChart, env), 'Application', 'kube-prometheus-stack', 'argocd');
  const { config, alertmanagerSpec } = applicationValues(app.spec.source.helm).alertmanager;
  const receivers: Receiver[] = config.receivers;
  const byName = new Map(receivers.map((r) => [r.name, r]));
  const receiverOf = (labels: Record<string, string>): Receiver[] =>
    routesFor(config.route, labels).map((route) => {
      const found = byName.get(route.receiver!);
      if (found === undefined) throw new Error(`route to undefined receiver ${route.receiver}`);
      return found;
    });
  const notifies = (receiver: Receiver) => Object.keys(receiver).filter((key) => key.endsWith('_configs') && receiver[key].length > 0);

  it('defines every receiver its routes name, each once', () => {
    expect(new Set(receivers.map((r) => r.name)).size).toBe(receivers.length);
    const named = (route: Route): string[] => [...(route.receiver === undefined ? [] : [route.receiver]), ...(route.routes ?? []).flatMap(named)];
    for (const name of named(config.route)) expect(byName.has(name), name).toBe(true);
  });

  it("sets only the route and the receivers, so that the chart's global settings, inhibit rules and templates stay", () => {
    expect(Object.keys(config).sort()).toEqual(['receivers', 'route']);
  });

  it(env.monitoring.deadMansSwitch === undefined ? 'sends Watchdog, always firing by design, to no one' : "sends Watchdog to the dead man's switch, and often", () => {
    const routes = routesFor(config.route, { alertname: 'Watchdog', severity: 'none' });
    const targets = receiverOf({ alertname: 'Watchdog', severity: 'none' });
    if (env.monitoring.deadMansSwitch === undefined) {
      expect(targets.map(notifies)).toEqual([[]]);
    } else {
      expect(targets.map(notifies)).toEqual([['webhook_configs']]);
      expect(targets[0]!.webhook_configs).toEqual([expect.objectContaining({ url_file: expect.stringMatching(/^\/etc\/alertmanager\/secrets\//) })]);
      expect(seconds(routes[0]!.repeat_interval!)).toBeLessThanOrEqual(300);
    }
  });

  it('pages no one for InfoInhibitor or for info alerts', () => {
    expect(receiverOf({ alertname: 'InfoInhibitor', severity: 'none', namespace: 'kafka' }).map(notifies)).toEqual([[]]);
    expect(receiverOf({ alertname: 'KubeQuotaAlmostFull', severity: 'info', namespace: 'kafka' }).map(notifies)).toEqual([[]]);
    expect(receiverOf({ alertname: 'KubeJobNotCompleted', severity: 'info', namespace: 'pipelines' }).map(notifies)).toEqual([[]]);
  });

  it('still sends critical and warning alerts to their receivers', () => {
    for (const severity of ['critical', 'warning'] as const) {
      const kind = env.monitoring.alertReceivers[severity].type === 'pagerduty' ? 'pagerduty_configs' : 'slack_configs';
      expect(receiverOf({ alertname: 'KafkaBrokerDown', severity, namespace: 'kafka' }).map((r) => [r.name, notifies(r)])).toEqual([[severity, [kind]]]);
    }
  });

  it('reads every credential from a key of the Secret that the monitoring chart makes and Alertmanager mounts', () => {
    const secret = findObject(renderChart(MonitoringChart, env), 'ExternalSecret', alertmanagerSpec.secrets[0], 'monitoring');
    const keys = secret.spec.data.map((d: { secretKey: string }) => `/etc/alertmanager/secrets/${secret.spec.target.name}/${d.secretKey}`);
    const files = receivers.flatMap((r) => Object.entries(r).filter(([key]) => key.endsWith('_configs')).flatMap(([, configs]) => configs))
      .flatMap((c: Record<string, unknown>) => Object.entries(c).filter(([key]) => key.endsWith('_file')).map(([, file]) => file));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(keys).toContain(file);
  });
});
