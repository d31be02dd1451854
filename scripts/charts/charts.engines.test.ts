/**
 * The Kubernetes side rendered for real: every operator chart of every environment's Applications and the bootstrap
 * stack's Argo CD charts templated by the pinned Helm from `../shared/charts`, then checked strictly against the
 * Kubernetes 1.34 schema and the CRDs (manifest-check), by the policy gate, by Kubernetes' own Pod Security admission
 * library against the namespaces' enforce levels (with the pod templates of k8s/rendered), for the values taking
 * effect, and for the traffic the platform needs passing its NetworkPolicies.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadEnvironments } from '../../environments/load';
import { clusterName, karpenterInterruptionQueueName, NAMESPACES, PLATFORM_SERVICE_ACCOUNTS, stackName } from '../../environments/naming';
import type { Environment } from '../../environments/schema';
import { ALERTMANAGER_SECRET, DASHBOARD_LABEL, GRAFANA_ADMIN_SECRET } from '../../k8s/monitoring-wiring';
import { KARPENTER_IMAGE, STACKABLE_IMAGE_REGISTRY } from '../../k8s/versions';
import { MONITORS } from '../../k8s/dashboards/scrape-targets';
import type { KubeObject, SynthesizedOutput } from '../policy/rule';
import { readSynthesizedOutput } from '../policy/synthesized-output';
import { copyProject } from '../project-copy';
import { runCommand } from '../run-command';
import { installedKubeTools } from '../toolchain/kube-tools';
import { cacheDir } from '../toolchain/toolchain';
import { manifestCheck, withoutNulls } from './manifest-check';
import { enforcedLevels, evaluatePodSecurity, formatRejections, podTemplates, sparkPods } from './pod-security';
import { chartFolder, renderEnvironment, sharedDir, type ChartRelease, type RenderedChart } from './render';
import { PolicyModel, operatorEgressFlows, prometheusOperatorPods, scrapeFlows, webhookFlows, type ChartObjects, type Flow } from './traffic';
import { acceptedFindings, chartFindings } from './upstream-policy';

const environments = await loadEnvironments();
const tools = installedKubeTools(cacheDir());
const scratch = mkdtempSync(join(tmpdir(), 'driftless-charts-'));
const project = join(scratch, 'project');
const accepted = acceptedFindings();
const usedAcceptances = new Set<object>();

interface Rendered {
  readonly charts: readonly RenderedChart[];
  /** The charts' objects, by release namespace. */
  readonly chartObjects: readonly ChartObjects[];
  /** The environment's k8s/rendered objects and the bootstrap stack's namespace. */
  readonly platform: readonly KubeObject[];
}
const rendered = new Map<string, Rendered>();

/** The bootstrap stack's kubernetes_namespace_v1 resources as Namespace objects (Argo CD's namespace). */
function bootstrapNamespaces(output: SynthesizedOutput, env: Environment): KubeObject[] {
  const bootstrap = output.stacks.find((stack) => stack.name === stackName(env.name, 'bootstrap'));
  return Object.values(bootstrap?.json.resource?.['kubernetes_namespace_v1'] ?? {}).map((resource: any) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: resource.metadata.name, labels: resource.metadata.labels ?? {} },
  }));
}

