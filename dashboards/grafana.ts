/**
 * Grafana dashboard JSON from the panel definitions (dashboards/panels). `npm run
 * dashboards:gen` writes one file per dashboard under dashboards/; docker-compose's Grafana
 * provisions them unchanged (dashboards/provisioning).
 *
 * Shapes follow Grafana's dashboard schema (schemaVersion 39) and the ClickHouse plugin's
 * query model (grafana-clickhouse-datasource 4.x, src/types/sql.ts): a target carries
 * `editorType: 'sql'`, `rawSql`, `format` (0 time series, 1 table: sqlds' format options)
 * and `queryType`, with `pluginVersion` >= 4.0.0 so the plugin does not migrate it as a v3
 * query; variable queries use its variable model (`queryType: 'sql'`, `rawSql`).
 */
import { dashboardVariables } from './panels/index.ts';
import type {
  AnnotationDefinition,
  DashboardDefinition,
  FieldSpec,
  PanelDefinition,
  VariableDefinition,
} from './panels/types.ts';

/** The provisioned datasource (dashboards/provisioning/datasources/clickhouse.yaml). */
export const DATASOURCE = { type: 'grafana-clickhouse-datasource', uid: 'playloop-clickhouse' } as const;
/** The plugin version whose query model and macros this code follows. */
export const PLUGIN_VERSION = '4.20.0';
export const SCHEMA_VERSION = 39;
export const DEFAULT_TIME = { from: 'now-15m', to: 'now' } as const;
export const GRAFANA_REFRESH = '10s';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function target(refId: string, sql: string, format: 'timeseries' | 'table'): Json {
  return {
    refId,
    datasource: { ...DATASOURCE },
    editorType: 'sql',
    format: format === 'timeseries' ? 0 : 1,
    queryType: format,
    pluginVersion: PLUGIN_VERSION,
    rawSql: sql,
  };
}

function overrides(fields: readonly FieldSpec[], panel: PanelDefinition): Json[] {
  return fields.map((field) => {
    const properties: Json[] = [{ id: 'displayName', value: field.displayName }];
    if (field.unit !== undefined && field.unit !== panel.unit)
      properties.push({ id: 'unit', value: field.unit });
    return { matcher: { id: 'byName', options: field.name }, properties };
  });
}

function panelJson(panel: PanelDefinition, id: number, gridPos: Json): Json {
  const base = {
    id,
    type: panel.kind,
    title: panel.title,
    description: panel.description,
    datasource: { ...DATASOURCE },
    gridPos,
  };
  const labelled = panel.fields.labels.length > 0;
  if (panel.kind === 'timeseries') {
    const single = panel.fields.values.length === 1;
    const label = panel.fields.labels[0]?.name;
    return {
      ...base,
      ...(panel.minInterval === undefined ? {} : { interval: panel.minInterval }),
      fieldConfig: {
        defaults: {
          unit: panel.unit,
          ...(panel.unit === 'percentunit' ? { min: 0 } : {}),
          // A long-format result becomes one field per label value (sqlds LongToWide);
          // name each line by its label, as the page does.
          ...(labelled && single && label !== undefined
            ? { displayName: `\${__field.labels.${label}}` }
            : {}),
          custom: {
            drawStyle: 'line',
            lineWidth: 1,
            fillOpacity: panel.stacked ? 40 : 10,
            showPoints: 'auto',
            spanNulls: false,
            stacking: { mode: panel.stacked ? 'normal' : 'none', group: 'A' },
          },
        },
        overrides: labelled ? [] : overrides(panel.fields.values, panel),
      },
      options: {
        legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
        tooltip: { mode: 'multi', sort: 'none' },
      },
      targets: [target('A', panel.sql, 'timeseries')],
    };
  }
  if (panel.kind === 'stat') {
    return {
      ...base,
      fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
      options: {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        colorMode: 'value',
        graphMode: 'none',
        justifyMode: 'auto',
        orientation: 'auto',
        textMode: 'value',
      },
      targets: [target('A', panel.sql, 'table')],
    };
  }
  const columns = [
    ...(panel.fields.time === undefined ? [] : [{ name: panel.fields.time, displayName: 'time' }]),
    ...panel.fields.labels,
    ...panel.fields.values,
  ];
  return {
    ...base,
    fieldConfig: { defaults: { unit: panel.unit }, overrides: overrides(columns, panel) },
    options: { showHeader: true, cellHeight: 'sm' },
    targets: [target('A', panel.sql, 'table')],
  };
}

