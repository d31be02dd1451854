/**
 * The traffic the platform needs, found in the rendered charts, judged against NetworkPolicies with the semantics of
 * the Kubernetes API (what the VPC CNI enforces): the API server calling every webhook, Prometheus reaching every port
 * it scrapes, and every operator reaching the API server and DNS.
 */
import { cidrsOverlap, parseIpv4Cidr, type Ipv4Cidr } from '../../environments/cidr';
import type { KubeObject } from '../policy/rule';
import { podTemplates } from './pod-security';

type Labels = Readonly<Record<string, string>>;

/** Pods by their labels in a namespace, or addresses outside the cluster's pod network. */
export type Endpoint =
  | { readonly pods: { readonly namespace: string; readonly labels: Labels; readonly namedPorts?: Readonly<Record<string, number>> } }
  | { readonly cidr: string };

/** A flow the platform needs: from a source to a destination on a TCP port, and why. */
export interface Flow {
  readonly what: string;
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly port: number;
  readonly protocol?: 'TCP' | 'UDP';
}

interface LabelSelector {
  readonly matchLabels?: Labels;
  readonly matchExpressions?: ReadonlyArray<{ readonly key: string; readonly operator: string; readonly values?: readonly string[] }>;
}

/** Whether `labels` satisfy `selector` (an empty selector selects everything). */
export function selects(selector: LabelSelector | undefined, labels: Labels): boolean {
  if (selector === undefined) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = key in labels;
    if (operator === 'In' && !(has && values.includes(labels[key]!))) return false;
    if (operator === 'NotIn' && has && values.includes(labels[key]!)) return false;
    if (operator === 'Exists' && !has) return false;
    if (operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** Whether every address of `inner` is in `outer` and none is in `except`. */
function cidrCovers(outer: string, inner: string, except: readonly string[] = []): boolean {
  const [a, b] = [cidr(outer), cidr(inner)];
  return a.prefixLength <= b.prefixLength && cidrsOverlap(a, b) && except.every((excluded) => !cidrsOverlap(cidr(excluded), b));
}

function cidr(text: string): Ipv4Cidr {
  const parsed = parseIpv4Cidr(text);
  if ('error' in parsed) throw new Error(`'${text}' ${parsed.error}`);
  return parsed;
}

/** NetworkPolicies and namespaces of a cluster, and the verdict of the API's semantics on a flow. */
export class PolicyModel {
  private readonly policies: KubeObject[];
  private readonly namespaceLabels = new Map<string, Labels>();

  constructor(objects: readonly KubeObject[]) {
    this.policies = objects.filter((object) => object.kind === 'NetworkPolicy');
    for (const object of objects) {
      if (object.kind === 'Namespace') this.namespaceLabels.set(object.metadata.name, (object.metadata.labels ?? {}) as Labels);
    }
  }

  /** Why the flow is refused, or undefined when both the source's egress and the destination's ingress allow it. */
  refusal(flow: Flow): string | undefined {
    if ('pods' in flow.from) {
      const egress = this.selecting(flow.from.pods.namespace, flow.from.pods.labels, 'Egress');
      if (egress.length > 0 && !egress.some((policy) => (policy['spec'].egress ?? []).some((rule: any) => this.ruleAllows(rule, 'to', policy, flow.to, flow)))) {
        return `no egress rule of ${egress.map(name).join(', ')} lets it out`;
      }
    }
    if ('pods' in flow.to) {
      const ingress = this.selecting(flow.to.pods.namespace, flow.to.pods.labels, 'Ingress');
      if (ingress.length > 0 && !ingress.some((policy) => (policy['spec'].ingress ?? []).some((rule: any) => this.ruleAllows(rule, 'from', policy, flow.from, flow)))) {
        return `no ingress rule of ${ingress.map(name).join(', ')} lets it in`;
      }
    }
    return undefined;
  }

  /** The policies of `namespace` that select pods with `labels` for the given direction. */
  selecting(namespace: string, labels: Labels, direction: 'Ingress' | 'Egress'): KubeObject[] {
    return this.policies.filter((policy) => {
      if (policy.metadata.namespace !== namespace || !selects(policy['spec'].podSelector, labels)) return false;
      const types: string[] = policy['spec'].policyTypes ?? (policy['spec'].egress === undefined ? ['Ingress'] : ['Ingress', 'Egress']);
      return types.includes(direction);
    });
  }

  /** The ingress (or egress) rules of the policies of `namespace`, with the policy they belong to. */
  rules(namespace: string, direction: 'ingress' | 'egress'): Array<{ policy: KubeObject; rule: any }> {
    return this.policies.filter((p) => p.metadata.namespace === namespace).flatMap((policy) => (policy['spec'][direction] ?? []).map((rule: any) => ({ policy, rule })));
  }

  private ruleAllows(rule: any, peersKey: 'from' | 'to', policy: KubeObject, peer: Endpoint, flow: Flow): boolean {
    const ports: any[] = rule.ports ?? [];
    const destination = flow.to;
    const portAllowed =
      ports.length === 0 ||
      ports.some((entry) => {
        if ((entry.protocol ?? 'TCP') !== (flow.protocol ?? 'TCP')) return false;
        if (entry.port === undefined) return true;
        const number = typeof entry.port === 'number' ? entry.port : 'pods' in destination ? destination.pods.namedPorts?.[entry.port] : undefined;
        if (number === undefined) return false;
        return entry.endPort === undefined ? number === flow.port : flow.port >= number && flow.port <= entry.endPort;
      });
    if (!portAllowed) return false;
    const peers: any[] = rule[peersKey] ?? [];
    return peers.length === 0 || peers.some((p) => this.peerMatches(p, policy.metadata.namespace as string, peer));
  }

  private peerMatches(peer: any, policyNamespace: string, endpoint: Endpoint): boolean {
    if (peer.ipBlock !== undefined) return 'cidr' in endpoint && cidrCovers(peer.ipBlock.cidr, endpoint.cidr, peer.ipBlock.except);
    // Pod addresses are not known before they run: a pod matches selectors only, never an address range.
    if (!('pods' in endpoint)) return false;
    const { namespace, labels } = endpoint.pods;
    if (peer.namespaceSelector === undefined) return namespace === policyNamespace && selects(peer.podSelector, labels);
    const namespaceLabels = { ...(this.namespaceLabels.get(namespace) ?? {}), 'kubernetes.io/metadata.name': namespace };
    return selects(peer.namespaceSelector, namespaceLabels) && selects(peer.podSelector, labels);
  }
}

function name(policy: KubeObject): string {
  return `NetworkPolicy ${policy.metadata.namespace}/${policy.metadata.name}`;
}

/** A chart's objects with the namespace Helm leaves out filled in (Argo CD applies them in the release namespace). */
export interface ChartObjects {
  readonly namespace: string;
  readonly objects: readonly KubeObject[];
}

export interface PodsWithPorts {
  readonly namespace: string;
  readonly labels: Labels;
  readonly namedPorts: Readonly<Record<string, number>>;
  readonly ports: readonly number[];
  readonly where: string;
  /** Pods on the node's network are reached at the node's address, and no NetworkPolicy applies to them. */
  readonly hostNetwork: boolean;
}

/**
 * The pods prometheus-operator (v0.93) makes from the Prometheus and Alertmanager resources of the charts: its labels
 * and the named ports of the server and of the config-reloader sidecar it adds.
 */
export function prometheusOperatorPods(charts: readonly ChartObjects[]): PodsWithPorts[] {
  return charts.flatMap((chart) =>
    chart.objects.flatMap((object): PodsWithPorts[] => {
      const namespace = namespaced(object, chart.namespace);
      const name = object.metadata.name;
      if (object.kind === 'Prometheus' && object.apiVersion === 'monitoring.coreos.com/v1') {
        const labels = { 'app.kubernetes.io/name': 'prometheus', 'operator.prometheus.io/name': name, prometheus: name };
        return [{ namespace, labels, namedPorts: { web: 9090, 'reloader-web': 8080 }, ports: [9090, 8080], where: `${namespace}/Prometheus/${name} (its pods)`, hostNetwork: false }];
      }
      if (object.kind === 'Alertmanager' && object.apiVersion === 'monitoring.coreos.com/v1') {
        const labels = { 'app.kubernetes.io/name': 'alertmanager', alertmanager: name };
        return [{ namespace, labels, namedPorts: { web: 9093, 'reloader-web': 8080 }, ports: [9093, 8080], where: `${namespace}/Alertmanager/${name} (its pods)`, hostNetwork: false }];
      }
      return [];
    }),
  );
}

function podsOf(charts: readonly ChartObjects[]): PodsWithPorts[] {
  return [...templatePods(charts), ...prometheusOperatorPods(charts)];
}

function templatePods(charts: readonly ChartObjects[]): PodsWithPorts[] {
  return charts.flatMap((chart) =>
    podTemplates(chart.objects, chart.namespace).map((template) => {
      const containers: any[] = [...((template.spec['containers'] as any[]) ?? []), ...((template.spec['initContainers'] as any[]) ?? [])];
      const declared = containers.flatMap((c) => c.ports ?? []);
      return {
        namespace: template.namespace,
        labels: ((template.metadata['labels'] as Labels | undefined) ?? {}),
        namedPorts: Object.fromEntries(declared.filter((p: any) => p.name !== undefined).map((p: any) => [p.name, p.containerPort])),
        ports: declared.map((p: any) => p.containerPort),
        where: template.where,
        hostNetwork: template.spec['hostNetwork'] === true,
      };
    }),
  );
}

const namespaced = (object: KubeObject, fallback: string): string => (object.metadata.namespace as string | undefined) ?? fallback;

/** A Service's port as its pods receive it: each selected pod and the number the target port names there. */
function serviceTargets(service: KubeObject, namespace: string, port: number | string, pods: readonly PodsWithPorts[], nodes: string): Array<{ pods: Endpoint; port: number } | { error: string }> {
  const entry = (service['spec'].ports ?? []).find((p: any) => p.port === port || p.name === port);
  if (entry === undefined) return [{ error: `Service ${namespace}/${service.metadata.name} has no port ${port}` }];
  const target = entry.targetPort ?? entry.port;
  const selected = pods.filter((pod) => pod.namespace === namespace && service['spec'].selector !== undefined && selects({ matchLabels: service['spec'].selector }, pod.labels));
  if (selected.length === 0) {
    // Pods made by an add-on or an operator at run time: they carry at least the selector's labels.
    if (typeof target !== 'number') return [{ error: `Service ${namespace}/${service.metadata.name} port ${port} targets '${target}' on pods that no rendered object makes` }];
    return [{ pods: { pods: { namespace, labels: service['spec'].selector ?? {} } }, port: target }];
  }
  return selected.map((pod) => {
    const number = typeof target === 'number' ? target : pod.namedPorts[target];
    if (number === undefined) return { error: `${pod.where} has no container port named '${target}' (Service ${namespace}/${service.metadata.name})` };
    return { pods: pod.hostNetwork ? { cidr: nodes } : { pods: pod }, port: number };
  });
}

/**
 * Every webhook the API server calls, from the charts: webhook configurations and CRD conversions that name a
 * Service, and Services with a port named `conversion-webhook` (the Stackable operators register CRD conversion
 * against it when they start, so no rendered object names it).
 */
export function webhookFlows(charts: readonly ChartObjects[], apiServer: string): Array<Flow | { error: string }> {
  const pods = podsOf(charts);
  const services = charts.flatMap((chart) => chart.objects.filter((o) => o.kind === 'Service').map((service) => ({ service, namespace: namespaced(service, chart.namespace) })));
  const references: Array<{ what: string; namespace: string; name: string; port: number | string }> = [];
  for (const chart of charts) {
    for (const object of chart.objects) {
      if (object.kind === 'ValidatingWebhookConfiguration' || object.kind === 'MutatingWebhookConfiguration') {
        for (const webhook of (object['webhooks'] as any[]) ?? []) {
          const ref = webhook.clientConfig?.service;
          if (ref !== undefined) references.push({ what: `${object.kind} ${object.metadata.name} (${webhook.name})`, namespace: ref.namespace, name: ref.name, port: ref.port ?? 443 });
        }
      }
      const conversion = object.kind === 'CustomResourceDefinition' ? object['spec'].conversion : undefined;
      const ref = conversion?.strategy === 'Webhook' ? conversion.webhook?.clientConfig?.service : undefined;
      if (ref !== undefined) references.push({ what: `conversion of CRD ${object.metadata.name}`, namespace: ref.namespace, name: ref.name, port: ref.port ?? 443 });
    }
  }
  for (const { service, namespace } of services) {
    for (const port of service['spec'].ports ?? []) {
      if (port.name === 'conversion-webhook') references.push({ what: `CRD conversion served by Service ${namespace}/${service.metadata.name}`, namespace, name: service.metadata.name, port: port.port });
    }
  }
  return references.flatMap((ref) => {
    const found = services.find((s) => s.namespace === ref.namespace && s.service.metadata.name === ref.name);
    if (found === undefined) return [{ error: `${ref.what} calls Service ${ref.namespace}/${ref.name}, which no chart renders` }];
    return serviceTargets(found.service, ref.namespace, ref.port, pods, apiServer).map((target) =>
      'error' in target ? target : { what: `the API server calls ${ref.what} on port ${target.port}`, from: { cidr: apiServer }, to: target.pods, port: target.port },
    );
  });
}

/** Scrape targets outside the charts: the API server (`default/kubernetes`) and the kubelets, both on VPC addresses. */
const OUTSIDE_TARGETS: ReadonlyArray<{ readonly selector: Labels; readonly port: number; readonly what: string }> = [
  { selector: { component: 'apiserver', provider: 'kubernetes' }, port: 443, what: 'the API server' },
  { selector: { 'k8s-app': 'kubelet' }, port: 10250, what: 'the kubelets' },
];

/**
 * Every port Prometheus scrapes through the charts' ServiceMonitors and PodMonitors, from the Prometheus pods of the
 * given namespace and name.
 */
export function scrapeFlows(charts: readonly ChartObjects[], prometheus: Endpoint, vpc: string): Array<Flow | { error: string }> {
  const pods = podsOf(charts);
  const services = charts.flatMap((chart) => chart.objects.filter((o) => o.kind === 'Service').map((service) => ({ service, namespace: namespaced(service, chart.namespace) })));
  return charts.flatMap((chart) =>
    chart.objects.flatMap((monitor): Array<Flow | { error: string }> => {
      if (monitor.kind !== 'ServiceMonitor' && monitor.kind !== 'PodMonitor') return [];
      const own = namespaced(monitor, chart.namespace);
      const names: string[] | undefined = monitor['spec'].namespaceSelector?.any ? undefined : monitor['spec'].namespaceSelector?.matchNames ?? [own];
      const inScope = (namespace: string) => names === undefined || names.includes(namespace);
      const what = `${monitor.kind} ${own}/${monitor.metadata.name}`;
      if (monitor.kind === 'PodMonitor') {
        const selected = pods.filter((pod) => inScope(pod.namespace) && selects(monitor['spec'].selector, pod.labels));
        if (selected.length === 0) return [{ error: `${what} selects no pod of the charts` }];
        return (monitor['spec'].podMetricsEndpoints ?? []).flatMap((endpoint: any) =>
          selected.map((pod) => {
            const port = typeof endpoint.port === 'string' ? pod.namedPorts[endpoint.port] : endpoint.portNumber ?? endpoint.targetPort;
            if (port === undefined) return { error: `${what}: ${pod.where} has no port '${endpoint.port}'` };
            return { what: `Prometheus scrapes ${pod.where} for ${what}`, from: prometheus, to: pod.hostNetwork ? { cidr: vpc } : { pods: pod }, port };
          }),
        );
      }
      const selected = services.filter((s) => inScope(s.namespace) && selects(monitor['spec'].selector, (s.service.metadata.labels ?? {}) as Labels));
      if (selected.length === 0) {
        const outside = OUTSIDE_TARGETS.find((target) => selects({ matchLabels: target.selector }, monitor['spec'].selector?.matchLabels ?? {}));
        if (outside === undefined) return [{ error: `${what} selects no Service of the charts and no known target outside them` }];
        return [{ what: `Prometheus scrapes ${outside.what} for ${what}`, from: prometheus, to: { cidr: vpc }, port: outside.port }];
      }
      return (monitor['spec'].endpoints ?? []).flatMap((endpoint: any) =>
        selected.flatMap(({ service, namespace }) =>
          serviceTargets(service, namespace, endpoint.port ?? endpoint.targetPort, pods, vpc).map((target) =>
            'error' in target ? { error: `${what}: ${target.error}` } : { what: `Prometheus scrapes Service ${namespace}/${service.metadata.name} port ${target.port} for ${what}`, from: prometheus, to: target.pods, port: target.port },
          ),
        ),
      );
    }),
  );
}

/** What every pod of the charts needs to reach: the API server, and DNS. */
export function operatorEgressFlows(charts: readonly ChartObjects[], apiServer: string): Flow[] {
  const dns: Endpoint = { pods: { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } } };
  return templatePods(charts).filter((pod) => !pod.hostNetwork).flatMap((pod) => [
    { what: `${pod.where} calls the API server`, from: { pods: pod }, to: { cidr: apiServer }, port: 443 },
    { what: `${pod.where} resolves names`, from: { pods: pod }, to: dns, port: 53, protocol: 'UDP' as const },
  ]);
}
