import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadEnvironments, validateEnvironments } from '../environments/load';
import { INTERRUPTIBLE_TAINT, NODE_POOL_LABEL, NODE_POOLS } from '../environments/naming';
import type { Environment } from '../environments/schema';
import { loadPipelines, type LoadedPipeline } from '../pipelines/load';
import { FIXTURE_INPUTS, fixtureEnvironments, withValues } from '../scripts/fixtures/environments';
import { fixturePipelines } from '../scripts/fixtures/pipelines';
import { evaluate } from '../scripts/policy/engine';
import type { KubeObject } from '../scripts/policy/rule';
import { PLACEMENT_RULES } from '../scripts/policy/placement-rules';
import { applicationValues } from './charts/apps-chart';
import { renderManifests } from './main';
import { sparkSizing } from './sizing';

const STABLE = { [NODE_POOL_LABEL]: NODE_POOLS.stable };
const EXECUTORS = { [NODE_POOL_LABEL]: NODE_POOLS.executors };
const INTERRUPTIBLE = { key: INTERRUPTIBLE_TAINT.key, operator: 'Equal', value: INTERRUPTIBLE_TAINT.value, effect: INTERRUPTIBLE_TAINT.effect };
const STABLE_AFFINITY = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: NODE_POOL_LABEL, operator: 'In', values: [NODE_POOLS.stable] }] }] } } };

const flip = (capacity: Environment['spark']['executorCapacity']) => (capacity === 'spot' ? 'on-demand' : 'spot');

// The fixture environments as declared, and each with its executors' capacity flipped, so both capacities are rendered
// whatever the shipped environments choose.
const flipped = validateEnvironments(
  Object.fromEntries(Object.entries(FIXTURE_INPUTS).map(([name, input]) => [name, withValues(input, { 'spark.executorCapacity': flip(input.spark.executorCapacity) })])),
);
// Each fixture pipeline also overrides its environment's capacity in one environment (the first, in turn).
const overriding = (pipelines: readonly LoadedPipeline[], envs: readonly Environment[]): LoadedPipeline[] =>
  pipelines.map((pipeline, index) => {
    const env = envs[index % envs.length]!;
    const own = pipeline.spark?.[env.name];
    return { ...pipeline, spark: { ...pipeline.spark, [env.name]: { ...own, executorCapacity: flip(sparkSizing(env, pipeline).executorCapacity) } } };
  });
const fixtures = await fixturePipelines();

/** Every environment with the pipelines it runs: the team's, and the fixtures' as declared and with their capacities flipped. */
const cases = [
  { environments: await loadEnvironments(), pipelines: await loadPipelines() },
  { environments: fixtureEnvironments(), pipelines: overriding(fixtures, fixtureEnvironments()) },
  { environments: flipped, pipelines: overriding(fixtures, flipped) },
].flatMap(({ environments, pipelines }) => {
  const objects = renderManifests(environments, pipelines).map((file) => ({ file: file.path, object: parse(file.content) as KubeObject }));
  return environments.map((env) => ({
    env,
    pipelines,
    label: `${env.name} (executors on ${env.spark.executorCapacity}, ${pipelines.map((p) => `${p.name} on ${sparkSizing(env, p).executorCapacity}`).join(', ')})`,
    manifests: objects.filter((m) => m.file.startsWith(`k8s/rendered/${env.name}/`)).map((m) => ({ ...m, environment: env.name })),
  }));
});

const at = (object: any, path: string): any => path.split('.').reduce((value, key) => value?.[key], object);

/** Where each operator chart takes the nodeSelector of each of its pods (checked against the charts' values.yaml). */
const OPERATOR_PLACEMENT: Readonly<Record<string, readonly string[]>> = {
  strimzi: ['nodeSelector'],
  'spark-operator': ['controller.nodeSelector', 'webhook.nodeSelector'],
  'kube-prometheus-stack': [
    'prometheus.prometheusSpec.nodeSelector',
    'alertmanager.alertmanagerSpec.nodeSelector',
    'grafana.nodeSelector',
    'kube-state-metrics.nodeSelector',
    'prometheusOperator.nodeSelector',
    'prometheusOperator.admissionWebhooks.patch.nodeSelector',
  ],
  'external-secrets': ['global.nodeSelector'],
  'stackable-commons': ['nodeSelector'],
  'stackable-zookeeper': ['nodeSelector'],
  'stackable-hdfs': ['nodeSelector'],
  'stackable-secret': ['controllerService.nodeSelector', 'csiNodeDriver.nodeSelector'],
  'stackable-listener': ['csiProvisioner.nodeSelector', 'csiNodeDriver.nodeSelector'],
};
/** Charts placed by their own values on the managed node groups (issue 14's other half), not on a NodePool. */
const SYSTEM_CHARTS = ['karpenter', 'karpenter-crd'];

