/// <reference lib="dom" />
// The monitor's page. It gets an update from the monitor process every 100 ms over a WebSocket
// (JSON, protocol.ts) and shows it: counters, a table of addresses, plots (uPlot) of the rows
// clicked, and a log filtered by an OSC address pattern (the server filters; the page pauses and
// clears). What it keeps is bounded: MAX_LOG_LINES lines, MAX_POINTS points per plot, the rows the
// server has (MAX_ROWS). Built by esbuild (assets.ts); no Node imports.
import uPlot from 'uplot';
import type { Counters, LogLine, Request, RowView, Samples, Update } from '../protocol.js';

/** Log lines kept on the page (the oldest go first). */
const MAX_LOG_LINES = 1000;
/** Points kept per plot (the oldest go first), and the longest time window. */
const MAX_POINTS = 20_000;
const MAX_WINDOW_S = 300;
const RECONNECT_MS = 1000;

function $(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`the page lacks #${id}`);
  return e;
}

const status = $('status');
const tbody = $('rows');
const logBox = $('log');
const filterInput = $('filter') as HTMLInputElement;
const pauseButton = $('pause') as HTMLButtonElement;
const windowSelect = $('window') as HTMLSelectElement;
const plotsBox = $('plots');

let ws: WebSocket | undefined;
let updates = 0;

function send(r: Request): void {
  if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(r));
}

// ---- counters

