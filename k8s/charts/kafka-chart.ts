import type { Construct } from 'constructs';
import { EnvironmentChart, type EnvironmentChartProps } from './environment-chart';

/** `k8s/rendered/<env>/kafka`: the Strimzi Kafka cluster (KRaft) and its node pools. */
export class KafkaChart extends EnvironmentChart {
  constructor(scope: Construct, id: string, props: EnvironmentChartProps) {
    super(scope, id, props);
  }
}