describe.each(cases)('placement in $label', ({ env, pipelines, manifests }) => {
  const objects = manifests.map((m) => m.object);
  const one = (kind: string, name: string) => {
    const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
    expect(found, `${kind}/${name}`).toHaveLength(1);
    return found[0]!;
  };

  it('runs every driver on the stable pool, and executors on the pool their capacity names, tolerating its taint only on spot', () => {
    expect(pipelines.length).toBeGreaterThan(0);
    for (const pipeline of pipelines) {
      const app = objects.find((o) => (o.kind === 'SparkApplication' || o.kind === 'ScheduledSparkApplication') && o.metadata.name === pipeline.name)!;
      const spec = app.kind === 'SparkApplication' ? app.spec : app.spec.template;
      expect(spec.driver.nodeSelector, pipeline.name).toEqual(STABLE);
      expect(spec.driver.tolerations, pipeline.name).toBeUndefined();
      if (sparkSizing(env, pipeline).executorCapacity === 'spot') {
        expect(spec.executor.nodeSelector, pipeline.name).toEqual(EXECUTORS);
        expect(spec.executor.tolerations, pipeline.name).toEqual([INTERRUPTIBLE]);
      } else {
        expect(spec.executor.nodeSelector, pipeline.name).toEqual(STABLE);
        expect(spec.executor.tolerations, pipeline.name).toBeUndefined();
      }
    }
  });

  it('puts the History Server, every Kafka pod and every HDFS and ZooKeeper role on the stable pool', () => {
    expect(one('Deployment', 'spark-history-server').spec.template.spec.nodeSelector).toEqual(STABLE);
    const pools = objects.filter((o) => o.kind === 'KafkaNodePool');
    expect(pools.length).toBeGreaterThan(0);
    for (const pool of pools) expect(pool.spec.template.pod.affinity, pool.metadata.name).toEqual(STABLE_AFFINITY);
    const kafka = objects.find((o) => o.kind === 'Kafka')!;
    expect(kafka.spec.entityOperator.template.pod.affinity).toEqual(STABLE_AFFINITY);
    expect(kafka.spec.kafkaExporter.template.pod.affinity).toEqual(STABLE_AFFINITY);
    const hdfs = objects.find((o) => o.kind === 'HdfsCluster')!;
    for (const role of ['nameNodes', 'journalNodes', 'dataNodes']) expect(hdfs.spec[role].config.affinity, role).toEqual({ nodeSelector: STABLE });
    expect(objects.find((o) => o.kind === 'ZookeeperCluster')!.spec.servers.config.affinity).toEqual({ nodeSelector: STABLE });
  });

  it('puts every operator and the monitoring stack on the stable pool, and lets node-exporter onto every node', () => {
    const charts = objects.filter((o) => o.kind === 'Application' && o.spec.source.chart !== undefined && !SYSTEM_CHARTS.includes(o.metadata.name));
    expect(charts.map((a) => a.metadata.name).sort()).toEqual(Object.keys(OPERATOR_PLACEMENT).sort());
    for (const app of charts) {
      const values = applicationValues(app.spec.source.helm);
      for (const path of OPERATOR_PLACEMENT[app.metadata.name]!) expect(at(values, path), `${app.metadata.name} ${path}`).toEqual(STABLE);
    }
    // A list replaces the chart's (NoSchedule only): one toleration of every key and effect.
    const stack = applicationValues(charts.find((a) => a.metadata.name === 'kube-prometheus-stack')!.spec.source.helm);
    expect(stack['prometheus-node-exporter'].tolerations).toEqual([{ operator: 'Exists' }]);
    expect(stack['prometheus-node-exporter'].nodeSelector).toBeUndefined();
  });

  it('passes the placement rules DL-NODE-001 and DL-NODE-002', () => {
    const { findings } = evaluate(PLACEMENT_RULES, { stacks: [], manifests }, [env]);
    // Only these two rules run, so the engine's check of suppressions for other rules (DL-POLICY-001) is left out.
    expect(findings.filter((f) => f.ruleId.startsWith('DL-NODE-')).map((f) => `${f.ruleId} ${f.subject}: ${f.message}`)).toEqual([]);
  });
});

it('renders both capacities, and per-pipeline overrides of both, somewhere', () => {
  const capacities = cases.flatMap(({ env, pipelines }) => pipelines.map((p) => `${env.spark.executorCapacity}->${sparkSizing(env, p).executorCapacity}`));
  expect(new Set(capacities)).toEqual(new Set(['spot->spot', 'spot->on-demand', 'on-demand->on-demand', 'on-demand->spot']));
});
