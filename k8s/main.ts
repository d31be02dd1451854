import { App } from 'cdk8s';
import type { Construct } from 'constructs';
import { stringify } from 'yaml';
import { renderedPath, type RenderedComponent } from '../environments/naming';
import type { Environment } from '../environments/schema';
import type { LoadedPipeline } from '../pipelines/load';
import { AppsChart } from './charts/apps-chart';
import { EnvironmentChart, type EnvironmentChartProps } from './charts/environment-chart';
import { HdfsChart } from './charts/hdfs-chart';
import { KafkaChart } from './charts/kafka-chart';
import { MonitoringChart } from './charts/monitoring-chart';
import { PipelineChart } from './charts/pipeline-chart';
import { PlatformChart } from './charts/platform-chart';
import { SparkChart } from './charts/spark-chart';

/** One rendered manifest file. */
export interface RenderedFile {
  /** Path relative to the repository root, e.g. `k8s/rendered/dev/platform/namespace-kafka.yaml`. */
  readonly path: string;
  /** The YAML text, ending in a newline. */
  readonly content: string;
}

type ChartClass = new (scope: Construct, id: string, props: EnvironmentChartProps) => EnvironmentChart;

/** Every chart of an environment and the component folder it renders into. */
const CHARTS: ReadonlyArray<readonly [RenderedComponent, ChartClass]> = [
  ['apps', AppsChart],
  ['platform', PlatformChart],
  ['kafka', KafkaChart],
  ['hdfs', HdfsChart],
  ['spark', SparkChart],
  ['monitoring', MonitoringChart],
];

/** Adds the charts of one environment, each with the folder it renders into (a pipeline's: pipelines/<name>). */
export function addEnvironmentCharts(app: App, env: Environment, pipelines: readonly LoadedPipeline[]): Map<EnvironmentChart, string> {
  return new Map<EnvironmentChart, string>([
    ...CHARTS.map(([component, Chart]) => [new Chart(app, `${env.name}-${component}`, { env, pipelines }), renderedPath(env.name, component)] as const),
    ...pipelines.map(
      (pipeline) => [new PipelineChart(app, `${env.name}-pipeline-${pipeline.name}`, { env, pipelines, pipeline }), `${renderedPath(env.name, 'pipelines')}/${pipeline.name}`] as const,
    ),
  ]);
}

/**
 * Serializes one object with sorted keys and no line folding, as YAML 1.1: the dialect kubectl and
 * Argo CD read, so strings such as `"yes"` and `"on"` are quoted and stay strings.
 */
export function manifestYaml(object: unknown): string {
  return stringify(object, { version: '1.1', lineWidth: 0, sortMapEntries: true });
}

/**
 * Renders the manifests of the given environments: one file per object, named by kind, namespace and name.
 * @throws Error when a construct fails validation or two objects would share a file.
 */
export function renderManifests(environments: readonly Environment[], pipelines: readonly LoadedPipeline[]): RenderedFile[] {
  const app = new App();
  const charts = new Map<EnvironmentChart, string>();
  for (const env of environments) {
    for (const [chart, folder] of addEnvironmentCharts(app, env, pipelines)) charts.set(chart, folder);
  }
  const errors = app.node.findAll().flatMap((c) => c.node.validate().map((e) => `${c.node.path}: ${e}`));
  if (errors.length > 0) throw new Error(`invalid Kubernetes constructs:\n  - ${errors.join('\n  - ')}`);

  const files = new Map<string, RenderedFile>();
  for (const [chart, folder] of charts) {
    for (const object of chart.toJson() as KubeObject[]) {
      const path = `${folder}/${fileName(object)}`;
      if (files.has(path)) throw new Error(`two objects render to ${path}; give them distinct names`);
      files.set(path, { path, content: manifestYaml(object) });
    }
  }
  return [...files.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
}

interface KubeObject {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
}

function fileName(object: KubeObject): string {
  const parts = [object.kind.toLowerCase(), object.metadata.namespace, object.metadata.name].filter(Boolean);
  return `${parts.join('-')}.yaml`;
}