function variableJson(variable: VariableDefinition): Json {
  switch (variable.type) {
    case 'constant':
      return {
        type: 'constant',
        name: variable.name,
        hide: 2,
        query: variable.value,
        current: { text: variable.value, value: variable.value },
        options: [{ text: variable.value, value: variable.value, selected: true }],
        skipUrlSync: false,
      };
    case 'custom': {
      const current = variable.options.find((o) => o.value === variable.default) ?? variable.options[0];
      return {
        type: 'custom',
        name: variable.name,
        label: variable.label,
        hide: 0,
        multi: false,
        includeAll: false,
        query: variable.options.map((o) => `${o.text} : ${o.value}`).join(','),
        current: { text: current?.text ?? '', value: current?.value ?? '' },
        options: variable.options.map((o) => ({ text: o.text, value: o.value, selected: o === current })),
        skipUrlSync: false,
      };
    }
    case 'query':
      return {
        type: 'query',
        name: variable.name,
        label: variable.label,
        datasource: { ...DATASOURCE },
        definition: variable.sql,
        query: { refId: `PlayloopVariable-${variable.name}`, queryType: 'sql', rawSql: variable.sql },
        // 2: refresh on time range change, so the choices follow what the range holds.
        refresh: 2,
        hide: 0,
        multi: true,
        includeAll: true,
        sort: 1,
        regex: '',
        current: { selected: true, text: ['All'], value: ['$__all'] },
        options: [],
        skipUrlSync: false,
      };
  }
}

function annotationJson(annotation: AnnotationDefinition): Json {
  return {
    name: annotation.name,
    datasource: { ...DATASOURCE },
    enable: true,
    hide: false,
    iconColor: annotation.color,
    target: target('Annotations', annotation.sql, 'table'),
  };
}

/** Panels flow left to right in Grafana's 24-column grid; each row starts a new line. */
function layout(dashboard: DashboardDefinition): Json[] {
  const panels: Json[] = [];
  let id = 1;
  let y = 0;
  for (const row of dashboard.rows) {
    panels.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      panels: [],
    });
    y += 1;
    let x = 0;
    let lineHeight = 0;
    for (const panel of row.panels) {
      if (x + panel.width > 24) {
        y += lineHeight;
        x = 0;
        lineHeight = 0;
      }
      panels.push(panelJson(panel, id++, { h: panel.height, w: panel.width, x, y }));
      x += panel.width;
      lineHeight = Math.max(lineHeight, panel.height);
    }
    y += lineHeight;
  }
  return panels;
}

export function grafanaDashboard(dashboard: DashboardDefinition): Json {
  return {
    uid: dashboard.uid,
    title: dashboard.title,
    description: dashboard.description,
    tags: ['playloop'],
    timezone: 'utc',
    editable: false,
    graphTooltip: 1,
    fiscalYearStartMonth: 0,
    liveNow: false,
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    weekStart: '',
    time: { ...DEFAULT_TIME },
    refresh: GRAFANA_REFRESH,
    timepicker: { refresh_intervals: ['5s', '10s', '30s', '1m', '5m'] },
    links: [
      {
        title: 'playloop',
        type: 'dashboards',
        tags: ['playloop'],
        asDropdown: false,
        includeVars: false,
        keepTime: true,
        targetBlank: false,
        icon: 'external link',
        tooltip: '',
        url: '',
      },
    ],
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
        ...dashboard.annotations.map(annotationJson),
      ],
    },
    templating: { list: dashboardVariables(dashboard).map(variableJson) },
    panels: layout(dashboard),
  };
}

/** The file text: 2-space JSON, which is what docker-compose's Grafana reads. */
export function grafanaDashboardText(dashboard: DashboardDefinition): string {
  return `${JSON.stringify(grafanaDashboard(dashboard), null, 2)}\n`;
}
