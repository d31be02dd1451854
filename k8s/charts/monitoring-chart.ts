import type { Construct } from 'constructs';
import { EnvironmentChart, type EnvironmentChartProps } from './environment-chart';

/** `k8s/rendered/<env>/monitoring`: scrape targets, alerts and dashboards for Kafka, HDFS, ZooKeeper and Spark; Grafana and Alertmanager credentials from AWS Secrets Manager. */
export class MonitoringChart extends EnvironmentChart {
  constructor(scope: Construct, id: string, props: EnvironmentChartProps) {
    super(scope, id, props);
  }
}
