/**
 * The operator Applications' values put over the upstream charts' own defaults, as Helm merges them: properties of
 * what the charts end up with, read from the pinned charts in ../shared/charts (without them these tests fail,
 * naming the folder).
 */
import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import type { Environment } from '../../environments/schema';
import { fixtureEnvironments } from '../../scripts/fixtures/environments';
import { findObject, renderChart } from '../manifest-lookup';
import { chartDefaults, coalesceValues, valueAt, type Values } from '../upstream-charts';
import { OPERATOR_CHARTS } from '../versions';
import { AppsChart } from './apps-chart';

// The team's environments and the fixture environments, each also with a dead man's switch.
const environments = [...(await loadEnvironments()), ...fixtureEnvironments()].flatMap((env): Environment[] => [
  env,
  { ...env, name: `${env.name}+dms`, monitoring: { ...env.monitoring, deadMansSwitch: { type: 'webhook' } } },
]);

describe.each(environments)('the $name Alertmanager configuration over the chart defaults', (env) => {
  const app = findObject(renderChart(AppsChart, env), 'Application', 'kube-prometheus-stack', 'argocd');
  const defaults = valueAt(chartDefaults(OPERATOR_CHARTS.kubePrometheusStack), ['alertmanager', 'config']) as Values;
  const merged = coalesceValues(app.spec.source.helm.valuesObject.alertmanager.config, defaults) as any;

  it("keeps the chart's inhibit rules, global settings and templates", () => {
    expect(defaults.inhibit_rules).toBeDefined();
    expect(merged.inhibit_rules).toEqual(defaults.inhibit_rules);
    expect(merged.global).toEqual(defaults.global);
    expect(merged.templates).toEqual(defaults.templates);
  });

  it('defines every receiver that the merged routes name', () => {
    const names = new Set(merged.receivers.map((r: { name: string }) => r.name));
    const named = (route: { receiver?: string; routes?: unknown[] }): string[] => [...(route.receiver ? [route.receiver] : []), ...(route.routes ?? []).flatMap((r) => named(r as never))];
    for (const name of named(merged.route)) expect(names.has(name), name).toBe(true);
  });
});

/** The key paths of every `resources` map in a chart's values. */
function resourcePaths(values: unknown, path: string[] = []): string[][] {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) return [];
  return Object.entries(values).flatMap(([key, value]) =>
    key === 'resources' && typeof value === 'object' && value !== null ? [[...path, key]] : resourcePaths(value, [...path, key]),
  );
}

/** A copy without the keys whose value is null (what Helm's merge deletes). */
const withoutNulls = (value: unknown): unknown =>
  typeof value !== 'object' || value === null || Array.isArray(value)
    ? value
    : Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]));

describe.each(environments.filter((env) => env.monitoring.deadMansSwitch === undefined))('the $name operator resources over the chart defaults', (env) => {
  const operators = renderChart(AppsChart, env).filter((o) => o.kind === 'Application' && o.spec.source.chart !== undefined);
  const withResources = operators
    .map((app) => ({ app, paths: resourcePaths(app.spec.source.helm.valuesObject) }))
    .filter(({ paths }) => paths.length > 0);

  it('sets resources on some operator, so that these properties check something', () => {
    expect(withResources.length).toBeGreaterThan(0);
  });

  it.each(withResources.map(({ app, paths }) => ({ name: app.metadata.name, app, paths })))(
    '$name: deletes every CPU limit that the chart sets in a resources map of ours, so the pods get exactly our requests and memory limit',
    ({ app, paths }) => {
      const ours = app.spec.source.helm.valuesObject;
      const defaults = chartDefaults({ chart: app.spec.source.chart, version: app.spec.source.targetRevision });
      const merged = coalesceValues(ours, defaults);
      for (const path of paths) {
        const where = `${app.metadata.name} ${path.join('.')}`;
        const chartCpuLimit = valueAt(defaults, [...path, 'limits', 'cpu']);
        if (chartCpuLimit !== undefined && chartCpuLimit !== null) expect(valueAt(ours, [...path, 'limits', 'cpu']), where).toBeNull();
        expect(valueAt(merged, [...path, 'limits', 'cpu']), where).toBeUndefined();
        expect(valueAt(merged, path), where).toEqual(withoutNulls(valueAt(ours, path)));
      }
    },
  );
});
