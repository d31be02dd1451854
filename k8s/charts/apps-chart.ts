import type { Construct } from 'constructs';
import { parse, stringify } from 'yaml';
import { clusterName, karpenterInterruptionQueueName, NAMESPACES, PLATFORM_SERVICE_ACCOUNTS, renderedPath, type RenderedComponent } from '../../environments/naming';
import type { Environment } from '../../environments/schema';
import { KEEP_DATA, SYNC_WAVES, syncWave } from '../argocd';
import { AppProject, Application, type ApplicationSpecSource } from '../imports/argoproj.io';
import { k8s } from '../kube';
import { ALERTMANAGER_SECRET, DASHBOARD_LABEL, GRAFANA_ADMIN_SECRET } from '../monitoring-wiring';
import { cpus, gibibytes, kafkaPods, karpenterPods, monitoringPods, sparkRuntimePods, type PodGroup } from '../sizing';
import { nodeSelectorFor, TOLERATE_EVERY_TAINT } from '../placement';
import { KARPENTER_IMAGE, OPERATOR_CHARTS, STACKABLE_IMAGE_REGISTRY, type PinnedChart } from '../versions';
import { EnvironmentChart, type EnvironmentChartProps } from './environment-chart';
import { DATA_STORAGE_CLASS } from './platform-chart';

/** The Argo CD project every Application of the platform belongs to. */
export const ARGO_PROJECT = 'driftless';

const IN_CLUSTER = 'https://kubernetes.default.svc';

/** Requests and a memory limit, in the shape every Helm chart takes. */
const resources = (group: PodGroup) => ({
  requests: { cpu: cpus(group.cpu), memory: gibibytes(group.memoryGiB) },
  limits: { memory: gibibytes(group.memoryGiB) },
});

/**
 * `resources` for a chart whose defaults set a CPU limit in the same map: Helm merges maps, and only a `null` deletes
 * a default key. Values with a null go to Argo CD as `helm.values` text (see `helmValues`).
 */
const withoutChartCpuLimit = (own: ReturnType<typeof resources>) => ({ ...own, limits: { ...own.limits, cpu: null } });

type NodeSelector = Readonly<Record<string, string>>;

/** Values of the Strimzi operator chart that the platform sets. */
interface StrimziValues {
  readonly watchNamespaces: readonly string[];
  readonly nodeSelector: NodeSelector;
  /** The chart's values.yaml sets `limits.cpu: 1000m`. */
  readonly resources: ReturnType<typeof withoutChartCpuLimit>;
  readonly extraEnvs: ReadonlyArray<{ readonly name: string; readonly value: string }>;
}

/** Values of the Kubeflow spark-operator chart that the platform sets. */
interface SparkOperatorValues {
  readonly spark: { readonly jobNamespaces: readonly string[]; readonly serviceAccount: { readonly create: boolean }; readonly rbac: { readonly create: boolean } };
  readonly controller: { readonly replicas: number; readonly resources: ReturnType<typeof resources>; readonly nodeSelector: NodeSelector };
  readonly webhook: { readonly enable: boolean; readonly replicas: number; readonly resources: ReturnType<typeof resources>; readonly nodeSelector: NodeSelector };
  readonly prometheus: { readonly metrics: { readonly enable: boolean; readonly port: number }; readonly podMonitor: { readonly create: boolean } };
}

