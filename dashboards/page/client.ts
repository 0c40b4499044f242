/**
 * The dashboard page, in the browser: reads the panel definitions from /api/dashboards, runs
 * every panel of the chosen dashboard through /api/panels/:id (the server expands the same
 * SQL the Grafana JSON carries), draws time series with uPlot (loaded by the page from
 * uPlot's own dist file), stats as numbers and tables as tables, and refreshes on its own.
 *
 * `window.__playloopCharts` tells a test (or a curious person) what each panel rendered.
 */
import type UPlot from 'uplot';
import type { PanelDefinition, PanelKind } from '../panels/types.ts';
import { formatValue, type PanelData, toSeries } from './view.ts';

interface ApiVariable {
  readonly name: string;
  readonly type: 'query' | 'custom';
  readonly label: string;
  readonly options?: readonly { readonly text: string; readonly value: string }[];
  readonly default?: string;
}

interface ApiDashboard {
  readonly uid: string;
  readonly slug: string;
  readonly title: string;
  readonly description: string;
  readonly variables: readonly ApiVariable[];
  readonly annotations: readonly { readonly name: string; readonly color: string }[];
  readonly rows: readonly { readonly title: string; readonly panels: readonly PanelDefinition[] }[];
}

interface ApiIndex {
  readonly refreshIntervalMs: number;
  readonly defaultTime: { readonly from: string; readonly to: string };
  readonly dashboards: readonly ApiDashboard[];
}

interface Annotation {
  readonly time: number;
  readonly title: string;
  readonly text: string;
  readonly color: string;
}

/** What one panel shows now. */
export interface ChartStatus {
  readonly dashboard: string;
  readonly kind: PanelKind;
  readonly title: string;
  /** Time series: lines with at least one point. Stat: 1 with a value. Table: columns. */
  readonly series: number;
  /** Time series: non-null points over all lines. Stat: 1 with a value. Table: rows. */
  readonly points: number;
  readonly nonEmpty: boolean;
  /** How many times it was drawn with fresh data. */
  readonly updates: number;
  /** Time series: last point of the first line. Stat: the value. Table: rows. */
  readonly lastValue: number | null;
  readonly error: string | null;
  readonly updatedAt: number;
}

declare global {
  interface Window {
    uPlot: typeof UPlot;
    __playloopCharts: Record<string, ChartStatus>;
    __playloopPage: { dashboard: string; refreshes: number; ready: boolean };
  }
}

const COLORS = [
  '#73bf69',
  '#f2cc0c',
  '#5794f2',
  '#ff9830',
  '#f2495c',
  '#b877d9',
  '#8ab8ff',
  '#96d98d',
  '#ffcb7d',
  '#ca95e5',
];
const GRID_ROW_PX = 36;

const timeText = (ms: number): string => new Date(ms).toISOString().slice(11, 19);

// ---------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------

const params = new URLSearchParams(location.search);
const state = {
  index: undefined as ApiIndex | undefined,
  dashboard: undefined as ApiDashboard | undefined,
  range: params.get('range') ?? 'now-15m',
  refreshMs: 0,
  /** Variable name -> selected values (absent: All). Shared by dashboards that use the name. */
  selections: new Map<string, string[]>(),
  charts: new Map<string, UPlot>(),
  chartKeys: new Map<string, string>(),
  annotations: [] as Annotation[],
  timer: undefined as number | undefined,
  generation: 0,
};

window.__playloopCharts = {};
window.__playloopPage = { dashboard: '', refreshes: 0, ready: false };

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`page has no #${id}`);
  return node as T;
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { cache: 'no-store' });
  const body: unknown = await response.json();
  if (!response.ok) {
    const message =
      typeof body === 'object' && body !== null && 'message' in body
        ? String(body.message)
        : response.statusText;
    throw new Error(message);
  }
  return body as T;
}

function setStatus(id: string, status: Omit<ChartStatus, 'updates' | 'updatedAt'>): void {
  const before = window.__playloopCharts[id];
  window.__playloopCharts[id] = { ...status, updates: (before?.updates ?? 0) + 1, updatedAt: Date.now() };
}

