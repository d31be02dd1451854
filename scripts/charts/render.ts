/**
 * Renders the Helm charts the platform installs, as Argo CD and the bootstrap stack would, from what `npm run synth`
 * wrote (read by scripts/policy/synthesized-output.ts): the operator Applications of `k8s/rendered/<env>/apps` (each chart templated with exactly the Application's values, release name and
 * destination namespace) and the bootstrap stack's `helm_release`s (argo-cd and argocd-apps, with the values the stack
 * passes), with the upstream chart sources of `../shared/charts` and the pinned Helm of the toolchain.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { renderedPath, stackName } from '../../environments/naming';
import { applicationValues } from '../../k8s/charts/apps-chart';
import type { Environment } from '../../environments/schema';
import type { KubeObject, SynthesizedOutput } from '../policy/rule';
import { PROJECT_ROOT } from '../project-copy';
import { runCommand, tail } from '../run-command';

/** One chart as the platform installs it. */
export interface ChartRelease {
  readonly environment: string;
  readonly release: string;
  readonly chart: string;
  /** The version the platform pins. */
  readonly version: string;
  readonly namespace: string;
  readonly values: Readonly<Record<string, unknown>>;
  /** Whether the chart's `crds/` are installed with it (Argo CD's `helm.skipCrds` leaves them out). */
  readonly includeCrds: boolean;
  /** Where the platform sets it: a file of the rendered tree or a stack's resource. */
  readonly origin: string;
}

/** A chart rendered: its objects, and the chart folder that stood in for a pinned version missing upstream. */
export interface RenderedChart {
  readonly release: ChartRelease;
  readonly folder: string;
  readonly standIn?: string;
  readonly objects: readonly KubeObject[];
}

/**
 * Pinned chart versions whose sources are not in `../shared/charts`, rendered from the closest version there instead
 * (SOURCES.md says why). Keyed by the pinned version, so a bump never renders a stand-in silently.
 */
export const CHART_STAND_INS: Readonly<Record<string, { readonly version: string; readonly why: string }>> = {
  'commons-operator@26.7.0': { version: '26.3.0', why: 'SOURCES.md D5: the snapshot of stackabletech/commons-operator ends at tag 26.3.0' },
  'argo-cd@10.4.0': { version: '10.1.1', why: 'SOURCES.md D6: the snapshot of argoproj/argo-helm ends at argo-cd-10.1.1 (Argo CD v3.4.4)' },
};

/** The chart folder of `chart` at `version` under `chartsRoot`, or a one-line error that names what is there. */
export function chartFolder(chartsRoot: string, release: ChartRelease): { folder: string; standIn?: string } {
  if (!existsSync(chartsRoot)) throw new Error(`the upstream chart sources are not at ${chartsRoot}: they live in ../shared/charts beside the repository`);
  const exact = join(chartsRoot, `${release.chart}-${release.version}`);
  if (existsSync(join(exact, 'Chart.yaml'))) return { folder: exact };
  const standIn = CHART_STAND_INS[`${release.chart}@${release.version}`];
  if (standIn !== undefined && existsSync(join(chartsRoot, `${release.chart}-${standIn.version}`, 'Chart.yaml'))) {
    return { folder: join(chartsRoot, `${release.chart}-${standIn.version}`), standIn: `${standIn.version} (${standIn.why})` };
  }
  const present = readdirSync(chartsRoot).filter((name) => name.startsWith(`${release.chart}-`));
  throw new Error(
    `chart '${release.chart}' version '${release.version}' (${release.origin}) is not in ${chartsRoot} (it holds ${present.length > 0 ? present.join(', ') : `no version of ${release.chart}`}): add the upstream chart there at that version, or pin a version it holds`,
  );
}

