/**
 * The HDFS dashboard: capacity, block health and live datanodes, read from the namenodes' built-in
 * Prometheus endpoint (`/prom`). Hadoop names those series record + metric in snake case
 * (FSNamesystem.CapacityUsed → `fs_namesystem_capacity_used`); `max` over the namenodes counts an HA pair once.
 */
import { dashboard, type GrafanaDashboard } from './grafana-dashboard';
import { SELECTORS } from './scrape-targets';

const { hdfs, namenodes } = SELECTORS;
const namesystem = (metric: string) => `max(fs_namesystem_${metric}{${hdfs}})`;

/** HDFS: capacity, blocks and datanodes of the platform's HDFS cluster. */
export const HDFS_DASHBOARD: GrafanaDashboard = dashboard({
  uid: 'driftless-hdfs',
  title: 'HDFS',
  description: 'Capacity, block health and datanodes of the platform HDFS cluster.',
  tags: ['hdfs'],
  panels: [
    {
      kind: 'gauge',
      title: 'Capacity used',
      description: 'Share of the configured DFS capacity in use; the alert fires above 80 %.',
      unit: 'percentunit',
      thresholds: { warning: 0.8, critical: 0.9 },
      queries: [{ expr: `${namesystem('capacity_used')} / ${namesystem('capacity_total')}` }],
      width: 6,
    },
    {
      kind: 'stat',
      title: 'Live datanodes',
      description: 'Datanodes the active namenode hears from.',
      unit: 'short',
      thresholds: 'none',
      queries: [{ expr: namesystem('num_live_data_nodes') }],
      width: 6,
    },
    {
      kind: 'stat',
      title: 'Missing blocks',
      description: 'Blocks with no replica left: data is unreadable until a datanode with a copy returns.',
      unit: 'short',
      queries: [{ expr: namesystem('missing_blocks') }],
      width: 6,
    },
    {
      kind: 'stat',
      title: 'Namenodes up',
      description: 'Namenodes whose metrics endpoint answers.',
      unit: 'short',
      thresholds: 'none',
      queries: [{ expr: `count(up{${namenodes}} == 1)` }],
      width: 6,
    },
    {
      kind: 'timeseries',
      title: 'Capacity',
      description: 'Configured, used and remaining DFS capacity.',
      unit: 'bytes',
      queries: [
        { expr: namesystem('capacity_total'), legend: 'total' },
        { expr: namesystem('capacity_used'), legend: 'used' },
        { expr: namesystem('capacity_remaining'), legend: 'remaining' },
      ],
      width: 12,
    },
    {
      kind: 'timeseries',
      title: 'Block health',
      description: 'Missing, corrupt and under-replicated blocks; all should stay at 0 outside a datanode restart.',
      unit: 'short',
      queries: [
        { expr: namesystem('missing_blocks'), legend: 'missing' },
        { expr: namesystem('corrupt_blocks'), legend: 'corrupt' },
        { expr: namesystem('under_replicated_blocks'), legend: 'under-replicated' },
      ],
      width: 12,
    },
    {
      kind: 'timeseries',
      title: 'Datanodes',
      description: 'Live and dead datanodes as the namenode sees them.',
      unit: 'short',
      queries: [
        { expr: namesystem('num_live_data_nodes'), legend: 'live' },
        { expr: namesystem('num_dead_data_nodes'), legend: 'dead' },
      ],
      width: 12,
    },
    {
      kind: 'timeseries',
      title: 'Blocks and files',
      description: 'Blocks and files in the namespace: growth drives namenode heap.',
      unit: 'short',
      queries: [
        { expr: namesystem('blocks_total'), legend: 'blocks' },
        { expr: namesystem('files_total'), legend: 'files' },
      ],
      width: 12,
    },
  ],
});