beforeAll(async () => {
  // The charts are rendered from a fresh synth of this commit's code, in a copy: the committed tree is not trusted.
  copyProject(project);
  const synth = await runCommand(process.execPath, ['--import', 'tsx', 'scripts/synth.ts'], { cwd: project });
  expect(synth.code, synth.stderr).toBe(0);
  for (const env of environments) {
    const output = readSynthesizedOutput(project, [env.name]);
    const charts = await renderEnvironment(tools.helm, output, env);
    const chartObjects = charts.map((chart) => ({ namespace: chart.release.namespace, objects: chart.objects }));
    const platform = [...output.manifests.map((manifest) => manifest.object), ...bootstrapNamespaces(output, env)];
    rendered.set(env.name, { charts, chartObjects, platform });
  }
}, 600_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const of = (env: Environment) => rendered.get(env.name)!;
const chartOf = (env: Environment, chart: string): RenderedChart => {
  const found = of(env).charts.find((c) => c.release.chart === chart);
  if (found === undefined) throw new Error(`${env.name} installs no chart '${chart}'`);
  return found;
};
const find = (chart: RenderedChart, kind: string, predicate: (object: KubeObject) => boolean = () => true): KubeObject[] =>
  chart.objects.filter((object) => object.kind === kind && predicate(object));
const containerOf = (workload: KubeObject, name?: string): any => {
  const containers: any[] = workload['spec'].template.spec.containers;
  return name === undefined ? containers[0] : containers.find((c) => c.name === name);
};
const values = (chart: RenderedChart): any => chart.release.values;

it('a chart version missing from ../shared/charts fails with a message that names it and what is there', () => {
  const release: ChartRelease = { environment: 'x', release: 'strimzi', chart: 'strimzi-kafka-operator', version: '0.0.1', namespace: 'kafka', values: {}, includeCrds: true, origin: 'a test' };
  expect(() => chartFolder(join(sharedDir(), 'charts'), release)).toThrow(/chart 'strimzi-kafka-operator' version '0\.0\.1' \(a test\) is not in .* \(it holds strimzi-kafka-operator-/);
});

it('the Pod Security evaluator rejects what restricted forbids, naming the namespace, object, container and checks', async () => {
  const template = { where: 'kafka/Deployment/bad (spec.template)', namespace: 'kafka', metadata: {}, spec: { containers: [{ name: 'app', image: 'app:1', securityContext: { privileged: true } }] } };
  const rejections = await evaluatePodSecurity(tools.podSecurity, [template], new Map([['kafka', { level: 'restricted', version: 'latest' }]]));
  expect(formatRejections(rejections)).toMatch(/^kafka\/Deployment\/bad \(spec\.template\) is rejected by namespace kafka \(enforce restricted\): privileged \(container "app" must not set securityContext\.privileged=true\);.*runAsNonRoot/);
  expect(await evaluatePodSecurity(tools.podSecurity, [template], new Map([['kafka', { level: 'privileged', version: 'latest' }]]))).toEqual([]);
});

describe.each(environments.map((env) => [env.name, env] as const))('%s', (_name, env) => {
  it('renders every operator chart of its Applications and the Argo CD charts of its bootstrap stack', () => {
    const { charts } = of(env);
    expect(charts.map((chart) => chart.release.chart)).toEqual(expect.arrayContaining(['argo-cd', 'argocd-apps']));
    expect(charts.filter((chart) => chart.release.origin.includes('/apps/')).length).toBeGreaterThan(0);
    for (const chart of charts) expect(chart.objects.length, `${chart.release.chart} rendered nothing`).toBeGreaterThan(0);
    for (const chart of charts.filter((c) => c.standIn !== undefined)) console.info(`${env.name}: ${chart.release.chart} ${chart.release.version} rendered from ${chart.standIn}`);
  });

  it('manifest-check passes on every rendered chart, with the CRDs the charts install', async () => {
    const { charts } = of(env);
    const files = new Map(charts.map((chart) => [`${chart.release.release}-${chart.release.chart}`, chart.objects.map(withoutNulls)] as const));
    const result = await manifestCheck(env.cluster.kubernetesVersion, files, charts.flatMap((chart) => chart.objects));
    expect(result.failures, result.summary).toEqual([]);
    expect(result.summary).toMatch(/[1-9]\d* passed, 0 failed$/);
  });

  it('the policy gate passes on every rendered chart, each accepted finding with its reason', () => {
    const findings = chartFindings(env, of(env).charts, accepted);
    for (const f of findings) if (f.acceptedBy !== undefined) usedAcceptances.add(f.acceptedBy);
    const unexcused = findings.filter((f) => f.acceptedBy === undefined).map((f) => `${f.chart}: ${f.finding.ruleId} ${f.finding.subject}: ${f.finding.message}`);
    expect(unexcused).toEqual([]);
  });

  it('every pod template, in the rendered charts and in k8s/rendered (Spark applications as the pods they become), is admitted by the enforce level of its namespace', async () => {
    const { chartObjects, platform } = of(env);
    const templates = [...chartObjects.flatMap((chart) => podTemplates(chart.objects, chart.namespace)), ...podTemplates(platform), ...sparkPods(platform)];
    expect(templates.length).toBeGreaterThan(0);
    // Every Spark application of the environment is judged as the pods spark-operator makes from it.
    const applications = platform.filter((o) => o.kind === 'SparkApplication' || o.kind === 'ScheduledSparkApplication');
    expect(templates.filter((t) => t.where.includes('as spark-operator makes it'))).toHaveLength(applications.length * 2);
    const rejections = await evaluatePodSecurity(tools.podSecurity, templates, enforcedLevels(platform));
    expect(formatRejections(rejections)).toBe('');
  });

  describe('traffic', () => {
    const check = (flows: ReadonlyArray<Flow | { error: string }>) => {
      const model = new PolicyModel([...of(env).platform, ...of(env).chartObjects.flatMap((chart) => chart.objects)]);
      const problems = flows.map((flow) => ('error' in flow ? flow.error : model.refusal(flow) === undefined ? undefined : `${flow.what}: ${model.refusal(flow)}`)).filter((p) => p !== undefined);
      expect(problems).toEqual([]);
      return flows.length;
    };

    it('the API server reaches every webhook the charts serve, from any address of the VPC', () => {
      expect(check(webhookFlows(of(env).chartObjects, env.network.vpcCidr))).toBeGreaterThan(0);
    });

    it('Prometheus reaches every port the charts have it scrape', () => {
      const prometheus = prometheusOperatorPods(of(env).chartObjects).find((pod) => pod.where.includes('/Prometheus/'));
      expect(prometheus, 'kube-prometheus-stack renders no Prometheus').toBeDefined();
      expect(check(scrapeFlows(of(env).chartObjects, { pods: prometheus! }, env.network.vpcCidr))).toBeGreaterThan(0);
    });

    it('every operator reaches the API server and DNS', () => {
      expect(check(operatorEgressFlows(of(env).chartObjects, env.network.vpcCidr))).toBeGreaterThan(0);
    });

    it('the VPC reaches the platform namespaces only on the ports of their webhooks', () => {
      const model = new PolicyModel(of(env).platform);
      const webhookPorts = new Map<string, Set<number>>();
      for (const flow of webhookFlows(of(env).chartObjects, env.network.vpcCidr)) {
        if ('error' in flow || !('pods' in flow.to)) continue;
        webhookPorts.set(flow.to.pods.namespace, (webhookPorts.get(flow.to.pods.namespace) ?? new Set()).add(flow.port));
      }
      const namespaces = of(env).platform.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name);
      const open = namespaces.flatMap((namespace) =>
        model.rules(namespace, 'ingress').flatMap(({ policy, rule }) =>
          (rule.from ?? []).some((peer: any) => peer.ipBlock !== undefined)
            ? (rule.ports ?? [{ port: 'every port' }]).filter((p: any) => !webhookPorts.get(namespace)?.has(p.port)).map((p: any) => `${namespace}/${policy.metadata.name} admits addresses on ${p.port}, which serves no webhook`)
            : [],
        ),
      );
      expect(open).toEqual([]);
    });
  });

  describe('values take effect', () => {
    it('strimzi: the operator has exactly our resources, the restricted pod security provider, and watches the namespace of the Kafka cluster', () => {
      const chart = chartOf(env, 'strimzi-kafka-operator');
      const [operator] = find(chart, 'Deployment', (d) => d.metadata.name === 'strimzi-cluster-operator');
      const container = containerOf(operator!);
      const ours = values(chart).resources;
      expect(container.resources.requests).toEqual(ours.requests);
      // Helm merges maps: a key of the chart's defaults that ours do not set (or null) would remain.
      expect(container.resources.limits).toEqual(Object.fromEntries(Object.entries(ours.limits).filter(([, v]) => v !== null)));
      const envVars = Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
      for (const { name, value } of values(chart).extraEnvs) expect(envVars[name]).toBe(value);
      // With no namespaces listed the operator watches its own, where the platform's Kafka must be.
      expect(envVars['STRIMZI_NAMESPACE']).toEqual({ fieldRef: expect.objectContaining({ fieldPath: 'metadata.namespace' }) });
      const kafkas = of(env).platform.filter((o) => o.kind === 'Kafka');
      expect(kafkas.length).toBeGreaterThan(0);
      for (const kafka of kafkas) expect(kafka.metadata.namespace).toBe(chart.release.namespace);
    });

    it('spark-operator: replicas, resources, job namespaces, metrics port, and no service accounts or RBAC of its own for the jobs', () => {
      const chart = chartOf(env, 'spark-operator');
      const v = values(chart);
      const [controller] = find(chart, 'Deployment', (d) => d.metadata.name.endsWith('-controller'));
      const [webhook] = find(chart, 'Deployment', (d) => d.metadata.name.endsWith('-webhook'));
      expect(controller!['spec'].replicas).toBe(v.controller.replicas);
      expect(webhook!['spec'].replicas).toBe(v.webhook.replicas);
      expect(containerOf(controller!).resources).toEqual(v.controller.resources);
      expect(containerOf(webhook!).resources).toEqual(v.webhook.resources);
      const args: string[] = containerOf(controller!).args;
      expect(args).toContain(`--namespaces=${v.spark.jobNamespaces.join(',')}`);
      expect(args).toContain(`--metrics-bind-address=:${v.prometheus.metrics.port}`);
      expect(containerOf(controller!).ports).toContainEqual(expect.objectContaining({ containerPort: v.prometheus.metrics.port }));
      // The jobs' service accounts and RBAC are the platform's (k8s/rendered/<env>/spark): the chart makes none for
      // them; what it binds in the job namespaces is the operator's own access there.
      for (const namespace of v.spark.jobNamespaces) {
        expect(find(chart, 'ServiceAccount', (sa) => sa.metadata.namespace === namespace)).toEqual([]);
        const subjects = find(chart, 'RoleBinding', (b) => b.metadata.namespace === namespace).flatMap((b) => b['subjects'] as any[]);
        for (const subject of subjects) expect(subject.namespace, JSON.stringify(subject)).toBe(chart.release.namespace);
      }
      expect(find(chart, 'PodMonitor')).toEqual([]);
    });

    it('kube-prometheus-stack: retention, resources, storage, every monitor selected, Alertmanager secrets, Grafana admin and dashboards, node-exporter apart, control plane not scraped', () => {
      const chart = chartOf(env, 'kube-prometheus-stack');
      const v = values(chart);
      const [prometheus] = find(chart, 'Prometheus');
      const spec = prometheus!['spec'];
      expect(spec.retention).toBe(v.prometheus.prometheusSpec.retention);
      expect(spec.resources).toEqual(v.prometheus.prometheusSpec.resources);
      expect(spec.storage.volumeClaimTemplate.spec).toEqual(v.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec);
      for (const selector of ['serviceMonitorSelector', 'podMonitorSelector', 'ruleSelector']) expect(spec[selector], selector).toEqual({});
      const [alertmanager] = find(chart, 'Alertmanager');
      expect(alertmanager!['spec'].secrets).toEqual(expect.arrayContaining([ALERTMANAGER_SECRET.name]));
      expect(alertmanager!['spec'].resources).toEqual(v.alertmanager.alertmanagerSpec.resources);
      const [grafana] = find(chart, 'Deployment', (d) => d.metadata.name.endsWith('-grafana'));
      const grafanaEnv = containerOf(grafana!, 'grafana').env;
      expect(grafanaEnv).toContainEqual({ name: 'GF_SECURITY_ADMIN_USER', valueFrom: { secretKeyRef: { name: GRAFANA_ADMIN_SECRET.name, key: GRAFANA_ADMIN_SECRET.userKey } } });
      expect(grafanaEnv).toContainEqual({ name: 'GF_SECURITY_ADMIN_PASSWORD', valueFrom: { secretKeyRef: { name: GRAFANA_ADMIN_SECRET.name, key: GRAFANA_ADMIN_SECRET.passwordKey } } });
      expect(containerOf(grafana!, 'grafana').resources).toEqual(v.grafana.resources);
      const sidecar = containerOf(grafana!, 'grafana-sc-dashboard');
      const sidecarEnv = Object.fromEntries(sidecar.env.map((e: any) => [e.name, e.value]));
      expect(sidecarEnv['LABEL']).toBe(Object.keys(DASHBOARD_LABEL)[0]);
      expect(sidecarEnv['LABEL_VALUE']).toBe(Object.values(DASHBOARD_LABEL)[0]);
      expect(sidecarEnv['NAMESPACE']).toBe(v.grafana.sidecar.dashboards.searchNamespace);
      const [nodeExporter] = find(chart, 'DaemonSet', (d) => d.metadata.name.endsWith('node-exporter'));
      expect(nodeExporter!.metadata.namespace).toBe(v['prometheus-node-exporter'].namespaceOverride);
      expect(find(chart, 'CustomResourceDefinition', (crd) => crd['spec'].group === 'monitoring.coreos.com').length).toBe(v.crds.enabled ? 10 : 0);
      for (const part of ['kube-controller-manager', 'kube-scheduler', 'kube-etcd', 'kube-proxy']) {
        expect(chart.objects.filter((o) => o.metadata.name.endsWith(part)).map((o) => o.kind), part).toEqual([]);
      }
    });

    it("kube-prometheus-stack: Alertmanager's configuration is ours over the chart's, with Watchdog, InfoInhibitor and info alerts paging no one", () => {
      const chart = chartOf(env, 'kube-prometheus-stack');
      const [secret] = find(chart, 'Secret', (o) => o.metadata.name.startsWith('alertmanager-'));
      const config = parse(Buffer.from(secret!['data']['alertmanager.yaml'], 'base64').toString('utf8'));
      const ours = values(chart).alertmanager.config;
      expect(config.route.routes).toEqual(ours.route.routes);
      expect(config.receivers).toEqual(ours.receivers);
      // Helm merged the rest of the chart's configuration: its inhibitions (InfoInhibitor's among them) are there.
      expect(JSON.stringify(config.inhibit_rules)).toContain('InfoInhibitor');
      const silent = new Set(config.receivers.filter((r: any) => Object.keys(r).length === 1).map((r: any) => r.name));
      const receiverOf = (labels: Record<string, string>) =>
        config.route.routes.find((route: any) => route.matchers.every((m: string) => { const [, k, v] = /^(\w+)="(.*)"$/.exec(m)!; return labels[k!] === v; }))?.receiver ?? config.route.receiver;
      for (const labels of [{ alertname: 'InfoInhibitor', severity: 'none' }, { alertname: 'SomethingInformative', severity: 'info' }]) expect(silent.has(receiverOf(labels)), JSON.stringify(labels)).toBe(true);
      const watchdog = receiverOf({ alertname: 'Watchdog', severity: 'none' });
      expect(silent.has(watchdog) || watchdog === ours.route.routes.find((r: any) => r.matchers.includes('alertname="Watchdog"'))?.receiver).toBe(true);
      for (const severity of ['critical', 'warning']) expect(silent.has(receiverOf({ alertname: 'X', severity })), severity).toBe(false);
    });

    it('external-secrets: its CRDs, and the service account Pod Identity binds', () => {
      const chart = chartOf(env, 'external-secrets');
      const name = PLATFORM_SERVICE_ACCOUNTS.externalSecrets.name;
      expect(find(chart, 'ServiceAccount', (sa) => sa.metadata.name === name)).toHaveLength(1);
      const [controller] = find(chart, 'Deployment', (d) => d.metadata.name === 'external-secrets');
      expect(controller!['spec'].template.spec.serviceAccountName).toBe(name);
      expect(find(chart, 'CustomResourceDefinition').length).toBeGreaterThan(0);
    });

    it('karpenter: the cluster, the interruption queue, the service account Pod Identity binds, the released image by digest, on the system nodes only', () => {
      const chart = chartOf(env, 'karpenter');
      const v = values(chart);
      const [controller] = find(chart, 'Deployment', (d) => d.metadata.name === 'karpenter');
      const pod = controller!['spec'].template.spec;
      const container = containerOf(controller!, 'controller');
      const envVars = Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
      expect(envVars['CLUSTER_NAME']).toBe(clusterName(env.name));
      expect(envVars['INTERRUPTION_QUEUE']).toBe(karpenterInterruptionQueueName(env.name));
      const name = PLATFORM_SERVICE_ACCOUNTS.karpenter.name;
      expect(pod.serviceAccountName).toBe(name);
      const [account] = find(chart, 'ServiceAccount', (sa) => sa.metadata.name === name);
      expect(account!.metadata.namespace).toBe(PLATFORM_SERVICE_ACCOUNTS.karpenter.namespace);
      // Pod Identity, not IRSA: no role annotation on the service account.
      expect(Object.keys(account!.metadata.annotations ?? {}).filter((key) => key.startsWith('eks.amazonaws.com/'))).toEqual([]);
      // The chart sources say 1.13.0 (SOURCES.md D7): the image must be the released 1.14.1, by digest.
      expect(container.image).toBe(`public.ecr.aws/karpenter/controller:${KARPENTER_IMAGE.tag}@${KARPENTER_IMAGE.digest}`);
      expect(container.resources).toEqual(v.controller.resources);
      expect(controller!['spec'].replicas).toBe(v.replicas);
      expect(pod.tolerations).toContainEqual({ key: 'CriticalAddonsOnly', operator: 'Exists' });
      // The chart's default affinity stays: never on a node that Karpenter itself launched.
      expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toContainEqual({
        matchExpressions: [{ key: 'karpenter.sh/nodepool', operator: 'DoesNotExist' }],
      });
      // The CRDs come from karpenter-crd alone; the controller serves no webhook.
      expect(find(chart, 'CustomResourceDefinition')).toEqual([]);
      const crds = find(chartOf(env, 'karpenter-crd'), 'CustomResourceDefinition').map((crd) => `${crd['spec'].group}/${crd['spec'].names.kind}`);
      expect(crds).toEqual(expect.arrayContaining(['karpenter.sh/NodePool', 'karpenter.sh/NodeClaim', 'karpenter.k8s.aws/EC2NodeClass']));
      expect(chart.objects.filter((o) => /WebhookConfiguration$/.test(o.kind))).toEqual([]);
      expect(find(chart, 'ServiceMonitor')).toEqual([]);
    });

    it("karpenter: the monitoring folder's PodMonitor selects the controller's pods on a port they serve, and the NetworkPolicies let Prometheus through", () => {
      const chart = chartOf(env, 'karpenter');
      const monitor = of(env).platform.find((o) => o.kind === 'PodMonitor' && o.metadata.name === MONITORS.karpenter.name && o.metadata.namespace === MONITORS.karpenter.namespace);
      expect(monitor, 'the monitoring folder has no PodMonitor for Karpenter').toBeDefined();
      const [controller] = find(chart, 'Deployment', (d) => d.metadata.name === 'karpenter');
      const labels = controller!['spec'].template.metadata.labels;
      for (const [key, value] of Object.entries(monitor!['spec'].selector.matchLabels)) expect(labels[key], key).toBe(value);
      const ports = Object.fromEntries(containerOf(controller!, 'controller').ports.map((p: any) => [p.name, p.containerPort]));
      const prometheus = prometheusOperatorPods(of(env).chartObjects).find((p) => p.where.includes('/Prometheus/'))!;
      const model = new PolicyModel([...of(env).platform, ...of(env).chartObjects.flatMap((c) => c.objects)]);
      for (const endpoint of monitor!['spec'].podMetricsEndpoints) {
        const port = ports[endpoint.port];
        expect(port, `port ${endpoint.port}`).toBeDefined();
        const flow = { what: `Prometheus scrapes Karpenter on ${port}`, from: { pods: prometheus }, to: { pods: { namespace: NAMESPACES.karpenter, labels } }, port };
        expect(model.refusal(flow)).toBeUndefined();
      }
    });

    it('Stackable operators: images from the pinned registry', () => {
      const stackable = of(env).charts.filter((chart) => chart.release.namespace === NAMESPACES.stackableOperators);
      expect(stackable.length).toBeGreaterThan(0);
      for (const chart of stackable) {
        const images = [...find(chart, 'Deployment'), ...find(chart, 'DaemonSet')].flatMap((w) => w['spec'].template.spec.containers.map((c: any) => c.image as string));
        // The 26.7 charts append the operator's name to the registry; the 26.3 stand-in of commons-operator
        // (SOURCES.md D5) takes the repository as the whole image name.
        const own = chart.standIn === undefined ? `${STACKABLE_IMAGE_REGISTRY}/${chart.release.chart}:` : `${STACKABLE_IMAGE_REGISTRY}:`;
        expect(images.filter((image) => image.startsWith(own)).length, `${chart.release.chart}: ${images.join(', ')}`).toBeGreaterThan(0);
      }
    });

    it('argo-cd: its URL from the environment, CRDs kept, its own network policies, json logs, our settings, sized components, no dex or notifications', () => {
      const chart = chartOf(env, 'argo-cd');
      const v = values(chart);
      const crds = find(chart, 'CustomResourceDefinition');
      expect(crds.length).toBeGreaterThan(0);
      for (const crd of crds) expect(crd.metadata.annotations?.['helm.sh/resource-policy']).toBe(v.crds.keep ? 'keep' : undefined);
      expect(find(chart, 'NetworkPolicy').length).toBeGreaterThan(0);
      const [cm] = find(chart, 'ConfigMap', (c) => c.metadata.name === 'argocd-cm');
      for (const [key, value] of Object.entries(v.configs.cm)) expect(cm!['data'][key], key).toBe(value);
      // Argo CD's own address comes from the environment's hostname, not the chart's argocd.example.com.
      expect(cm!['data']['url']).toBe(`https://${env.gitops.argoCdHostname}`);
      const [params] = find(chart, 'ConfigMap', (c) => c.metadata.name === 'argocd-cmd-params-cm');
      for (const [key, value] of Object.entries(v.configs.params)) expect(params!['data'][key], key).toBe(String(value));
      expect(params!['data']['server.log.format']).toBe(v.global.logging.format);
      expect(chart.objects.filter((o) => /dex|notifications/.test(o.metadata.name) && o.kind === 'Deployment')).toEqual([]);
      const sized = { 'argocd-application-controller': v.controller, 'argocd-server': v.server, 'argocd-repo-server': v.repoServer, 'argocd-applicationset-controller': v.applicationSet, 'argocd-redis': v.redis, 'argocd-redis-secret-init': v.redisSecretInit };
      for (const [name, component] of Object.entries(sized)) {
        const [workload] = chart.objects.filter((o) => o.metadata.name === name && ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));
        expect(workload, name).toBeDefined();
        for (const container of workload!['spec'].template.spec.containers) expect(container.resources, `${name}/${container.name}`).toEqual(component.resources);
      }
    });

    it('argocd-apps: the root Application points Argo CD at the apps folder of this environment', () => {
      const chart = chartOf(env, 'argocd-apps');
      const applications = find(chart, 'Application');
      expect(applications).toHaveLength(Object.keys(values(chart).applications).length);
      for (const application of applications) {
        const ours = values(chart).applications[application.metadata.name];
        expect(application['spec'].source).toEqual(ours.source);
        expect(application['spec'].syncPolicy).toEqual(ours.syncPolicy);
        expect(application.metadata.finalizers ?? []).toEqual(ours.finalizers);
      }
    });
  });
});

it('every accepted finding of scripts/charts/upstream-findings.yaml still excuses a finding', () => {
  expect(rendered.size).toBe(environments.length);
  const unused = accepted.filter((entry) => !usedAcceptances.has(entry)).map((entry) => `${entry.chart} ${entry.rule} ${entry.objects.join(', ')}`);
  expect(unused).toEqual([]);
});

