/**
 * The subset of Grafana's dashboard JSON model that the platform's dashboards use, and builders that lay
 * panels out on Grafana's 24-column grid. Everything is a pure function of its arguments: no ids, versions
 * or timestamps that change between renders, so the committed ConfigMaps only change when a query does.
 */

/** Every panel reads from the data source chosen in the dashboard's `datasource` variable. */
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;

/** A PromQL query of a panel. */
export interface Query {
  readonly expr: string;
  /** Series name in the legend, e.g. `{{topic}}`. @default the series' labels */
  readonly legend?: string;
}

/** A panel before it is placed: what it shows and how wide it is (of 24 columns). */
export interface PanelSpec {
  readonly kind: 'timeseries' | 'stat' | 'gauge';
  readonly title: string;
  readonly description: string;
  /** Grafana unit id, e.g. `short`, `bytes`, `Bps`, `percentunit`. */
  readonly unit: string;
  readonly queries: readonly Query[];
  /** Columns of 24. @default 8 */
  readonly width?: number;
  /** Values from which a stat or gauge turns orange and red, in the panel's unit; `none` for a value that is neither good nor bad. @default red from 1 */
  readonly thresholds?: { readonly warning?: number; readonly critical: number } | 'none';
}

/** A panel as Grafana reads it. */
export interface Panel {
  readonly id: number;
  readonly type: PanelSpec['kind'];
  readonly title: string;
  readonly description: string;
  readonly datasource: typeof DATASOURCE;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly targets: ReadonlyArray<{ readonly refId: string; readonly datasource: typeof DATASOURCE; readonly expr: string; readonly legendFormat: string; readonly range: boolean; readonly instant: boolean }>;
  readonly fieldConfig: { readonly defaults: Record<string, unknown>; readonly overrides: readonly unknown[] };
  readonly options: Record<string, unknown>;
}

/** A dashboard as Grafana's sidecar loads it from a ConfigMap. */
export interface GrafanaDashboard {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly editable: boolean;
  readonly graphTooltip: number;
  readonly refresh: string;
  readonly schemaVersion: number;
  readonly time: { readonly from: string; readonly to: string };
  readonly timezone: string;
  readonly templating: { readonly list: readonly unknown[] };
  readonly annotations: { readonly list: readonly unknown[] };
  readonly panels: readonly Panel[];
}

// Stats are short tiles in a row; graphs get room for their legend.
const HEIGHT = { stat: 4, gauge: 4, timeseries: 8 } as const;
const COLUMNS = 24;

/**
 * A dashboard from panel specs, placed left to right and wrapped at 24 columns, with ids in order.
 * The uid is fixed so that links and bookmarks survive a re-sync.
 */
export function dashboard(props: { uid: string; title: string; description: string; tags: readonly string[]; panels: readonly PanelSpec[] }): GrafanaDashboard {
  return {
    uid: props.uid,
    title: props.title,
    description: props.description,
    tags: ['driftless', ...props.tags],
    // Changes are made in Git; an edit in the UI would be overwritten by the next sync anyway.
    editable: false,
    graphTooltip: 1,
    refresh: '1m',
    schemaVersion: 39,
    time: { from: 'now-6h', to: 'now' },
    timezone: 'utc',
    templating: {
      list: [{ name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, hide: 0, refresh: 1, regex: '', options: [] }],
    },
    annotations: { list: [] },
    panels: layout(props.panels),
  };
}

function layout(specs: readonly PanelSpec[]): Panel[] {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return specs.map((spec, index) => {
    const w = Math.min(spec.width ?? 8, COLUMNS);
    const h = HEIGHT[spec.kind];
    if (x + w > COLUMNS) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const gridPos = { x, y, w, h };
    x += w;
    rowHeight = Math.max(rowHeight, h);
    return panel(index + 1, spec, gridPos);
  });
}

function panel(id: number, spec: PanelSpec, gridPos: Panel['gridPos']): Panel {
  const targets = spec.queries.map((query, index) => ({
    refId: String.fromCharCode(65 + index),
    datasource: DATASOURCE,
    expr: query.expr,
    legendFormat: query.legend ?? '__auto',
    range: spec.kind === 'timeseries',
    instant: spec.kind !== 'timeseries',
  }));
  const base = { id, type: spec.kind, title: spec.title, description: spec.description, datasource: DATASOURCE, gridPos, targets };
  if (spec.kind === 'timeseries') {
    return {
      ...base,
      fieldConfig: {
        defaults: { unit: spec.unit, min: 0, custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never', spanNulls: false } },
        overrides: [],
      },
      options: { legend: { displayMode: 'table', placement: 'bottom', showLegend: true, calcs: ['lastNotNull', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' } },
    };
  }
  const thresholds = spec.thresholds ?? { critical: 1 };
  const steps =
    thresholds === 'none'
      ? [{ color: 'blue', value: null }]
      : [
          { color: 'green', value: null },
          ...(thresholds.warning === undefined ? [] : [{ color: 'orange', value: thresholds.warning }]),
          { color: 'red', value: thresholds.critical },
        ];
  const reduceOptions = { calcs: ['lastNotNull'], fields: '', values: false };
  return {
    ...base,
    fieldConfig: {
      defaults: { unit: spec.unit, color: { mode: 'thresholds' }, thresholds: { mode: 'absolute', steps }, ...(spec.unit === 'percentunit' ? { min: 0, max: 1 } : {}) },
      overrides: [],
    },
    options:
      spec.kind === 'stat'
        ? { reduceOptions, colorMode: 'background', graphMode: 'none', justifyMode: 'auto', orientation: 'auto', textMode: 'auto' }
        : { reduceOptions, showThresholdLabels: false, showThresholdMarkers: true },
  };
}
