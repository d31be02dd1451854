import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import { NAMESPACES, PLATFORM_SERVICE_ACCOUNTS } from '../../environments/naming';
import { loadPipelines } from '../../pipelines/load';
import { fixtureEnvironments } from '../../scripts/fixtures/environments';
import { fixturePipelines } from '../../scripts/fixtures/pipelines';
import { findObject, ofKind, renderChart } from '../manifest-lookup';
import { hdfsPods, kafkaPods, totals } from '../sizing';
import { DATA_STORAGE_CLASS, PlatformChart } from './platform-chart';

// The team's environments with its pipelines, and the fixture environments with the fixture pipelines.
const cases = [
  { environments: await loadEnvironments(), pipelines: await loadPipelines() },
  { environments: fixtureEnvironments(), pipelines: await fixturePipelines() },
].flatMap(({ environments, pipelines }) => environments.map((env) => ({ env, pipelines })));

describe.each(cases)('the $env.name platform chart', ({ env, pipelines }) => {
  const objects = renderChart(PlatformChart, env, pipelines);
  const namespaces = ofKind(objects, 'Namespace');

  it('creates every platform namespace', () => {
    expect(namespaces.map((ns) => ns.metadata.name).sort()).toEqual(
      Object.values(NAMESPACES).filter((n) => n !== NAMESPACES.argocd).sort(),
    );
  });

  it('enforces restricted Pod Security everywhere except where a reason is given, and audits and warns on restricted everywhere', () => {
    for (const ns of namespaces) {
      const labels = ns.metadata.labels!;
      expect(labels['pod-security.kubernetes.io/audit']).toBe('restricted');
      expect(labels['pod-security.kubernetes.io/warn']).toBe('restricted');
      if (labels['pod-security.kubernetes.io/enforce'] !== 'restricted') {
        expect(ns.metadata.annotations?.['driftless.io/pod-security-reason']?.length ?? 0, ns.metadata.name).toBeGreaterThan(40);
      }
    }
    const relaxed = namespaces.filter((ns) => ns.metadata.labels!['pod-security.kubernetes.io/enforce'] !== 'restricted').map((ns) => ns.metadata.name);
    expect(relaxed.sort()).toEqual([NAMESPACES.hdfs, NAMESPACES.nodeExporter, NAMESPACES.stackableOperators].sort());
  });

  it('closes every namespace with a NetworkPolicy that denies all ingress and egress', () => {
    for (const ns of namespaces) {
      expect(findObject(objects, 'NetworkPolicy', 'default-deny', ns.metadata.name).spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    }
  });

  it('lets every namespace resolve DNS through kube-dns only', () => {
    for (const ns of namespaces) {
      const allow = findObject(objects, 'NetworkPolicy', 'allow-required-traffic', ns.metadata.name);
      expect(allow.spec.egress[0]).toEqual({
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
        ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
      });
    }
  });

  it('lets pipelines reach the Kafka TLS listener and HDFS, and nothing else in those namespaces', () => {
    const fromPipelines = (namespace: string) =>
      findObject(objects, 'NetworkPolicy', 'allow-required-traffic', namespace).spec.ingress.filter(
        (rule: any) => rule.from[0].namespaceSelector?.matchLabels['kubernetes.io/metadata.name'] === NAMESPACES.pipelines,
      );
    expect(fromPipelines(NAMESPACES.kafka)).toEqual([expect.objectContaining({ ports: [{ protocol: 'TCP', port: 9093 }] })]);
    expect(fromPipelines(NAMESPACES.hdfs)[0].ports.map((p: any) => p.port)).toEqual([8020, 9866, 9867]);
  });

  it('lets Spark drivers and executors talk to each other inside the pipelines namespace', () => {
    const allow = findObject(objects, 'NetworkPolicy', 'allow-required-traffic', NAMESPACES.pipelines);
    const sameNamespace = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': NAMESPACES.pipelines } } };
    expect(allow.spec.ingress).toContainEqual({ from: [sameNamespace] });
    expect(allow.spec.egress).toContainEqual({ to: [sameNamespace] });
  });

  it("lets the API server, whose endpoints are in the VPC, reach the Stackable operators' webhooks on 8443", () => {
    const ingress = findObject(objects, 'NetworkPolicy', 'allow-required-traffic', NAMESPACES.stackableOperators).spec.ingress;
    expect(ingress).toContainEqual({ from: [{ ipBlock: { cidr: env.network.vpcCidr } }], ports: [{ protocol: 'TCP', port: 8443 }] });
  });

  it('lets Karpenter reach only the API server, DNS, AWS APIs on 443 and the Pod Identity agent, and only Prometheus reach it', () => {
    const allow = findObject(objects, 'NetworkPolicy', 'allow-required-traffic', NAMESPACES.karpenter);
    expect(allow.spec.egress.slice(1)).toEqual([
      { to: [{ ipBlock: { cidr: env.network.vpcCidr } }], ports: [{ protocol: 'TCP', port: 443 }] },
      { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ protocol: 'TCP', port: 443 }] },
      { to: [{ ipBlock: { cidr: '169.254.170.23/32' } }], ports: [{ protocol: 'TCP', port: 80 }] },
    ]);
    expect(allow.spec.ingress).toEqual([
      { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': NAMESPACES.monitoring } } }], ports: [{ protocol: 'TCP', port: 8080 }] },
    ]);
    const monitoring = findObject(objects, 'NetworkPolicy', 'allow-required-traffic', NAMESPACES.monitoring).spec.egress;
    expect(monitoring).toContainEqual({ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': NAMESPACES.karpenter } } }], ports: [{ protocol: 'TCP', port: 8080 }] });
    expect(findObject(objects, 'ResourceQuota', 'platform-sizing', NAMESPACES.karpenter).spec.hard['limits.memory']).toMatch(/Gi$/);
  });

  it('lets every namespace whose pods have an IAM role reach the Pod Identity agent for their credentials, and no other', () => {
    // Pods with a role: the platform's service accounts outside kube-system (the EKS add-ons' namespace) and every pipeline.
    const withRoles = new Set<string>([...Object.values(PLATFORM_SERVICE_ACCOUNTS).map((a): string => a.namespace).filter((n) => n !== 'kube-system'), NAMESPACES.pipelines]);
    for (const policy of ofKind(objects, 'NetworkPolicy').filter((p) => p.metadata.name === 'allow-required-traffic')) {
      const reaches = (policy.spec.egress ?? []).some((rule: any) => rule.to?.[0]?.ipBlock?.cidr === '169.254.170.23/32' && rule.ports?.some((p: any) => p.port === 80));
      expect([policy.metadata.namespace, reaches]).toEqual([policy.metadata.namespace, withRoles.has(policy.metadata.namespace!)]);
    }
  });

  it('lets Prometheus scrape the metrics ports', () => {
    const egress = findObject(objects, 'NetworkPolicy', 'allow-required-traffic', NAMESPACES.monitoring).spec.egress;
    const to = (namespace: string) => egress.find((r: any) => r.to[0].namespaceSelector?.matchLabels['kubernetes.io/metadata.name'] === namespace)?.ports.map((p: any) => p.port);
    expect(to(NAMESPACES.kafka)).toEqual([9404, 8080]);
    expect(to(NAMESPACES.hdfs)).toEqual([9870, 9864, 8480, 7000]);
    expect(to(NAMESPACES.pipelines)).toEqual([4040]);
  });

  it('bounds the Kafka and HDFS namespaces by quotas summed from the environment sizing', () => {
    const kafka = totals(Object.values(kafkaPods(env)));
    expect(findObject(objects, 'ResourceQuota', 'platform-sizing', NAMESPACES.kafka).spec.hard['requests.storage']).toBe(`${kafka.storageGiB}Gi`);
    expect(kafka.storageGiB).toBeGreaterThanOrEqual(env.kafka.brokers * env.kafka.brokerStorageGiB);
    const hdfs = totals(Object.values(hdfsPods(env)));
    expect(findObject(objects, 'ResourceQuota', 'platform-sizing', NAMESPACES.hdfs).spec.hard['requests.memory']).toBe(`${hdfs.memoryGiB}Gi`);
    expect(hdfs.storageGiB).toBeGreaterThanOrEqual(env.hdfs.datanodes * env.hdfs.datanodeStorageGiB);
  });

  it('gives every namespace container defaults with a memory limit', () => {
    for (const ns of namespaces) {
      const [limits] = findObject(objects, 'LimitRange', 'container-defaults', ns.metadata.name).spec.limits;
      expect(limits.default.memory).toBeDefined();
      expect(limits.defaultRequest).toEqual({ cpu: '100m', memory: '128Mi' });
    }
  });

  it('offers an encrypted gp3 StorageClass that retains volumes', () => {
    expect(findObject(objects, 'StorageClass', DATA_STORAGE_CLASS)).toMatchObject({
      provisioner: 'ebs.csi.aws.com',
      parameters: { type: 'gp3', encrypted: 'true' },
      reclaimPolicy: 'Retain',
    });
  });
});