/** The operator charts the environment's Applications install (Applications with a Helm chart source). */
export function operatorReleases(output: SynthesizedOutput, env: Environment): ChartRelease[] {
  const apps = `${renderedPath(env.name, 'apps')}/`;
  return output.manifests
    .filter(({ environment, file, object }) => environment === env.name && file.startsWith(apps) && object.kind === 'Application' && object['spec']?.source?.chart !== undefined)
    .map(({ file, object }) => {
      const { source, destination } = object['spec'];
      return {
        environment: env.name,
        // Argo CD names the release after the Application unless the source says otherwise.
        release: source.helm?.releaseName ?? object.metadata.name,
        chart: source.chart,
        version: source.targetRevision,
        namespace: destination.namespace,
        values: applicationValues(source.helm),
        includeCrds: source.helm?.skipCrds !== true,
        origin: file,
      };
    });
}

/** The charts the bootstrap stack installs with `helm_release`, with the values it passes. */
export function bootstrapReleases(output: SynthesizedOutput, env: Environment): ChartRelease[] {
  const stack = output.stacks.find((candidate) => candidate.name === stackName(env.name, 'bootstrap'));
  if (stack === undefined) throw new Error(`the synthesized output holds no ${stackName(env.name, 'bootstrap')} stack: run 'npm run synth' first`);
  const resources = (stack.json.resource ?? {}) as Record<string, Record<string, Record<string, any>>>;
  return Object.entries(resources['helm_release'] ?? {}).map(([id, release]) => ({
    environment: env.name,
    release: release['name'],
    chart: release['chart'],
    version: release['version'],
    namespace: resolveReference(resources, release['namespace'], `${stack.file} helm_release.${id}.namespace`),
    // Later values files win in Helm; the stack passes JSON documents.
    values: Object.assign({}, ...(release['values'] ?? []).map((text: string) => JSON.parse(text))),
    includeCrds: release['skip_crds'] !== true,
    origin: `${stack.file} helm_release.${id}`,
  }));
}

/** A literal, or a `${type.name.metadata[0].name}` reference to a resource of the same stack. */
function resolveReference(resources: Record<string, Record<string, Record<string, any>>>, value: string, where: string): string {
  const reference = /^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.metadata\[0\]\.name\}$/.exec(value);
  if (reference === null) {
    if (value.includes('${')) throw new Error(`${where}: cannot resolve '${value}'`);
    return value;
  }
  const name = resources[reference[1]!]?.[reference[2]!]?.['metadata']?.name;
  if (typeof name !== 'string') throw new Error(`${where}: '${value}' names no resource with a literal metadata.name`);
  return name;
}

/** What the cluster serves besides Kubernetes' own APIs: `group/version` and `group/version/Kind` of each CRD. */
export function apiVersionsOf(crds: readonly KubeObject[]): string[] {
  const versions = new Set<string>();
  for (const crd of crds) {
    if (crd.kind !== 'CustomResourceDefinition') continue;
    const spec = crd['spec'];
    for (const version of spec.versions ?? []) {
      if (!version.served) continue;
      versions.add(`${spec.group}/${version.name}`);
      versions.add(`${spec.group}/${version.name}/${spec.names.kind}`);
    }
  }
  return [...versions].sort();
}

/**
 * `helm template` of one release, as Argo CD runs it: the release name, the destination namespace, the cluster's
 * Kubernetes version and API versions, the values, and the chart's CRDs included unless the release skips them.
 */
