/**
 * The Spark dashboard: applications by state from the spark-operator controller (`spark_application_*`,
 * counted per state change since the operator started), and executors as each driver reports them on
 * `/metrics/executors/prometheus/` (`metrics_executor_*`, labelled by application).
 */
import { dashboard, type GrafanaDashboard } from './grafana-dashboard';
import { SELECTORS } from './scrape-targets';

const { sparkOperator, sparkDrivers } = SELECTORS;
const executors = `${sparkDrivers},executor_id!="driver"`;

/** Spark: running and failed applications and their executors. */
export const SPARK_DASHBOARD: GrafanaDashboard = dashboard({
  uid: 'driftless-spark',
  title: 'Spark',
  description: 'Spark applications run by the spark-operator, and the executors of the running pipelines.',
  tags: ['spark'],
  panels: [
    {
      kind: 'stat',
      title: 'Running applications',
      description: 'SparkApplications in the RUNNING state.',
      unit: 'short',
      thresholds: 'none',
      queries: [{ expr: `sum(spark_application_running_count{${sparkOperator}})` }],
      width: 6,
    },
    {
      kind: 'stat',
      title: 'Failed applications (24 h)',
      description: 'SparkApplications that reached FAILED in the last 24 hours.',
      unit: 'short',
      queries: [{ expr: `sum(increase(spark_application_failure_count{${sparkOperator}}[24h]))` }],
      width: 6,
    },
    {
      kind: 'stat',
      title: 'Failed submissions (24 h)',
      description: 'SparkApplications whose driver could not be submitted in the last 24 hours.',
      unit: 'short',
      queries: [{ expr: `sum(increase(spark_application_failed_submission_count{${sparkOperator}}[24h]))` }],
      width: 6,
    },
    {
      kind: 'stat',
      title: 'Succeeded applications (24 h)',
      description: 'SparkApplications that completed in the last 24 hours.',
      unit: 'short',
      thresholds: 'none',
      queries: [{ expr: `sum(increase(spark_application_success_count{${sparkOperator}}[24h]))` }],
      width: 6,
    },
    {
      kind: 'timeseries',
      title: 'Applications by state',
      description: 'Running applications, and state changes to failed and completed per hour.',
      unit: 'short',
      queries: [
        { expr: `sum(spark_application_running_count{${sparkOperator}})`, legend: 'running' },
        { expr: `sum(increase(spark_application_failure_count{${sparkOperator}}[1h]))`, legend: 'failed / h' },
        { expr: `sum(increase(spark_application_success_count{${sparkOperator}}[1h]))`, legend: 'completed / h' },
      ],
      width: 12,
    },
    {
      kind: 'timeseries',
      title: 'Active tasks per application',
      description: 'Tasks running on the executors of each application.',
      unit: 'short',
      queries: [{ expr: `sum by (application_name) (metrics_executor_activeTasks{${executors}})`, legend: '{{application_name}}' }],
      width: 12,
    },
    {
      kind: 'timeseries',
      title: 'Executor storage memory used',
      description: 'Memory the executors of each application use for cached and broadcast data.',
      unit: 'bytes',
      queries: [{ expr: `sum by (application_name) (metrics_executor_memoryUsed_bytes{${executors}})`, legend: '{{application_name}}' }],
      width: 12,
    },
    {
      kind: 'timeseries',
      title: 'Failed tasks per application',
      description: 'Task failures per second; retries hide them from the job until they exhaust spark.task.maxFailures.',
      unit: 'short',
      queries: [{ expr: `sum by (application_name) (rate(metrics_executor_failedTasks_total{${executors}}[5m]))`, legend: '{{application_name}}' }],
      width: 12,
    },
  ],
});
