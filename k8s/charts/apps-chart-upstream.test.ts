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