/** Values of kube-prometheus-stack that the platform sets. */
interface KubePrometheusStackValues {
  readonly crds: { readonly enabled: boolean };
  readonly prometheus: {
    readonly prometheusSpec: {
      readonly retention: string;
      readonly resources: ReturnType<typeof resources>;
      readonly nodeSelector: NodeSelector;
      readonly serviceMonitorSelectorNilUsesHelmValues: boolean;
      readonly podMonitorSelectorNilUsesHelmValues: boolean;
      readonly ruleSelectorNilUsesHelmValues: boolean;
      readonly storageSpec: { readonly volumeClaimTemplate: { readonly spec: object } };
    };
  };
  readonly alertmanager: {
    readonly config: object;
    readonly alertmanagerSpec: { readonly secrets: readonly string[]; readonly resources: ReturnType<typeof resources>; readonly nodeSelector: NodeSelector };
  };
  readonly grafana: {
    readonly admin: { readonly existingSecret: string; readonly userKey: string; readonly passwordKey: string };
    readonly sidecar: { readonly dashboards: { readonly enabled: boolean; readonly label: string; readonly labelValue: string; readonly searchNamespace: string } };
    readonly resources: ReturnType<typeof resources>;
    readonly nodeSelector: NodeSelector;
  };
  readonly 'kube-state-metrics': { readonly nodeSelector: NodeSelector };
  readonly prometheusOperator: { readonly nodeSelector: NodeSelector; readonly admissionWebhooks: { readonly patch: { readonly nodeSelector: NodeSelector } } };
  /** The chart's default tolerates NoSchedule taints only; a list replaces it. */
  readonly 'prometheus-node-exporter': { readonly namespaceOverride: string; readonly tolerations: ReadonlyArray<typeof TOLERATE_EVERY_TAINT> };
  readonly kubeControllerManager: { readonly enabled: boolean };
  readonly kubeScheduler: { readonly enabled: boolean };
  readonly kubeEtcd: { readonly enabled: boolean };
  readonly kubeProxy: { readonly enabled: boolean };
}

/** Values of the Karpenter chart that the platform sets. */
interface KarpenterValues {
  readonly settings: { readonly clusterName: string; readonly interruptionQueue: string };
  /** No IRSA annotation: EKS Pod Identity binds the controller's role to this service account. */
  readonly serviceAccount: { readonly create: boolean; readonly name: string };
  readonly replicas: number;
  readonly controller: { readonly image: { readonly tag: string; readonly digest: string }; readonly resources: ReturnType<typeof resources> };
  readonly tolerations: ReadonlyArray<{ readonly key: string; readonly operator: 'Exists' }>;
  /** The monitoring chart scrapes the controller with a PodMonitor of its own, as it does every operator. */
  readonly serviceMonitor: { readonly enabled: boolean };
}

/** One operator: its pinned chart, where it runs and its values. */
interface Operator {
  readonly name: string;
  readonly chart: PinnedChart;
  readonly namespace: string;
  readonly values: object;
  /** Sync wave of its Application. @default SYNC_WAVES.operators */
  readonly wave?: number;
  /** Leave out the chart's `crds/`, which another Application installs. @default false */
  readonly skipCrds?: boolean;
}

/** Chart registries that Argo CD reaches over OCI: it needs a repository Secret for each; none needs credentials. */
const OCI_REPOSITORIES = [
  { id: 'stackable-oci-repository', name: 'stackable-charts', url: OPERATOR_CHARTS.stackableHdfs.repoURL, owner: "Stackable's" },
  { id: 'karpenter-oci-repository', name: 'karpenter-charts', url: OPERATOR_CHARTS.karpenter.repoURL, owner: "Karpenter's (Amazon ECR Public)" },
] as const;

/**
 * `k8s/rendered/<env>/apps`: the Applications the root Application syncs. Sync waves order them:
 * the platform folder (namespaces, policies, storage) first, then the operators (and so their CRDs),
 * then the folders of custom resources they serve, then the pipelines. Every Application syncs
 * automatically with self-heal and retries with backoff; those whose objects hold data (and the operators,
 * whose CRDs own every custom resource of their kinds) are never pruned or deleted and have no
 * cascading-delete finalizer.
 */
