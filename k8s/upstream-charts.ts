/**
 * The operators' upstream charts at their pinned versions, as `../shared/charts/<chart>-<version>/` beside the
 * repository holds them (its SOURCES.md says where each comes from), and Helm's way of putting values over their
 * defaults: for tests that check what our values do to a chart's own (for tests only).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { PinnedChart } from './versions';

/** Where the upstream charts are: `../shared/charts`, beside the repository. */
export const UPSTREAM_CHARTS_DIR = join(__dirname, '..', '..', 'shared', 'charts');

/** Helm values: a tree of maps, lists and scalars. */
export type Values = Readonly<Record<string, unknown>>;

/** The folder of a chart at a version; throws, naming the folder, when it is not there. */
export function chartFolder(chart: Pick<PinnedChart, 'chart' | 'version'>): string {
  const folder = join(UPSTREAM_CHARTS_DIR, `${chart.chart}-${chart.version}`);
  if (!existsSync(join(folder, 'values.yaml'))) {
    throw new Error(`the upstream chart ${chart.chart} ${chart.version} is not at ${folder}: the tests read the pinned charts from ../shared/charts beside the repository (see its SOURCES.md)`);
  }
  return folder;
}

/**
 * A chart's default values as Helm computes them: its values.yaml, and under each dependency's name (or alias) that
 * dependency's defaults with the parent's values for it put over them.
 */
export function chartDefaults(chart: Pick<PinnedChart, 'chart' | 'version'>): Values {
  return defaultsOf(chartFolder(chart));
}

function defaultsOf(folder: string): Values {
  const own = (parse(readFileSync(join(folder, 'values.yaml'), 'utf8')) ?? {}) as Values;
  const meta = parse(readFileSync(join(folder, 'Chart.yaml'), 'utf8')) as { dependencies?: Array<{ name: string; alias?: string }> };
  const merged: Record<string, unknown> = { ...own };
  for (const dependency of meta.dependencies ?? []) {
    const key = dependency.alias ?? dependency.name;
    merged[key] = coalesceValues(own[key], defaultsOf(join(folder, 'charts', dependency.name)));
  }
  return merged;
}

const isTable = (value: unknown): value is Values => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `user` put over `defaults` as Helm does: maps merge key by key, anything else (lists too) replaces the default,
 * and a `null` deletes the default key.
 */
export function coalesceValues(user: unknown, defaults: unknown): unknown {
  if (user === undefined) return defaults;
  if (!isTable(user) || !isTable(defaults)) return user;
  const merged: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(defaults), ...Object.keys(user)])) {
    if (user[key] === null) continue;
    const value = coalesceValues(user[key], defaults[key]);
    if (value !== undefined && value !== null) merged[key] = value;
  }
  return merged;
}

/** The value at a dotted path of keys, or undefined. */
export function valueAt(values: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((node, key) => (isTable(node) ? node[key] : undefined), values);
}