function queryString(extra: Record<string, string> = {}): string {
  const search = new URLSearchParams({ from: state.range, to: 'now', ...extra });
  for (const variable of state.dashboard?.variables ?? []) {
    const selected = state.selections.get(variable.name);
    if (selected === undefined) continue;
    for (const value of selected) search.append(`var-${variable.name}`, value);
  }
  return search.toString();
}

function variableText(name: string): string {
  const variable = state.dashboard?.variables.find((v) => v.name === name);
  if (!variable) return name;
  const value = state.selections.get(name)?.[0] ?? variable.default;
  return variable.options?.find((o) => o.value === value)?.text ?? value ?? 'All';
}

const interpolateTitle = (title: string): string =>
  title.replace(/\$(\w+)/g, (_m, name: string) => variableText(name));

// ---------------------------------------------------------------------------------------
// Panels
// ---------------------------------------------------------------------------------------

function drawAnnotations(u: UPlot): void {
  const { ctx, bbox } = u;
  for (const a of state.annotations) {
    const x = u.valToPos(a.time / 1000, 'x', true);
    if (x < bbox.left || x > bbox.left + bbox.width) continue;
    ctx.save();
    ctx.strokeStyle = a.color;
    ctx.setLineDash([4, 3]);
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(x, bbox.top);
    ctx.lineTo(x, bbox.top + bbox.height);
    ctx.stroke();
    ctx.restore();
  }
}

/** Fits a chart to its panel: the plot takes the height the legend (which may wrap) leaves. */
function fitChart(chart: UPlot, body: HTMLElement): void {
  const legend = chart.root.querySelector<HTMLElement>('.u-legend');
  const height = Math.max(100, body.clientHeight - (legend?.offsetHeight ?? 0) - 6);
  const width = Math.max(200, body.clientWidth);
  if (Math.abs(chart.height - height) > 2 || Math.abs(chart.width - width) > 2)
    chart.setSize({ width, height });
}

function chartSize(body: HTMLElement, panel: PanelDefinition): { width: number; height: number } {
  return { width: Math.max(200, body.clientWidth), height: Math.max(120, panel.height * GRID_ROW_PX - 100) };
}

function renderTimeseries(
  panel: PanelDefinition,
  body: HTMLElement,
  data: PanelData,
  dashboard: string,
): void {
  const set = toSeries(panel, data);
  const aligned: UPlot.AlignedData = [set.xs, ...set.lines];
  const points = set.lines.reduce((n, line) => n + line.filter((v) => v !== null).length, 0);
  const nonEmptyLines = set.lines.filter((line) => line.some((v) => v !== null)).length;
  const first = set.lines[0] ?? [];
  let last: number | null = null;
  for (let i = first.length - 1; i >= 0 && last === null; i--) last = first[i] ?? null;
  const existing = state.charts.get(panel.id);
  if (existing && state.chartKeys.get(panel.id) === set.keys) {
    existing.setData(aligned);
  } else {
    existing?.destroy();
    body.replaceChildren();
    if (set.labels.length === 0) body.append(el('p', { class: 'empty' }, 'No data in the time range'));
    const options: UPlot.Options = {
      ...chartSize(body, panel),
      // UTC, as the Grafana dashboards are.
      tzDate: (ts: number) => window.uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      scales: {
        x: { time: true },
        // Ratios and shares start at 0, as the Grafana panels' min: 0 does.
        ...(panel.unit === 'percentunit'
          ? {
              y: {
                range: (_u: UPlot, _min: number, max: number): [number, number] => [
                  0,
                  max > 0 ? max * 1.1 : 1,
                ],
              },
            }
          : {}),
      },
      axes: [
        {
          stroke: '#8e9196',
          grid: { stroke: '#2c3038', width: 1 },
          ticks: { stroke: '#2c3038', width: 1 },
          // UTC clock times, seconds only when the ticks are closer than a minute.
          values: (_u: UPlot, splits: number[]) => {
            const step = (splits[1] ?? 0) - (splits[0] ?? 0);
            return splits.map((t) => timeText(t * 1000).slice(0, step > 0 && step < 60 ? 8 : 5));
          },
        },
        {
          stroke: '#8e9196',
          size: (_u: UPlot, values: string[] | null) =>
            Math.max(48, ...(values ?? []).map((v) => v.length * 7 + 18)),
          grid: { stroke: '#2c3038', width: 1 },
          ticks: { stroke: '#2c3038', width: 1 },
          values: (_u: UPlot, splits: number[]) => splits.map((v) => formatValue(panel.unit, v)),
        },
      ],
      series: [
        { value: (_u, v) => (v === null ? '–' : timeText(v * 1000)) },
        ...set.labels.map((label, i) => ({
          label,
          stroke: COLORS[i % COLORS.length] as string,
          width: 1.5,
          points: { show: set.xs.length < 3 },
          value: (_u: UPlot, v: number | null) => formatValue(panel.unit, v),
        })),
      ],
      legend: { live: true },
      hooks: { draw: [drawAnnotations] },
    };
    const chart = new window.uPlot(options, aligned, body);
    fitChart(chart, body);
    state.charts.set(panel.id, chart);
    state.chartKeys.set(panel.id, set.keys);
  }
  setStatus(panel.id, {
    dashboard,
    kind: panel.kind,
    title: panel.title,
    series: nonEmptyLines,
    points,
    nonEmpty: points > 0,
    lastValue: last,
    error: null,
  });
}