export async function renderChart(
  helm: string,
  chartsRoot: string,
  release: ChartRelease,
  options: { readonly kubeVersion: string; readonly apiVersions: readonly string[] },
): Promise<RenderedChart> {
  const { folder, standIn } = chartFolder(chartsRoot, release);
  // Helm keeps a cache and configuration of its own: an empty one per run, so nothing of the machine's is read.
  const home = mkdtempSync(join(tmpdir(), 'driftless-helm-'));
  try {
    const valuesFile = join(home, 'values.json');
    writeFileSync(valuesFile, JSON.stringify(release.values));
    const args = [
      'template', release.release, folder,
      '--namespace', release.namespace,
      '--kube-version', options.kubeVersion,
      ...(release.includeCrds ? ['--include-crds'] : []),
      '--values', valuesFile,
      ...options.apiVersions.flatMap((version) => ['--api-versions', version]),
    ];
    const env = { PATH: process.env['PATH'] ?? '', HOME: home, HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data') };
    const result = await runCommand(helm, args, { cwd: home, env });
    if (result.code !== 0) {
      throw new Error(`helm template of ${release.chart} ${release.version} for ${release.environment} (${release.origin}) failed (exit ${result.code ?? 'by a signal'}):\n${tail(result.stderr || result.stdout)}`);
    }
    return { release, folder, ...(standIn === undefined ? {} : { standIn }), objects: documents(result.stdout) };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** The objects of a multi-document YAML text, skipping empty documents. */
export function documents(text: string): KubeObject[] {
  return parseAllDocuments(text).flatMap((document) => {
    if (document.errors.length > 0) throw new Error(`not valid YAML: ${document.errors[0]!.message}`);
    const value = document.toJS() as KubeObject | null;
    return value === null || value === undefined ? [] : [value];
  });
}

/** Where `../shared` is: beside this repository, or `DRIFTLESS_SHARED`. */
export function sharedDir(): string {
  return process.env['DRIFTLESS_SHARED'] ?? join(PROJECT_ROOT, '..', 'shared');
}

/** The CRDs of `../shared/schemas/crds`: the APIs the platform's operators serve, at the pinned versions. */
export function sharedCrds(): KubeObject[] {
  const dir = join(sharedDir(), 'schemas', 'crds');
  if (!existsSync(dir)) throw new Error(`the CRD schemas are not at ${dir}: they live in ../shared/schemas/crds beside the repository`);
  return readdirSync(dir)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .flatMap((file) => documents(readFileSync(join(dir, file), 'utf8')));
}

/** Kubernetes' own kinds that have no namespace; a custom resource's scope is its CRD's. */
const CLUSTER_SCOPED_KINDS = [
  'Namespace', 'Node', 'PersistentVolume', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'StorageClass', 'CSIDriver',
  'CSINode', 'VolumeAttachment', 'PriorityClass', 'RuntimeClass', 'IngressClass', 'APIService', 'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding',
];

/**
 * Every chart of the environment rendered: the operators' and the bootstrap stack's. The API versions are those of the
 * cluster once everything is installed (Kubernetes' own, the pinned CRDs and every CRD the charts install), as Argo
 * CD sees them on every sync after the first: charts that add objects when an API is served (a ServiceMonitor when
 * the Prometheus operator runs) are rendered with them. Namespaced objects that Helm leaves without a namespace get
 * the release's, where Argo CD applies them.
 */
export async function renderEnvironment(helm: string, output: SynthesizedOutput, env: Environment): Promise<RenderedChart[]> {
  const chartsRoot = join(sharedDir(), 'charts');
  const releases = [...operatorReleases(output, env), ...bootstrapReleases(output, env)];
  const kubeVersion = `${env.cluster.kubernetesVersion}.0`;
  const pinned = sharedCrds();
  let apiVersions = apiVersionsOf(pinned);
  for (;;) {
    const rendered: RenderedChart[] = [];
    for (const release of releases) rendered.push(await renderChart(helm, chartsRoot, release, { kubeVersion, apiVersions }));
    const crds = [...pinned, ...rendered.flatMap((chart) => chart.objects)].filter((object) => object.kind === 'CustomResourceDefinition');
    const installed = apiVersionsOf(crds);
    if (installed.every((version) => apiVersions.includes(version))) {
      const clusterScoped = new Set([...CLUSTER_SCOPED_KINDS, ...crds.filter((crd) => crd['spec'].scope === 'Cluster').map((crd) => crd['spec'].names.kind)]);
      return rendered.map((chart) => ({
        ...chart,
        objects: chart.objects.map((object) =>
          object.metadata.namespace === undefined && !clusterScoped.has(object.kind) ? { ...object, metadata: { ...object.metadata, namespace: chart.release.namespace } } : object,
        ),
      }));
    }
    apiVersions = installed;
  }
}
