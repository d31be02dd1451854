import type { Construct } from 'constructs';
import { EnvironmentChart, type EnvironmentChartProps } from './environment-chart';

/** `k8s/rendered/<env>/spark`: the Spark runtime every pipeline shares: service accounts and RBAC, default Spark configuration and the History Server. */
export class SparkChart extends EnvironmentChart {
  constructor(scope: Construct, id: string, props: EnvironmentChartProps) {
    super(scope, id, props);
  }
}
