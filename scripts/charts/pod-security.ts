/**
 * Pod Security by the real implementation: every pod template is evaluated by the toolchain's Pod Security evaluator
 * (Kubernetes' own admission library, scripts/toolchain/go/pod-security) against the enforce level of the namespace
 * it lands in, as the API server would admit the pods made from it.
 */
import { tmpdir } from 'node:os';
import { podTemplate, sparkSpec } from '../policy/containers';
import { runCommand } from '../run-command';
import type { KubeObject } from '../policy/rule';

/** The enforce level and version of a namespace (its `pod-security.kubernetes.io/enforce*` labels). */
export interface EnforcedLevel {
  readonly level: string;
  readonly version: string;
}

/** A pod template found in an object, and where. */
export interface PodTemplate {
  /** `<namespace>/<Kind>/<name>` of the object that holds the template, and the path to it. */
  readonly where: string;
  readonly namespace: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly spec: Readonly<Record<string, unknown>>;
}

/** A template the namespace's level rejects. */
export interface Rejection {
  readonly where: string;
  readonly namespace: string;
  readonly level: string;
  readonly forbidden: ReadonlyArray<{ readonly reason: string; readonly detail: string }>;
}

/** The levels the Namespace objects among `objects` enforce, by namespace name. */
export function enforcedLevels(objects: readonly KubeObject[]): Map<string, EnforcedLevel> {
  const levels = new Map<string, EnforcedLevel>();
  for (const object of objects) {
    if (object.kind !== 'Namespace') continue;
    const labels = (object.metadata.labels ?? {}) as Record<string, string>;
    // The API server's defaults for a namespace without the labels: privileged, at the latest version.
    levels.set(object.metadata.name, {
      level: labels['pod-security.kubernetes.io/enforce'] ?? 'privileged',
      version: labels['pod-security.kubernetes.io/enforce-version'] ?? 'latest',
    });
  }
  return levels;
}

/** The pod templates of workload kinds among `objects`; objects without a namespace land in `namespace`. */
export function podTemplates(objects: readonly KubeObject[], namespace?: string): PodTemplate[] {
  return objects.flatMap((object) => {
    const template = podTemplate(object);
    if (template === undefined) return [];
    const landsIn = (object.metadata.namespace as string | undefined) ?? namespace;
    if (landsIn === undefined) throw new Error(`${object.kind}/${object.metadata.name} has no namespace and none is given`);
    const at = template.path.length === 0 ? '' : ` (${template.path.join('.')})`;
    if (template.spec === undefined) throw new Error(`${landsIn}/${object.kind}/${object.metadata.name} has no pod template at ${template.path.join('.') || 'spec'}`);
    return [{ where: `${landsIn}/${object.kind}/${object.metadata.name}${at}`, namespace: landsIn, metadata: template.metadata ?? {}, spec: template.spec }];
  });
}

/**
 * The driver and executor pods spark-operator (2.5) makes for each SparkApplication and ScheduledSparkApplication,
 * with the fields the Pod Security checks read, as its webhook sets them: the role's `podSecurityContext` on the pod,
 * its `securityContext` on the Spark container, its sidecars and init containers, the application's volumes and
 * `hostNetwork`. Spark adds only an emptyDir and a ConfigMap volume of its own, which every level allows.
 */
export function sparkPods(objects: readonly KubeObject[]): PodTemplate[] {
  return objects.flatMap((object) => {
    const spec = sparkSpec(object);
    if (spec === undefined) return [];
    const namespace = object.metadata.namespace as string;
    return (['driver', 'executor'] as const).map((role) => {
      const r = spec[role] ?? {};
      const mounted = new Set([...(r.volumeMounts ?? []), ...(r.sidecars ?? []).flatMap((c: any) => c.volumeMounts ?? [])].map((m: any) => m.name));
      return {
        where: `${namespace}/${object.kind}/${object.metadata.name} (${role} pod, as spark-operator makes it)`,
        namespace,
        metadata: { labels: r.labels ?? {} },
        spec: {
          ...(r.podSecurityContext === undefined ? {} : { securityContext: r.podSecurityContext }),
          ...(r.hostNetwork === undefined ? {} : { hostNetwork: r.hostNetwork }),
          containers: [
            { name: `spark-kubernetes-${role}`, image: spec.image ?? 'spark', ...(r.securityContext === undefined ? {} : { securityContext: r.securityContext }) },
            ...(r.sidecars ?? []),
          ],
          ...(r.initContainers === undefined ? {} : { initContainers: r.initContainers }),
          volumes: (spec.volumes ?? []).filter((v: any) => mounted.has(v.name)),
        },
      };
    });
  });
}

/**
 * Evaluates each template against its namespace's level with the Pod Security evaluator; returns the rejections.
 * A template whose namespace has no known level is an error: the platform must say where every pod may run.
 */
export async function evaluatePodSecurity(evaluator: string, templates: readonly PodTemplate[], levels: ReadonlyMap<string, EnforcedLevel>): Promise<Rejection[]> {
  const unknown = [...new Set(templates.filter((t) => !levels.has(t.namespace)).map((t) => `${t.where}`))];
  if (unknown.length > 0) throw new Error(`pods land in namespaces the platform does not define (no Namespace object with Pod Security labels): ${unknown.join(', ')}`);
  const requests = templates.map((template) => {
    const { level, version } = levels.get(template.namespace)!;
    return { id: template.where, level, version, metadata: template.metadata, spec: template.spec };
  });
  const result = await runCommand(evaluator, [], { cwd: tmpdir(), input: JSON.stringify(requests) });
  if (result.code !== 0) throw new Error(`${evaluator} exited ${result.code ?? 'by a signal'}: ${result.stderr.trim() || result.startError?.message}`);
  const verdicts = JSON.parse(result.stdout) as Array<{ id: string; allowed: boolean; forbidden: Array<{ reason: string; detail: string }> }>;
  if (verdicts.length !== requests.length) throw new Error(`the Pod Security evaluator answered ${verdicts.length} verdicts for ${requests.length} pod templates`);
  return verdicts.flatMap((verdict, index) => {
    if (verdict.id !== requests[index]!.id) throw new Error(`the Pod Security evaluator answered for '${verdict.id}' where '${requests[index]!.id}' was asked`);
    if (verdict.allowed) return [];
    const template = templates[index]!;
    return [{ where: template.where, namespace: template.namespace, level: requests[index]!.level, forbidden: verdict.forbidden }];
  });
}

/** One line per rejection: the namespace and its level, the object, and each failed check with its detail. */
export function formatRejections(rejections: readonly Rejection[]): string {
  return rejections
    .map((r) => `${r.where} is rejected by namespace ${r.namespace} (enforce ${r.level}): ${r.forbidden.map((f) => `${f.reason} (${f.detail})`).join('; ')}`)
    .join('\n');
}
