import type { Construct } from 'constructs';
import { EnvironmentChart, type EnvironmentChartProps } from './environment-chart';

/** `k8s/rendered/<env>/apps`: the Argo CD Applications the root Application syncs: operators and this repository's folders. */
export class AppsChart extends EnvironmentChart {
  constructor(scope: Construct, id: string, props: EnvironmentChartProps) {
    super(scope, id, props);
  }
}