export class AppsChart extends EnvironmentChart {
  constructor(scope: Construct, id: string, props: EnvironmentChartProps) {
    super(scope, id, props);
    const { env } = props;
    const operators = operatorsOf(env);

    new AppProject(this, 'project', {
      metadata: { name: ARGO_PROJECT, namespace: NAMESPACES.argocd, annotations: syncWave(SYNC_WAVES.project) },
      spec: {
        description: `The ${env.name} data platform`,
        sourceRepos: [env.gitops.repoUrl, ...new Set(operators.map((o) => o.chart.repoURL))],
        destinations: [{ server: IN_CLUSTER, namespace: '*' }],
        // Operators install CRDs, cluster roles and webhooks.
        clusterResourceWhitelist: [{ group: '*', kind: '*' }],
      },
    });

    // Stackable and Karpenter serve their charts from OCI registries, which Argo CD must be told about.
    for (const repository of OCI_REPOSITORIES) {
      new k8s.KubeSecret(this, repository.id, {
        metadata: {
          name: repository.name,
          namespace: NAMESPACES.argocd,
          labels: { 'argocd.argoproj.io/secret-type': 'repository' },
          annotations: {
            ...syncWave(SYNC_WAVES.project),
            'driftless.io/suppress': `DL-SECRET-001: It holds only the public address of ${repository.owner} chart registry, which needs no credentials; Argo CD takes repository settings from Secrets only.`,
          },
        },
        stringData: { name: repository.name.replace(/-charts$/, ''), type: 'helm', enableOCI: 'true', url: repository.url },
      });
    }

    this.folder(env, 'platform', SYNC_WAVES.platform, { holdsData: true });
    for (const operator of operators) {
      this.application(operator.name, operator.wave ?? SYNC_WAVES.operators, operator.namespace, {
        repoUrl: operator.chart.repoURL,
        chart: operator.chart.chart,
        targetRevision: operator.chart.version,
        helm: { releaseName: operator.name, ...(operator.skipCrds === true ? { skipCrds: true } : {}), ...helmValues(operator.values) },
        // Operator charts carry CRDs too large for client-side apply's annotation.
        // An operator holds data too: deleting its CRDs would delete every custom resource of that kind.
      }, ['ServerSideApply=true'], true);
    }
    this.folder(env, 'kafka', SYNC_WAVES.components, { holdsData: true });
    this.folder(env, 'hdfs', SYNC_WAVES.components, { holdsData: true });
    this.folder(env, 'spark', SYNC_WAVES.components, { holdsData: false });
    this.folder(env, 'monitoring', SYNC_WAVES.components, { holdsData: false });
    this.folder(env, 'pipelines', SYNC_WAVES.pipelines, { holdsData: true });
  }

  /** An Application for one of this repository's rendered folders. */
  private folder(env: Environment, component: RenderedComponent, wave: number, options: { holdsData: boolean }): void {
    this.application(
      component,
      wave,
      NAMESPACES.argocd,
      { repoUrl: env.gitops.repoUrl, targetRevision: env.gitops.revision, path: renderedPath(env.name, component), directory: { recurse: true } },
      [],
      options.holdsData,
    );
  }

  private application(name: string, wave: number, namespace: string, source: ApplicationSpecSource, syncOptions: string[], holdsData: boolean): void {
    new Application(this, `application-${name}`, {
      metadata: {
        name,
        namespace: NAMESPACES.argocd,
        annotations: { ...syncWave(wave), ...(holdsData ? KEEP_DATA : {}) },
        // Deleting an Application cascades into its objects only where nothing of value can be lost.
        finalizers: holdsData ? undefined : ['resources-finalizer.argocd.argoproj.io'],
      },
      spec: {
        project: ARGO_PROJECT,
        source,
        destination: { server: IN_CLUSTER, namespace },
        syncPolicy: {
          // Drift is repaired, not just reported.
          automated: { prune: true, selfHeal: true },
          syncOptions: ['CreateNamespace=false', ...syncOptions],
          retry: { limit: 10, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } },
        },
      },
    });
  }
}

