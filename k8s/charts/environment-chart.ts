import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Environment } from '../../environments/schema';
import type { Pipeline } from '../../pipelines/schema';

/** Props of every chart of an environment. */
export interface EnvironmentChartProps {
  /** The environment being rendered. */
  readonly env: Environment;
  /** Every pipeline of the platform. */
  readonly pipelines: readonly Pipeline[];
}

/**
 * A chart of one environment, rendered into `k8s/rendered/<env>/<component>/` (see k8s/main.ts). Every
 * object carries the labels that say which platform and environment it belongs to, and objects are named
 * exactly as written (no hash suffixes), because names are what other objects and tools refer to.
 */
export class EnvironmentChart extends Chart {
  /** The environment being rendered. */
  readonly env: Environment;

  constructor(scope: Construct, id: string, props: EnvironmentChartProps) {
    super(scope, id, {
      labels: { 'app.kubernetes.io/part-of': 'driftless', 'driftless.io/environment': props.env.name },
      disableResourceNameHashes: true,
    });
    this.env = props.env;
  }
}
