import type { Construct } from 'constructs';
import { EnvironmentChart, type EnvironmentChartProps } from './environment-chart';

/** `k8s/rendered/<env>/hdfs`: ZooKeeper and HDFS through the Stackable operators. */
export class HdfsChart extends EnvironmentChart {
  constructor(scope: Construct, id: string, props: EnvironmentChartProps) {
    super(scope, id, props);
  }
}