function renderStat(panel: PanelDefinition, body: HTMLElement, data: PanelData, dashboard: string): void {
  const cell = data.rows[0]?.[0];
  const value = typeof cell === 'number' ? cell : null;
  body.replaceChildren(el('div', { class: 'stat' }, formatValue(panel.unit, value)));
  setStatus(panel.id, {
    dashboard,
    kind: panel.kind,
    title: panel.title,
    series: value === null ? 0 : 1,
    points: value === null ? 0 : 1,
    nonEmpty: value !== null,
    lastValue: value,
    error: null,
  });
}

function renderTable(panel: PanelDefinition, body: HTMLElement, data: PanelData, dashboard: string): void {
  const fields = new Map(
    [...panel.fields.labels, ...panel.fields.values].map((f) => [
      f.name,
      { ...f, unit: f.unit ?? panel.unit },
    ]),
  );
  const table = el('table');
  const head = el('tr');
  for (const c of data.columns) {
    head.append(
      el('th', { class: c.kind === 'number' ? '' : 'text' }, fields.get(c.name)?.displayName ?? c.name),
    );
  }
  table.append(el('thead'), el('tbody'));
  table.tHead?.append(head);
  for (const row of data.rows) {
    const tr = el('tr');
    data.columns.forEach((c, i) => {
      const cell = row[i] ?? null;
      let text: string;
      if (c.kind === 'time') text = typeof cell === 'number' ? timeText(cell) : '–';
      else if (c.kind === 'number')
        text = formatValue(fields.get(c.name)?.unit ?? 'short', typeof cell === 'number' ? cell : null);
      else text = String(cell ?? '');
      tr.append(el('td', { class: c.kind === 'number' ? '' : 'text' }, text));
    });
    table.tBodies[0]?.append(tr);
  }
  body.replaceChildren(
    data.rows.length === 0 ? el('p', { class: 'empty' }, 'No data in the time range') : table,
  );
  setStatus(panel.id, {
    dashboard,
    kind: panel.kind,
    title: panel.title,
    series: data.columns.length,
    points: data.rows.length,
    nonEmpty: data.rows.length > 0,
    lastValue: data.rows.length,
    error: null,
  });
}