/**
 * The values as Argo CD takes them: `valuesObject`, unless a value is `null` (what deletes a chart's default key in
 * Helm's merge). cdk8s drops nulls when it renders, and an object's nulls can be lost on the way to the repo server
 * (argoproj/argo-cd#16312: an apply reads a null as "remove this field"), so such values go as `values`, the text of a
 * values file, which nothing on the way reads. Argo CD takes `valuesObject` instead of `values` when both are set, so
 * it is one or the other.
 */
export function helmValues(values: object): { valuesObject: object } | { values: string } {
  return hasNull(values) ? { values: stringify(values) } : { valuesObject: values };
}

/** The values an Application's Helm source gives the chart, whichever of the two fields holds them. */
export function applicationValues(helm: { readonly valuesObject?: unknown; readonly values?: string } | undefined): any {
  return helm?.valuesObject ?? (helm?.values === undefined ? {} : parse(helm.values));
}

function hasNull(value: unknown): boolean {
  return value === null || (typeof value === 'object' && Object.values(value).some(hasNull));
}

/** The operators of the platform, with values typed against their charts. */
function operatorsOf(env: Environment): Operator[] {
  const monitoring = monitoringPods(env);
  // Every operator and the monitoring stack on the stable NodePool: the managed node groups take only the system
  // workloads (their taint), and an operator or Prometheus must not go down with a reclaimed spot node.
  const stable = nodeSelectorFor('stable');
  const strimzi: StrimziValues = {
    watchNamespaces: [],
    nodeSelector: stable,
    resources: withoutChartCpuLimit(resources(kafkaPods(env).operator)),
    // Pods Strimzi creates then meet the `restricted` Pod Security Standard of the kafka namespace.
    extraEnvs: [{ name: 'STRIMZI_POD_SECURITY_PROVIDER_CLASS', value: 'restricted' }],
  };
  const sparkOperatorPod = sparkRuntimePods().operator;
  const sparkOperator: SparkOperatorValues = {
    // Service accounts and RBAC per pipeline come from the spark folder, bound to IAM roles by Pod Identity.
    spark: { jobNamespaces: [NAMESPACES.pipelines], serviceAccount: { create: false }, rbac: { create: false } },
    controller: { replicas: 1, resources: resources(sparkOperatorPod), nodeSelector: stable },
    webhook: { enable: true, replicas: 1, resources: resources(sparkOperatorPod), nodeSelector: stable },
    prometheus: { metrics: { enable: true, port: 8080 }, podMonitor: { create: false } },
  };
  const kubePrometheusStack: KubePrometheusStackValues = {
    crds: { enabled: true },
    prometheus: {
      prometheusSpec: {
        retention: `${env.monitoring.retentionDays}d`,
        resources: resources(monitoring.prometheus),
        nodeSelector: stable,
        // Pick up every monitor and rule in the cluster, not only those labelled for this Helm release.
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        storageSpec: {
          volumeClaimTemplate: {
            spec: { storageClassName: DATA_STORAGE_CLASS, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: gibibytes(monitoring.prometheus.storageGiB) } } },
          },
        },
      },
    },
    alertmanager: { config: alertmanagerConfig(env), alertmanagerSpec: { secrets: [ALERTMANAGER_SECRET.name], resources: resources(monitoring.alertmanager), nodeSelector: stable } },
    grafana: {
      admin: { existingSecret: GRAFANA_ADMIN_SECRET.name, userKey: GRAFANA_ADMIN_SECRET.userKey, passwordKey: GRAFANA_ADMIN_SECRET.passwordKey },
      sidecar: { dashboards: { enabled: true, label: Object.keys(DASHBOARD_LABEL)[0]!, labelValue: Object.values(DASHBOARD_LABEL)[0]!, searchNamespace: 'ALL' } },
      resources: resources(monitoring.grafana),
      nodeSelector: stable,
    },
    'kube-state-metrics': { nodeSelector: stable },
    // The operator and the Jobs that patch its admission webhook's certificate.
    prometheusOperator: { nodeSelector: stable, admissionWebhooks: { patch: { nodeSelector: stable } } },
    // node-exporter needs the host; it gets a privileged namespace of its own so that monitoring stays restricted.
    // It reports on every node, so it tolerates every taint: the system nodes' and the interruptible ones'.
    'prometheus-node-exporter': { namespaceOverride: NAMESPACES.nodeExporter, tolerations: [TOLERATE_EVERY_TAINT] },
    // EKS runs the control plane where no pod can scrape it (controller-manager, scheduler, etcd), and its kube-proxy
    // add-on serves metrics on 127.0.0.1 only: their monitors would be targets that are always down, and their rules
    // (KubeControllerManagerDown, KubeSchedulerDown, KubeProxyDown, etcd's) alerts that always fire.
    kubeControllerManager: { enabled: false },
    kubeScheduler: { enabled: false },
    kubeEtcd: { enabled: false },
    kubeProxy: { enabled: false },
  };
  const karpenter: KarpenterValues = {
    settings: { clusterName: clusterName(env.name), interruptionQueue: karpenterInterruptionQueueName(env.name) },
    serviceAccount: { create: true, name: PLATFORM_SERVICE_ACCOUNTS.karpenter.name },
    replicas: karpenterPods(env).controller.replicas,
    controller: { image: KARPENTER_IMAGE, resources: resources(karpenterPods(env).controller) },
    // The managed node groups carry CriticalAddonsOnly=true:NoSchedule and run only system workloads, Karpenter among
    // them: it must never run on a node it manages (the chart's affinity keeps it off nodes with a NodePool label).
    tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }],
    serviceMonitor: { enabled: false },
  };
  // The 26.7 charts leave `image.repository` unset (their release pipeline fills it in for the registry it publishes
  // to), and without it the operator's image reads `<nil>/…` and the chart does not render: name the registry here.
  // Its operators' Deployments take a top-level nodeSelector; the secret and listener charts say where below.
  const stackable = (name: string, chart: PinnedChart, values: object = { nodeSelector: stable }): Operator => ({
    name,
    chart,
    namespace: NAMESPACES.stackableOperators,
    values: { image: { repository: STACKABLE_IMAGE_REGISTRY }, ...values },
  });
  return [
    // Karpenter's CRDs first, before the platform folder that holds its NodePools and EC2NodeClass; the controller's
    // chart then leaves its own copy out, so that one Application owns them and an upgrade updates them.
    { name: 'karpenter-crd', chart: OPERATOR_CHARTS.karpenterCrd, namespace: NAMESPACES.karpenter, values: {}, wave: SYNC_WAVES.crds },
    { name: 'karpenter', chart: OPERATOR_CHARTS.karpenter, namespace: NAMESPACES.karpenter, values: karpenter, skipCrds: true },
    { name: 'strimzi', chart: OPERATOR_CHARTS.strimzi, namespace: NAMESPACES.kafka, values: strimzi },
    { name: 'spark-operator', chart: OPERATOR_CHARTS.sparkOperator, namespace: NAMESPACES.sparkOperator, values: sparkOperator },
    { name: 'kube-prometheus-stack', chart: OPERATOR_CHARTS.kubePrometheusStack, namespace: NAMESPACES.monitoring, values: kubePrometheusStack },
    {
      name: 'external-secrets',
      chart: OPERATOR_CHARTS.externalSecrets,
      namespace: NAMESPACES.externalSecrets,
      // The service account that the External Secrets role is bound to by Pod Identity.
      // global.nodeSelector: the controller, its webhook and its certificate controller.
      values: { installCRDs: true, global: { nodeSelector: stable }, serviceAccount: { create: true, name: PLATFORM_SERVICE_ACCOUNTS.externalSecrets.name } },
    },
    stackable('stackable-commons', OPERATOR_CHARTS.stackableCommons),
    // A controller Deployment and a CSI node driver DaemonSet each, the driver needed only where HDFS and ZooKeeper
    // mount their volumes: on the stable pool.
    stackable('stackable-secret', OPERATOR_CHARTS.stackableSecret, { controllerService: { nodeSelector: stable }, csiNodeDriver: { nodeSelector: stable } }),
    // No `preset`: it picks what the ListenerClasses the operator installs are made of, and HDFS and ZooKeeper use
    // only `cluster-internal`, a ClusterIP Service under every preset. The chart's default, `ephemeral-nodes`, also
    // fits EKS's replaceable nodes, where `stable-nodes` would pin `external-stable` pods to a node.
    stackable('stackable-listener', OPERATOR_CHARTS.stackableListener, { csiProvisioner: { nodeSelector: stable }, csiNodeDriver: { nodeSelector: stable } }),
    stackable('stackable-zookeeper', OPERATOR_CHARTS.stackableZookeeper),
    stackable('stackable-hdfs', OPERATOR_CHARTS.stackableHdfs),
  ];
}

