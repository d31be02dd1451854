import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../policy/rule';
import { podTemplates, sparkPods } from './pod-security';
import { PolicyModel, selects, webhookFlows, type Flow } from './traffic';
import { acceptedFindings } from './upstream-policy';

const namespace = (name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
const policy = (ns: string, name: string, spec: object): KubeObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec });
const webhookPod = { pods: { namespace: 'ops', labels: { app: 'op' }, namedPorts: { webhook: 9443 } } };
const fromVpc = (cidr: string, port: number): Flow => ({ what: 'test', from: { cidr }, to: webhookPod, port });

describe('selects', () => {
  it('follows matchLabels and every operator of matchExpressions', () => {
    const labels = { app: 'op', tier: 'control' };
    expect(selects(undefined, labels)).toBe(true);
    expect(selects({}, labels)).toBe(true);
    expect(selects({ matchLabels: { app: 'op' } }, labels)).toBe(true);
    expect(selects({ matchLabels: { app: 'other' } }, labels)).toBe(false);
    expect(selects({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['control'] }] }, labels)).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['control'] }] }, labels)).toBe(false);
    expect(selects({ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, labels)).toBe(false);
    expect(selects({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, labels)).toBe(true);
  });
});

describe('PolicyModel', () => {
  const denyAll = policy('ops', 'default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  const allowWebhook = policy('ops', 'allow', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/16' } }], ports: [{ protocol: 'TCP', port: 'webhook' }] }] });

  it('lets in what no policy selects, and nothing once a policy selects the pod', () => {
    expect(new PolicyModel([]).refusal(fromVpc('10.0.0.0/16', 9443))).toBeUndefined();
    expect(new PolicyModel([denyAll]).refusal(fromVpc('10.0.0.0/16', 9443))).toMatch(/no ingress rule of NetworkPolicy ops\/default-deny lets it in/);
  });

  it('admits an address range only on the listed ports, named ports resolved on the pod, and only ranges it covers', () => {
    const model = new PolicyModel([denyAll, allowWebhook]);
    expect(model.refusal(fromVpc('10.0.0.0/16', 9443))).toBeUndefined();
    expect(model.refusal(fromVpc('10.0.3.0/24', 9443))).toBeUndefined();
    expect(model.refusal(fromVpc('10.0.0.0/16', 443))).toBeDefined();
    expect(model.refusal(fromVpc('10.0.0.0/8', 9443))).toBeDefined();
    const except = policy('ops', 'allow', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.3.0/24'] } }] }] });
    expect(new PolicyModel([denyAll, except]).refusal(fromVpc('10.0.0.0/16', 9443))).toBeDefined();
  });

  it('matches pods by namespace labels (the automatic name label too) and pod labels, on egress and ingress both', () => {
    const egress = policy('monitoring', 'allow', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ops' } }, podSelector: { matchLabels: { app: 'op' } } }], ports: [{ port: 9443 }] }] });
    const model = new PolicyModel([namespace('ops'), namespace('monitoring'), denyAll, egress]);
    const scrape: Flow = { what: 'scrape', from: { pods: { namespace: 'monitoring', labels: {} } }, to: webhookPod, port: 9443 };
    // Egress is allowed; ingress into ops is not.
    expect(model.refusal(scrape)).toMatch(/ingress rule of NetworkPolicy ops\/default-deny/);
    const ingress = policy('ops', 'from-monitoring', { podSelector: { matchLabels: { app: 'op' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }] }] });
    expect(new PolicyModel([namespace('ops'), namespace('monitoring'), denyAll, egress, ingress]).refusal(scrape)).toBeUndefined();
    expect(new PolicyModel([namespace('ops'), namespace('monitoring'), denyAll, egress, ingress]).refusal({ ...scrape, port: 8080 })).toMatch(/egress/);
  });
});

describe('webhookFlows', () => {
  const objects: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'op-webhook', namespace: 'ops' }, spec: { selector: { app: 'op' }, ports: [{ name: 'https', port: 443, targetPort: 'webhook' }] } },
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'op', namespace: 'ops' }, spec: { template: { metadata: { labels: { app: 'op' } }, spec: { containers: [{ name: 'op', ports: [{ name: 'webhook', containerPort: 9443 }] }] } } } },
    { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'op' }, webhooks: [{ name: 'validate.op', clientConfig: { service: { namespace: 'ops', name: 'op-webhook' } } }] },
  ];

  it('follows the configuration to the Service (port 443 when unset) and its named target port to the container', () => {
    const flows = webhookFlows([{ namespace: 'ops', objects }], '10.0.0.0/16');
    expect(flows).toEqual([expect.objectContaining({ from: { cidr: '10.0.0.0/16' }, port: 9443, to: { pods: expect.objectContaining({ namespace: 'ops', labels: { app: 'op' } }) } })]);
  });

  it('names a webhook whose Service no chart renders', () => {
    expect(webhookFlows([{ namespace: 'ops', objects: objects.slice(2) }], '10.0.0.0/16')).toEqual([{ error: expect.stringMatching(/calls Service ops\/op-webhook, which no chart renders/) }]);
  });
});

describe('pod templates', () => {
  it('are found in every workload kind, in the release namespace when the object has none', () => {
    const spec = { containers: [{ name: 'c', image: 'i:1' }] };
    const templates = podTemplates([
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec },
      { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'c', namespace: 'jobs' }, spec: { jobTemplate: { spec: { template: { spec } } } } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } },
    ], 'ops');
    expect(templates.map((t) => t.where)).toEqual(['ops/Pod/p', 'jobs/CronJob/c (spec.jobTemplate.spec.template)']);
  });

  it('of Spark applications carry the role security contexts and the mounted volumes', () => {
    const [driver, executor] = sparkPods([
      {
        apiVersion: 'sparkoperator.k8s.io/v1beta2',
        kind: 'SparkApplication',
        metadata: { name: 'job', namespace: 'pipelines' },
        spec: {
          image: 'spark:4',
          volumes: [{ name: 'tmp', emptyDir: {} }, { name: 'host', hostPath: { path: '/' } }],
          driver: { podSecurityContext: { runAsNonRoot: true }, securityContext: { privileged: false }, volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }] },
          executor: { volumeMounts: [{ name: 'host', mountPath: '/host' }] },
        },
      },
    ]);
    expect(driver!.spec).toEqual({ securityContext: { runAsNonRoot: true }, containers: [{ name: 'spark-kubernetes-driver', image: 'spark:4', securityContext: { privileged: false } }], volumes: [{ name: 'tmp', emptyDir: {} }] });
    expect(executor!.spec['volumes']).toEqual([{ name: 'host', hostPath: { path: '/' } }]);
  });
});

describe('accepted findings', () => {
  it('the shipped list is well formed', () => {
    expect(acceptedFindings().length).toBeGreaterThan(0);
  });

  it('a bad entry is a one-line error naming the entry and the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driftless-accepted-'));
    try {
      const file = join(dir, 'findings.yaml');
      writeFileSync(file, '- chart: x\n  rule: DL-NOPE-001\n  objects: [Pod/x]\n  reason: a reason that is long enough\n');
      expect(() => acceptedFindings(file)).toThrow(`${file} entry 1: 'rule' "DL-NOPE-001" must be a rule of the policy gate`);
      writeFileSync(file, '- chart: x\n  rule: DL-K8S-001\n  objects: [Pod/x]\n  reason: short\n');
      expect(() => acceptedFindings(file)).toThrow(/entry 1: 'reason' must say why/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
