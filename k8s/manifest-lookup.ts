import { rmSync } from 'node:fs';
import { Testing } from 'cdk8s';
import type { Environment } from '../environments/schema';
import type { Pipeline } from '../pipelines/schema';
import type { EnvironmentChart, EnvironmentChartProps } from './charts/environment-chart';

/** A rendered Kubernetes object, loosely typed for assertions. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
    readonly finalizers?: string[];
  };
  readonly [field: string]: any;
}

/** Renders one chart of an environment as the tests see it (for tests only). */
export function renderChart(
  Chart: new (scope: any, id: string, props: EnvironmentChartProps) => EnvironmentChart,
  env: Environment,
  pipelines: readonly Pipeline[] = [],
): KubeObject[] {
  const app = Testing.app();
  try {
    return Testing.synth(new Chart(app, 'chart', { env, pipelines })) as KubeObject[];
  } finally {
    // Testing.app() makes a temporary output folder that nothing else removes.
    rmSync(app.outdir, { recursive: true, force: true });
  }
}

/** The objects of one kind, optionally in one namespace. */
export function ofKind(objects: readonly KubeObject[], kind: string, namespace?: string): KubeObject[] {
  return objects.filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace));
}

/** The one object of a kind and name (and namespace); throws when there is none, so a test cannot pass vacuously. */
export function findObject(objects: readonly KubeObject[], kind: string, name: string, namespace?: string): KubeObject {
  const found = ofKind(objects, kind, namespace).filter((o) => o.metadata.name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind} ${namespace ?? '*'}/${name}, found ${found.length}`);
  return found[0]!;
}