const fmtInt = (n: number): string => n.toLocaleString('en-US');
const fmtBytes = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MiB`;

function setText(id: string, text: string): void {
  const e = $(id);
  if (e.textContent !== text) e.textContent = text;
}

function showCounters(c: Counters): void {
  setText('c-packets', fmtInt(c.packets));
  setText('c-messages', fmtInt(c.messages));
  setText('c-malformed', fmtInt(c.malformed));
  setText('c-dropped', fmtInt(c.dropped));
  setText('c-kernel', c.kernelDropped === null ? '–' : fmtInt(c.kernelDropped));
  setText('c-queue', fmtInt(c.queueDropped));
  setText('c-connections', fmtInt(c.connections));
  setText('c-hangups', `${fmtInt(c.hangups)}/${fmtInt(c.refused)}`);
  setText('c-rows', fmtInt(c.rows));
  setText('c-evicted', fmtInt(c.rowsEvicted));
  setText('c-rss', fmtBytes(c.rss));
  setText('c-heap', fmtBytes(c.heapUsed));
  $('c-malformed-box').classList.toggle('bad', c.malformed > 0);
  $('c-dropped-box').classList.toggle('bad', c.dropped > 0);
  $('c-kernel-box').classList.toggle('bad', (c.kernelDropped ?? 0) > 0);
  const m = c.lastMalformed;
  setText(
    'malformed-last',
    m === null ? '' : `latest malformed: ${m.code} ${m.message} from ${m.source} at ${clock(m.time)}`,
  );
  setText('listening', `listening on ${c.servers.map((s) => s.url).join(', ')}`);
}

// ---- the table

interface TableRow {
  readonly tr: HTMLTableRowElement;
  readonly cells: HTMLTableCellElement[];
  view: RowView;
}

const rows = new Map<string, TableRow>();
/** Paths in table order (sorted), to insert new rows in place. */
let order: string[] = [];

function clock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function fmtRate(r: number): string {
  return r < 10 ? r.toFixed(1) : String(Math.round(r));
}

function fillRow(row: TableRow, v: RowView): void {
  row.view = v;
  const texts = [
    v.path,
    v.typetags,
    v.args,
    `${v.transport} ${v.source}`,
    fmtInt(v.count),
    fmtRate(v.rate),
    clock(v.last),
  ];
  texts.forEach((t, i) => {
    const cell = row.cells[i] as HTMLTableCellElement;
    if (cell.textContent !== t) cell.textContent = t;
  });
  row.tr.dataset.count = String(v.count);
  row.tr.dataset.rate = String(v.rate);
  row.tr.classList.toggle('numeric', v.numeric);
  row.tr.classList.toggle('plotted', plots.has(v.path));
}

function insertRow(v: RowView): void {
  const tr = document.createElement('tr');
  tr.dataset.path = v.path;
  const classes = ['path', 'types', 'args', 'source', 'num count', 'num rate', 'last'];
  const cells = classes.map((c) => {
    const td = document.createElement('td');
    td.className = c;
    tr.appendChild(td);
    return td;
  });
  const row: TableRow = { tr, cells, view: v };
  tr.addEventListener('click', () => {
    if (row.view.numeric) togglePlot(row.view.path);
  });
  fillRow(row, v);
  // binary search for the place in sorted order
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((order[mid] as string) < v.path) lo = mid + 1;
    else hi = mid;
  }
  const next = order[lo];
  order.splice(lo, 0, v.path);
  tbody.insertBefore(tr, next === undefined ? null : (rows.get(next)?.tr ?? null));
  rows.set(v.path, row);
}

function removeRow(path: string): void {
  const row = rows.get(path);
  if (row === undefined) return;
  row.tr.remove();
  rows.delete(path);
  const i = order.indexOf(path);
  if (i >= 0) order.splice(i, 1);
}

function showRows(u: Update): void {
  if (u.full) {
    tbody.replaceChildren();
    rows.clear();
    order = [];
  }
  for (const p of u.removed) removeRow(p);
  for (const v of u.rows) {
    const row = rows.get(v.path);
    if (row === undefined) insertRow(v);
    else fillRow(row, v);
  }
  setText('rows-note', `one row per address, the latest ${u.limits.maxRows} kept; click a numeric row to plot it`);
}

// ---- the log

let paused = false;
let pausedLines = 0;

function showLog(lines: readonly LogLine[], skipped: number): void {
  if (paused) {
    pausedLines += lines.length + skipped;
    setText('log-note', `paused: ${fmtInt(pausedLines)} lines not shown`);
    return;
  }
  if (lines.length === 0 && skipped === 0) return;
  const atBottom = logBox.scrollTop + logBox.clientHeight >= logBox.scrollHeight - 4;
  const frag = document.createDocumentFragment();
  if (skipped > 0) {
    const div = document.createElement('div');
    div.className = 'skipped';
    div.textContent = `… ${fmtInt(skipped)} more lines (at most ${lines.length} are shown per update)`;
    frag.appendChild(div);
  }
  for (const l of lines) {
    const div = document.createElement('div');
    div.className = 'line';
    const t = document.createElement('span');
    t.className = 'transport';
    t.textContent = `${l.transport} `;
    const s = document.createElement('span');
    s.className = 'source';
    s.textContent = `${l.source} `;
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = l.line;
    div.append(t, s, text);
    frag.appendChild(div);
  }
  logBox.appendChild(frag);
  let excess = logBox.childElementCount - MAX_LOG_LINES;
  while (excess-- > 0) logBox.firstElementChild?.remove();
  if (atBottom) logBox.scrollTop = logBox.scrollHeight;
}

pauseButton.addEventListener('click', () => {
  paused = !paused;
  pausedLines = 0;
  pauseButton.textContent = paused ? 'resume' : 'pause';
  setText('log-note', paused ? 'paused' : '');
});
$('clear').addEventListener('click', () => {
  logBox.replaceChildren();
});
filterInput.addEventListener('input', () => send({ type: 'filter', pattern: filterInput.value }));

// ---- plots

interface Plot {
  readonly box: HTMLElement;
  readonly chart: uPlot;
  /** Times (seconds) and one series per argument, in step. */
  t: number[];
  v: (number | null)[][];
  typetags: string;
}

const plots = new Map<string, Plot>();
let plotsDirty = false;
const COLORS = ['#2a6df4', '#e8590c', '#2f9e44', '#ae3ec9', '#f59f00', '#0c8599', '#c2255c', '#5c940d'];

function windowSeconds(): number {
  return Number(windowSelect.value);
}

function makeChart(box: HTMLElement, typetags: string, series: number): uPlot {
  const width = Math.max(200, plotsBox.clientWidth - 8);
  const opts: uPlot.Options = {
    width,
    height: 160,
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: {
        time: true,
        range: (u) => {
          const now = Date.now() / 1000;
          void u;
          return [now - windowSeconds(), now];
        },
      },
      y: { auto: true },
    },
    series: [
      {},
      ...Array.from({ length: series }, (_, i) => ({
        label: `${i}:${typetags[i] ?? '?'}`,
        stroke: COLORS[i % COLORS.length] as string,
        width: 1.5,
        spanGaps: false,
        points: { show: false },
      })),
    ],
  };
  return new uPlot(opts, [[], ...Array.from({ length: series }, () => [])], box);
}

function togglePlot(path: string): void {
  const existing = plots.get(path);
  if (existing !== undefined) {
    existing.chart.destroy();
    existing.box.remove();
    plots.delete(path);
  } else {
    const view = rows.get(path)?.view;
    const box = document.createElement('div');
    box.className = 'plot';
    box.dataset.path = path;
    const head = document.createElement('div');
    head.className = 'plot-head';
    const title = document.createElement('span');
    title.textContent = path;
    const close = document.createElement('button');
    close.type = 'button';
    close.textContent = '✕';
    close.title = 'stop plotting';
    close.addEventListener('click', () => togglePlot(path));
    head.append(title, close);
    const chartBox = document.createElement('div');
    box.append(head, chartBox);
    plotsBox.appendChild(box);
    const typetags = view?.typetags ?? '';
    const n = Math.min(Math.max(typetags.length, 1), 8);
    plots.set(path, { box, chart: makeChart(chartBox, typetags, n), t: [], v: [], typetags });
  }
  for (const [p, row] of rows) row.tr.classList.toggle('plotted', plots.has(p));
  $('plots-empty').hidden = plots.size > 0;
  send({ type: 'watch', paths: [...plots.keys()] });
}

function addSamples(path: string, s: Samples): void {
  const plot = plots.get(path);
  if (plot === undefined) return;
  const k0 = plot.t.length;
  for (const ms of s.t) plot.t.push(ms / 1000);
  const series = Math.max(plot.v.length, s.v.length);
  for (let i = 0; i < series; i++) {
    let into = plot.v[i];
    if (into === undefined) {
      into = new Array<number | null>(k0).fill(null);
      plot.v[i] = into;
    }
    const from = s.v[i];
    for (let k = 0; k < s.t.length; k++) into.push(from?.[k] ?? null);
  }
  // bounded: the newest MAX_POINTS, none older than the longest window
  const oldest = Date.now() / 1000 - MAX_WINDOW_S;
  let drop = Math.max(0, plot.t.length - MAX_POINTS);
  while (drop < plot.t.length && (plot.t[drop] as number) < oldest) drop++;
  if (drop > 0) {
    plot.t.splice(0, drop);
    for (const v of plot.v) v.splice(0, drop);
  }
  if (s.typetags !== plot.typetags && s.typetags.length !== plot.typetags.length) {
    // the number of arguments changed: a chart with the new series
    const box = plot.chart.root.parentElement as HTMLElement;
    plot.chart.destroy();
    plots.set(path, {
      ...plot,
      typetags: s.typetags,
      chart: makeChart(box, s.typetags, Math.min(Math.max(s.typetags.length, 1), 8)),
    });
  }
  plotsDirty = true;
}

function drawPlots(): void {
  if (!plotsDirty) return;
  plotsDirty = false;
  for (const plot of plots.values()) {
    const n = plot.chart.series.length - 1;
    const data: uPlot.AlignedData = [
      plot.t,
      ...Array.from({ length: n }, (_, i) => plot.v[i] ?? new Array<null>(plot.t.length).fill(null)),
    ];
    plot.chart.setData(data);
  }
}

windowSelect.addEventListener('change', () => {
  plotsDirty = true;
});
window.addEventListener('resize', () => {
  for (const p of plots.values()) p.chart.setSize({ width: Math.max(200, plotsBox.clientWidth - 8), height: 160 });
});

// ---- the connection

function onUpdate(u: Update): void {
  updates++;
  setText('c-updates', fmtInt(updates));
  showCounters(u.counters);
  showRows(u);
  showLog(u.log, u.logSkipped);
  for (const [path, s] of Object.entries(u.samples)) addSamples(path, s);
  // the x range follows the clock even when no sample came
  if (plots.size > 0) plotsDirty = true;
  filterInput.dataset.applied = u.filter;
  filterInput.classList.toggle('invalid', u.filterError !== null);
  setText('filter-error', u.filterError ?? '');
  // redraw at most once per frame (updates come at 10 Hz)
  requestAnimationFrame(drawPlots);
}

function connect(): void {
  const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  ws = socket;
  socket.addEventListener('open', () => {
    status.textContent = 'connected';
    status.className = 'connected';
    send({ type: 'filter', pattern: filterInput.value });
    send({ type: 'watch', paths: [...plots.keys()] });
  });
  socket.addEventListener('message', (e) => {
    if (typeof e.data === 'string') onUpdate(JSON.parse(e.data) as Update);
  });
  socket.addEventListener('close', () => {
    status.textContent = 'disconnected: reconnecting…';
    status.className = '';
    setTimeout(connect, RECONNECT_MS);
  });
}

// for tests and the curious (devtools): how many points a plot holds
(globalThis as { aioloMonitor?: unknown }).aioloMonitor = {
  plotPoints: (path: string): number => plots.get(path)?.t.length ?? -1,
};

connect();