/** The receiver with no configuration: what it receives goes nowhere (the chart's own name for it). */
const NULL_RECEIVER = 'null';
const DEAD_MANS_SWITCH_RECEIVER = 'dead-mans-switch';

/**
 * Alertmanager routes: one receiver per severity, credentials read from files of the mounted secret.
 * Helm replaces lists, so these `route.routes` and `receivers` replace the chart's, and with them its `null`
 * receiver and its Watchdog route, which are restated here. The chart's other keys under `alertmanager.config`
 * (`global`, `inhibit_rules`, `templates`, the route's timings) are map keys set nowhere here, which Helm keeps.
 */
function alertmanagerConfig(env: Environment): object {
  const secretFile = (key: string) => `/etc/alertmanager/secrets/${ALERTMANAGER_SECRET.name}/${key}`;
  const receiver = (severity: 'critical' | 'warning') => {
    const target = env.monitoring.alertReceivers[severity];
    return target.type === 'pagerduty'
      ? { name: severity, pagerduty_configs: [{ routing_key_file: secretFile(ALERTMANAGER_SECRET.pagerdutyKey), send_resolved: true }] }
      : { name: severity, slack_configs: [{ api_url_file: secretFile(ALERTMANAGER_SECRET.slackKey), channel: target.channel, send_resolved: true }] };
  };
  const watchdog = ['alertname="Watchdog"'];
  const deadMansSwitch = env.monitoring.deadMansSwitch !== undefined;
  return {
    route: {
      receiver: 'warning',
      group_by: ['alertname', 'namespace'],
      routes: [
        // Watchdog always fires, to prove that alerts get through: to a dead man's switch, which pages when the pings
        // stop, or else nowhere. The repeat is checked at each group interval against the last ping, so 50s under
        // a 1m interval pings every minute.
        deadMansSwitch
          ? { matchers: watchdog, receiver: DEAD_MANS_SWITCH_RECEIVER, group_wait: '0s', group_interval: '1m', repeat_interval: '50s' }
          : { matchers: watchdog, receiver: NULL_RECEIVER },
        // InfoInhibitor exists only to mute info alerts through the chart's inhibit rules; info alerts are for
        // dashboards, not for people.
        { matchers: ['alertname="InfoInhibitor"'], receiver: NULL_RECEIVER },
        { matchers: ['severity="info"'], receiver: NULL_RECEIVER },
        { matchers: ['severity="critical"'], receiver: 'critical' },
        { matchers: ['severity="warning"'], receiver: 'warning' },
      ],
    },
    receivers: [
      { name: NULL_RECEIVER },
      receiver('critical'),
      receiver('warning'),
      ...(deadMansSwitch
        ? [{ name: DEAD_MANS_SWITCH_RECEIVER, webhook_configs: [{ url_file: secretFile(ALERTMANAGER_SECRET.deadMansSwitchKey), send_resolved: false }] }]
        : []),
    ],
  };
}