async function loadPanel(
  panel: PanelDefinition,
  body: HTMLElement,
  dashboard: string,
  generation: number,
): Promise<void> {
  try {
    const maxDataPoints = String(Math.max(50, Math.min(2000, Math.floor(body.clientWidth))));
    const data = await getJson<PanelData>(
      `/api/panels/${encodeURIComponent(panel.id)}?${queryString({ maxDataPoints })}`,
    );
    if (generation !== state.generation) return;
    if (panel.kind === 'timeseries') renderTimeseries(panel, body, data, dashboard);
    else if (panel.kind === 'stat') renderStat(panel, body, data, dashboard);
    else renderTable(panel, body, data, dashboard);
  } catch (err) {
    if (generation !== state.generation) return;
    const message = err instanceof Error ? err.message : String(err);
    state.charts.get(panel.id)?.destroy();
    state.charts.delete(panel.id);
    body.replaceChildren(el('p', { class: 'error' }, message));
    setStatus(panel.id, {
      dashboard,
      kind: panel.kind,
      title: panel.title,
      series: 0,
      points: 0,
      nonEmpty: false,
      lastValue: null,
      error: message,
    });
  }
}

/** Runs `tasks` with at most `limit` in flight. */
async function pool(tasks: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const task = tasks[next++];
      if (task) await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

async function refresh(): Promise<void> {
  const dashboard = state.dashboard;
  if (!dashboard) return;
  const generation = state.generation;
  if (dashboard.annotations.length > 0) {
    try {
      const { annotations } = await getJson<{ annotations: Annotation[] }>(
        `/api/annotations/${dashboard.slug}?${queryString()}`,
      );
      state.annotations = annotations;
    } catch {
      state.annotations = [];
    }
  } else {
    state.annotations = [];
  }
  const tasks = dashboard.rows.flatMap((row) =>
    row.panels.map((panel) => () => {
      const body = document.querySelector<HTMLElement>(`[data-panel="${panel.id}"] .body`);
      return body ? loadPanel(panel, body, dashboard.slug, generation) : Promise.resolve();
    }),
  );
  await pool(tasks, 3);
  if (generation !== state.generation) return;
  window.__playloopPage.refreshes++;
  window.__playloopPage.ready = true;
  byId('status').textContent = `updated ${timeText(Date.now())} UTC`;
}

function schedule(): void {
  if (state.timer !== undefined) clearTimeout(state.timer);
  state.timer = undefined;
  if (state.refreshMs <= 0) return;
  const generation = state.generation;
  state.timer = window.setTimeout(async () => {
    await refresh();
    if (generation === state.generation) schedule();
  }, state.refreshMs);
}

/** One variable's control, with its choices (a query variable's are read for the current range). */
async function variableControl(dashboard: ApiDashboard, variable: ApiVariable): Promise<HTMLLabelElement> {
  const label = el('label', {}, variable.label);
  const select = el(
    'select',
    variable.type === 'query'
      ? { multiple: '', 'data-variable': variable.name }
      : { 'data-variable': variable.name },
  );
  label.append(select);
  let values: { text: string; value: string }[];
  if (variable.type === 'custom') {
    values = [...(variable.options ?? [])];
  } else {
    select.append(el('option', { value: '$__all' }, 'All'));
    try {
      const answer = await getJson<{ values: string[] }>(
        `/api/variables/${dashboard.slug}/${variable.name}?${queryString()}`,
      );
      values = answer.values.map((v) => ({ text: v, value: v }));
    } catch {
      values = [];
    }
  }
  const selected = state.selections.get(variable.name);
  for (const { text, value } of values) {
    const option = el('option', { value }, text);
    option.selected =
      variable.type === 'custom'
        ? value === (selected?.[0] ?? variable.default)
        : !!selected?.includes(value);
    select.append(option);
  }
  if (variable.type === 'query' && selected === undefined)
    (select.options[0] as HTMLOptionElement).selected = true;
  select.addEventListener('change', () => {
    const chosen = Array.from(select.selectedOptions, (o) => o.value);
    if (chosen.length === 0 || chosen.includes('$__all')) state.selections.delete(variable.name);
    else state.selections.set(variable.name, chosen);
    void show(dashboard.slug, false);
  });
  return label;
}

async function renderVariables(dashboard: ApiDashboard, generation: number): Promise<void> {
  const controls = await Promise.all(dashboard.variables.map((v) => variableControl(dashboard, v)));
  // A later show() may have started meanwhile; only the latest one draws the bar.
  if (generation === state.generation) byId('variables').replaceChildren(...controls);
}

async function show(slug: string, withVariables = true): Promise<void> {
  const index = state.index;
  if (!index) return;
  const dashboard = index.dashboards.find((d) => d.slug === slug) ?? index.dashboards[0];
  if (!dashboard) return;
  const generation = ++state.generation;
  state.dashboard = dashboard;
  window.__playloopPage.dashboard = dashboard.slug;
  window.__playloopPage.ready = false;
  for (const button of Array.from(document.querySelectorAll<HTMLButtonElement>('#tabs button'))) {
    button.setAttribute('aria-selected', String(button.dataset['slug'] === dashboard.slug));
  }
  for (const chart of state.charts.values()) chart.destroy();
  state.charts.clear();
  state.chartKeys.clear();
  window.__playloopCharts = {};
  if (withVariables) await renderVariables(dashboard, generation);
  if (generation !== state.generation) return;
  const main = byId('dashboard');
  main.replaceChildren(el('p', { class: 'description' }, dashboard.description));
  for (const row of dashboard.rows) {
    main.append(el('h2', { class: 'row' }, interpolateTitle(row.title)));
    const grid = el('div', { class: 'grid' });
    for (const panel of row.panels) {
      const card = el('div', { class: 'panel', 'data-panel': panel.id, title: panel.description });
      card.style.gridColumn = `span ${panel.width}`;
      card.style.height = `${panel.height * GRID_ROW_PX}px`;
      card.append(el('h3', {}, interpolateTitle(panel.title)), el('div', { class: 'body' }));
      grid.append(card);
    }
    main.append(grid);
  }
  await refresh();
  schedule();
}

async function start(): Promise<void> {
  const index = await getJson<ApiIndex>('/api/dashboards');
  state.index = index;
  const asked = Number(params.get('refresh') ?? index.refreshIntervalMs);
  state.refreshMs = Number.isFinite(asked) && asked > 0 ? Math.max(1000, asked) : 0;
  const refreshSelect = byId<HTMLSelectElement>('refresh');
  if (!Array.from(refreshSelect.options).some((o) => Number(o.value) === state.refreshMs)) {
    refreshSelect.append(el('option', { value: String(state.refreshMs) }, `${state.refreshMs / 1000}s`));
  }
  refreshSelect.value = String(state.refreshMs);
  refreshSelect.addEventListener('change', () => {
    state.refreshMs = Number(refreshSelect.value);
    schedule();
  });
  const rangeSelect = byId<HTMLSelectElement>('range');
  if (!Array.from(rangeSelect.options).some((o) => o.value === state.range)) {
    rangeSelect.append(el('option', { value: state.range }, state.range));
  }
  rangeSelect.value = state.range;
  rangeSelect.addEventListener('change', () => {
    state.range = rangeSelect.value;
    void show(state.dashboard?.slug ?? '', true);
  });
  const tabs = byId('tabs');
  for (const d of index.dashboards) {
    const button = el('button', { role: 'tab', 'data-slug': d.slug }, d.title.replace(/^playloop · /, ''));
    button.addEventListener('click', () => {
      location.hash = d.slug;
    });
    tabs.append(button);
  }
  window.addEventListener('hashchange', () => void show(location.hash.slice(1)));
  window.addEventListener('resize', () => {
    for (const [id, chart] of state.charts) {
      const body = document.querySelector<HTMLElement>(`[data-panel="${id}"] .body`);
      if (body) fitChart(chart, body);
    }
  });
  await show(location.hash.slice(1));
}

start().catch((err: unknown) => {
  byId('dashboard').replaceChildren(
    el('p', { class: 'error' }, err instanceof Error ? err.message : String(err)),
  );
});
