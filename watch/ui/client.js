// The dashboard page's script, inlined into the page by page.ts (no build step,
// no network: the machine running it may have no internet). Every value from
// the project reaches the DOM through textContent or setAttribute, never as HTML.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#db2777', '#65a30d', '#4b5563', '#ca8a04'];
const CURVE_OUTCOMES = new Set(['running', 'ran', 'failed', 'killed']);
const CHART_TITLES = { loss: 'Loss', learning_rate: 'Learning rate', grad_norm: 'Gradient norm', tokens_per_s: 'Throughput (tokens/s)' };
/** Plotted against step already; as a curve of its own it says nothing. */
const HIDDEN_CURVES = new Set(['train/epoch']);

const state = {
  runs: [],
  curveStages: [],
  stage: '',
  /** runId → colour, in the order runs were ticked */
  selected: new Map(),
  /** The selection follows the newest run until someone ticks a box. */
  touched: false,
  /** `${runId}/${stage}` → Map(`${series}/${name}` → Map(step → value)) */
  curves: new Map(),
};

// ---- small DOM helpers ----------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  setAttrs(node, attrs);
  node.append(...children);
  return node;
}

function setAttrs(node, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, String(value));
  }
}

const $ = (id) => document.getElementById(id);

async function getJson(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

const formatTime = (ms) => new Date(ms).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

function formatNumber(v) {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
  if (a >= 100) return v.toFixed(0);
  return String(Number(v.toPrecision(4)));
}

// ---- state from the URL (so a view can be reloaded or shared) --------------

function readHash() {
  const q = new URLSearchParams(location.hash.slice(1));
  state.stage = q.get('stage') ?? '';
  const runs = (q.get('runs') ?? '').split(',').filter(Boolean).map(Number);
  if (runs.length) {
    state.touched = true;
    for (const id of runs) select(id);
  }
}

function writeHash() {
  const q = new URLSearchParams({ stage: state.stage, runs: [...state.selected.keys()].join(',') });
  history.replaceState(null, '', `#${q}`);
}

function select(runId) {
  if (state.selected.has(runId)) return;
  const used = new Set(state.selected.values());
  state.selected.set(runId, PALETTE.find((c) => !used.has(c)) ?? PALETTE[runId % PALETTE.length]);
}

// ---- loading ---------------------------------------------------------------

/** Runs whose attempt at the chosen stage may have logged curves, newest first. */
function curveRuns() {
  return state.runs.filter((run) => run.stages.some((st) => st.stage === state.stage && CURVE_OUTCOMES.has(st.outcome)));
}

function followNewest() {
  if (state.touched) return;
  const newest = curveRuns()[0];
  state.selected.clear();
  if (newest) select(newest.id);
}

async function loadAll() {
  const overview = await getJson('/api/overview');
  state.runs = overview.runs;
  state.curveStages = overview.curveStages;
  if (!state.curveStages.includes(state.stage)) state.stage = state.curveStages.includes('train') ? 'train' : (state.curveStages[0] ?? '');
  // The stream was (re)opened: anything cached may have missed points meanwhile.
  state.curves.clear();
  followNewest();
  renderRuns();
  await Promise.all([loadCurves(), loadDag(), loadEvaluations(), loadParams()]);
}

async function loadCurves() {
  const missing = [...state.selected.keys()].filter((id) => !state.curves.has(`${id}/${state.stage}`));
  await Promise.all(
    missing.map(async (id) => {
      const curves = await getJson(`/api/curves?run=${id}&stage=${encodeURIComponent(state.stage)}`);
      const map = new Map(curves.map((c) => [`${c.series}/${c.name}`, new Map(c.steps.map((step, i) => [step, c.values[i]]))]));
      state.curves.set(`${id}/${state.stage}`, map);
    }),
  );
  renderCharts();
}

async function loadParams() {
  const ids = [...state.selected.keys()];
  const table = $('param-diff');
  table.replaceChildren();
  if (ids.length < 2) {
    $('param-note').textContent = 'Tick two or more runs to see the params they differ in.';
    return;
  }
  const diff = await getJson(`/api/params?runs=${ids.join(',')}`);
  $('param-note').textContent = diff.rows.length ? 'Values these runs ran with; blank: the run reused that stage from the cache.' : 'These runs ran with the same params.';
  if (!diff.rows.length) return;
  table.append(
    h('thead', {}, h('tr', {}, h('th', {}, 'param'), ...diff.runs.map((id) => h('th', {}, swatch(state.selected.get(id)), `#${id}`)))),
    h('tbody', {}, ...diff.rows.map((row) => h('tr', {}, h('td', { class: 'param' }, row.param), ...row.values.map((v) => h('td', { class: 'value' }, v ?? ''))))),
  );
}

async function loadDag() {
  renderDag(await getJson('/api/dag'));
}

async function loadEvaluations() {
  renderEvaluations(await getJson('/api/evaluations'));
}

function refresh(...loaders) {
  Promise.all(loaders.map((load) => load())).catch(showError);
}

function showError(error) {
  $('error').textContent = String(error.message ?? error);
  $('error').hidden = false;
}

// ---- live updates ----------------------------------------------------------

function connect() {
  const events = new EventSource('/api/events');
  const live = $('live');
  events.addEventListener('open', () => {
    live.dataset.state = 'live';
    live.textContent = 'live';
    $('error').hidden = true;
    refresh(loadAll);
  });
  events.addEventListener('error', () => {
    live.dataset.state = 'down';
    live.textContent = 'reconnecting…';
  });
  events.addEventListener('metrics', (e) => {
    let changed = false;
    for (const p of JSON.parse(e.data)) {
      if (!state.curveStages.includes(p.stage)) {
        state.curveStages.push(p.stage);
        renderStagePicker();
      }
      const curves = state.curves.get(`${p.runId}/${p.stage}`);
      if (!curves) continue;
      const id = `${p.series}/${p.name}`;
      if (!curves.has(id)) curves.set(id, new Map());
      curves.get(id).set(p.step, p.value);
      changed ||= state.selected.has(p.runId) && p.stage === state.stage;
    }
    $('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
    if (changed) renderCharts();
  });
  events.addEventListener('runs', (e) => {
    state.runs = JSON.parse(e.data);
    const before = [...state.selected.keys()].join();
    followNewest();
    renderRuns();
    const reselected = before !== [...state.selected.keys()].join();
    refresh(loadDag, loadEvaluations, ...(reselected ? [loadCurves, loadParams] : []));
  });
}

// ---- runs ------------------------------------------------------------------

function swatch(color, dashed = false) {
  return h('span', { class: dashed ? 'swatch dashed' : 'swatch', style: `--c:${color}` });
}

function renderStagePicker() {
  const picker = $('stage');
  picker.replaceChildren(...state.curveStages.map((st) => h('option', { value: st, selected: st === state.stage }, st)));
  picker.disabled = state.curveStages.length < 2;
  picker.hidden = state.curveStages.length === 0;
}

function renderRuns() {
  renderStagePicker();
  const withCurves = new Set(curveRuns().map((r) => r.id));
  const list = $('runs');
  $('runs-note').textContent = state.runs.length ? `Tick runs to overlay their ${state.stage || 'training'} curves.` : 'No runs yet: start one with npx tsx pipeline.ts run train';
  list.replaceChildren(
    ...state.runs.map((run) => {
      const selectable = withCurves.has(run.id);
      const color = state.selected.get(run.id);
      const ran = run.stages.filter((st) => st.outcome !== 'fresh' && st.outcome !== 'skipped');
      const box = selectable
        ? h('input', { type: 'checkbox', 'data-run': run.id, checked: state.selected.has(run.id), 'aria-label': `compare run ${run.id}`, onchange: () => toggle(run.id) })
        : h('span', { class: 'nobox' });
      return h(
        'li',
        { class: selectable ? 'run' : 'run muted', 'data-run-row': run.id },
        h('label', {}, box, swatch(color ?? 'transparent'), h('b', {}, `#${run.id}`), h('span', { class: `badge ${run.status}` }, run.status), h('span', { class: 'when' }, formatTime(run.startedAt)), h('span', { class: 'took' }, run.took ?? '')),
        h('div', { class: 'command', title: run.command }, run.command),
        h('div', { class: 'stages' }, ran.length ? ran.map((st) => `${st.stage} ${st.outcome === 'ran' ? st.took : st.outcome}`).join(', ') : 'everything was up to date'),
      );
    }),
  );
}

function toggle(runId) {
  state.touched = true;
  if (state.selected.has(runId)) state.selected.delete(runId);
  else select(runId);
  writeHash();
  renderRuns();
  refresh(loadCurves, loadParams);
}

// ---- charts ----------------------------------------------------------------

function niceTicks(lo, hi, count) {
  if (lo === hi) [lo, hi] = [lo - (Math.abs(lo) || 1) * 0.5, hi + (Math.abs(hi) || 1) * 0.5];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((x) => x >= raw);
  const start = Math.floor(lo / step) * step;
  const ticks = [];
  for (let v = start; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks.at(-1) < hi) ticks.push(Number((ticks.at(-1) + step).toPrecision(12)));
  return ticks;
}

/** The curves of the selected runs, grouped into charts: loss (train and validation together), then one per other metric. */
function chartSpecs() {
  const charts = new Map();
  for (const [runId, color] of state.selected) {
    const curves = state.curves.get(`${runId}/${state.stage}`);
    if (!curves) continue;
    for (const [id, points] of curves) {
      if (HIDDEN_CURVES.has(id) || points.size === 0) continue;
      const [series, name] = id.split('/');
      if (!charts.has(name)) charts.set(name, { name, lines: [] });
      const sorted = [...points].sort((a, b) => a[0] - b[0]);
      charts.get(name).lines.push({ runId, series, name, color, dashed: series !== 'train', points: sorted });
    }
  }
  return [...charts.values()].sort((a, b) => (a.name === 'loss' ? -1 : b.name === 'loss' ? 1 : a.name.localeCompare(b.name)));
}

function renderCharts() {
  const specs = chartSpecs();
  const main = $('chart-main');
  const small = $('chart-small');
  main.replaceChildren();
  small.replaceChildren();
  if (!specs.length) {
    const why = !curveRuns().length ? 'No training has logged curves yet: npx tsx pipeline.ts run train' : state.selected.size ? 'No metrics logged yet for the ticked runs; they appear here as training logs them.' : 'Tick a run to see its curves.';
    main.append(h('p', { class: 'empty' }, why));
    return;
  }
  const [first, ...rest] = specs;
  main.append(chart(first, 300));
  small.append(...rest.map((spec) => chart(spec, 180)));
}

function chart(spec, height) {
  const series = [...new Set(spec.lines.map((l) => l.series))];
  const legend = h(
    'div',
    { class: 'legend' },
    ...[...state.selected].filter(([id]) => spec.lines.some((l) => l.runId === id)).map(([id, color]) => h('span', {}, swatch(color), `run #${id}`)),
    ...(series.length > 1 ? series.map((se) => h('span', { class: 'style' }, swatch('#555', se !== 'train'), se === 'eval' ? 'validation' : se)) : []),
  );
  const figure = h('figure', { class: 'chart', 'data-chart': spec.name }, h('figcaption', {}, CHART_TITLES[spec.name] ?? spec.name, legend));
  // Drawn once the figure has a width in the layout.
  requestAnimationFrame(() => figure.append(plot(spec, figure.clientWidth || 600, height)));
  return figure;
}

function plot(spec, width, height) {
  const m = { left: 58, right: 16, top: 10, bottom: 36 };
  const all = spec.lines.flatMap((l) => l.points);
  const xs = niceTicks(Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0])), Math.max(2, Math.floor(width / 110)));
  const ys = niceTicks(Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1])), Math.max(2, Math.floor(height / 50)));
  const [x0, x1, y0, y1] = [xs[0], xs.at(-1), ys[0], ys.at(-1)];
  const sx = (x) => m.left + ((x - x0) / (x1 - x0 || 1)) * (width - m.left - m.right);
  const sy = (y) => height - m.bottom - ((y - y0) / (y1 - y0 || 1)) * (height - m.top - m.bottom);

  const svg = s('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `${spec.name} by step` });
  const grid = s('g', { class: 'grid' });
  for (const x of xs) grid.append(s('line', { x1: sx(x), x2: sx(x), y1: m.top, y2: height - m.bottom }), s('text', { x: sx(x), y: height - m.bottom + 16, 'text-anchor': 'middle' }, formatNumber(x)));
  for (const y of ys) grid.append(s('line', { x1: m.left, x2: width - m.right, y1: sy(y), y2: sy(y) }), s('text', { x: m.left - 6, y: sy(y) + 4, 'text-anchor': 'end' }, formatNumber(y)));
  grid.append(s('text', { class: 'axis-title', x: (m.left + width - m.right) / 2, y: height - 4, 'text-anchor': 'middle' }, 'step'));
  svg.append(grid);

  for (const line of spec.lines) {
    const d = line.points.map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
    const attrs = { class: 'curve', d, stroke: line.color, 'data-run': line.runId, 'data-series': line.series, 'data-name': line.name, 'data-points': line.points.length };
    svg.append(s('path', { ...attrs, 'stroke-dasharray': line.dashed ? '6 4' : null }));
    // Validation is measured rarely: its points are marked so a single one is visible.
    if (line.dashed || line.points.length === 1) for (const [x, y] of line.points) svg.append(s('circle', { cx: sx(x), cy: sy(y), r: 3, fill: line.color }));
  }
  hover(svg, spec, sx, m, height);
  return svg;
}

/** A crosshair and the values of every line at the step under the pointer. */
function hover(svg, spec, sx, m, height) {
  const cross = s('line', { class: 'cross', y1: m.top, y2: height - m.bottom, visibility: 'hidden' });
  const tip = s('g', { class: 'tip', visibility: 'hidden' });
  svg.append(cross, tip);
  const steps = [...new Set(spec.lines.flatMap((l) => l.points.map((p) => p[0])))].sort((a, b) => a - b);
  svg.addEventListener('mouseleave', () => {
    cross.setAttribute('visibility', 'hidden');
    tip.setAttribute('visibility', 'hidden');
  });
  svg.addEventListener('mousemove', (event) => {
    const px = event.offsetX;
    const step = steps.reduce((best, x) => (Math.abs(sx(x) - px) < Math.abs(sx(best) - px) ? x : best), steps[0]);
    const rows = spec.lines.flatMap((l) => {
      const point = l.points.find((p) => p[0] === step);
      return point ? [{ color: l.color, text: `#${l.runId} ${l.series === 'eval' ? 'validation' : l.series}: ${formatNumber(point[1])}` }] : [];
    });
    cross.setAttribute('x1', sx(step));
    cross.setAttribute('x2', sx(step));
    cross.setAttribute('visibility', 'visible');
    const left = sx(step) + 150 > svg.width.baseVal.value ? sx(step) - 158 : sx(step) + 8;
    tip.replaceChildren(
      s('rect', { x: left, y: m.top, width: 150, height: 20 + rows.length * 16, rx: 4 }),
      s('text', { x: left + 8, y: m.top + 14, class: 'tip-title' }, `step ${step}`),
      ...rows.map((r, i) => s('text', { x: left + 8, y: m.top + 30 + i * 16, style: `fill:${r.color}` }, r.text)),
    );
    tip.setAttribute('visibility', 'visible');
  });
}

// ---- DAG -------------------------------------------------------------------

/** What the box says first: a run in progress or a failure outranks the plan. */
function nodeStatus(node) {
  const last = node.last?.outcome;
  if (last === 'running' || last === 'killed' || (last === 'failed' && node.state !== 'fresh')) return last;
  return node.state;
}

const STATUS_TEXT = { fresh: 'up to date', stale: 'stale: will run', restore: 'in cache: will restore', running: 'running…', failed: 'failed', killed: 'killed', unknown: 'status unknown' };

function lastText(last) {
  if (!last) return 'never ran';
  if (last.outcome === 'ran') return `ran ${last.took} in #${last.runId}`;
  return `${last.outcome} in #${last.runId}`;
}

/** Stages in columns by depth (longest path from a source), top to bottom in pipeline order within one. */
function renderDag(dag) {
  const [W, H, GX, GY] = [132, 56, 30, 26];
  const rank = new Map();
  const pos = new Map();
  const rows = new Map();
  for (const node of dag.nodes) {
    const r = node.upstream.length ? 1 + Math.max(...node.upstream.map((u) => rank.get(u))) : 0;
    const row = rows.get(r) ?? 0;
    rank.set(node.stage, r);
    rows.set(r, row + 1);
    pos.set(node.stage, { x: 4 + r * (W + GX), y: 4 + row * (H + GY) });
  }
  const width = 8 + Math.max(0, ...rank.values()) * (W + GX) + W;
  // Room below the last row for the edges that run along it.
  const height = 8 + Math.max(1, ...rows.values()) * (H + GY) - GY / 2;
  const svg = s('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'pipeline stages and their status' });
  for (const node of dag.nodes) {
    const to = pos.get(node.stage);
    for (const up of node.upstream) {
      const from = pos.get(up);
      const [ax, ay, bx, by] = [from.x + W, from.y + H / 2, to.x, to.y + H / 2];
      // An edge that skips columns runs along the gap below the source's row, not through the stages between.
      const d =
        rank.get(node.stage) - rank.get(up) > 1
          ? `M${ax},${ay} Q${ax + GX / 2},${ay} ${ax + GX / 2},${from.y + H + GY / 2} L${bx - GX / 2},${from.y + H + GY / 2} Q${bx - GX / 2},${by} ${bx},${by}`
          : `M${ax},${ay} C${ax + GX / 2},${ay} ${bx - GX / 2},${by} ${bx},${by}`;
      svg.append(s('path', { class: 'edge', d }));
    }
  }
  for (const node of dag.nodes) {
    const { x, y } = pos.get(node.stage);
    const status = nodeStatus(node);
    svg.append(
      s(
        'g',
        { class: `dag-node ${status}`, 'data-stage': node.stage, 'data-status': status, transform: `translate(${x},${y})` },
        s('title', {}, [`${node.stage}: ${STATUS_TEXT[status]}`, ...node.reasons].join('\n')),
        s('rect', { width: W, height: H, rx: 8 }),
        s('text', { x: 10, y: 18, class: 'name' }, node.stage),
        s('text', { x: 10, y: 34, class: 'status' }, STATUS_TEXT[status]),
        s('text', { x: 10, y: 49, class: 'detail' }, lastText(node.last)),
      ),
    );
  }
  $('dag').replaceChildren(svg);
  $('dag-error').textContent = dag.error ?? '';
  $('dag-error').hidden = !dag.error;
}

// ---- evaluation ------------------------------------------------------------

/** Which way is better, for the metrics where it is clear. */
function better(name) {
  if (/loss|perplexity/.test(name)) return -1;
  if (/rouge|bleu|accuracy|f1/.test(name)) return 1;
  return 0;
}

function renderEvaluations(evaluations) {
  const table = $('evaluations');
  $('eval-note').textContent = evaluations.length ? 'Newest first; bold: the best of each metric; current: what artifacts/ holds now.' : 'No evaluation yet: npx tsx pipeline.ts run score';
  table.hidden = !evaluations.length;
  const names = [...new Set(evaluations.flatMap((e) => Object.keys(e.metrics)))];
  const best = new Map();
  for (const n of evaluations.length > 1 ? names.filter(better) : []) {
    const values = evaluations.map((e) => e.metrics[n]).filter((v) => v !== undefined);
    best.set(n, better(n) > 0 ? Math.max(...values) : Math.min(...values));
  }
  table.replaceChildren(
    h('thead', {}, h('tr', {}, h('th', {}, 'run'), h('th', {}, 'when'), ...names.map((n) => h('th', {}, n)))),
    h(
      'tbody',
      {},
      ...evaluations.map((e) =>
        h(
          'tr',
          { 'data-run': e.runId },
          h('td', {}, `#${e.runId}`, e.latest ? h('span', { class: 'badge current' }, 'current') : null),
          h('td', {}, formatTime(e.startedAt)),
          ...names.map((n) => h('td', { class: best.get(n) === e.metrics[n] ? 'value best' : 'value' }, e.metrics[n] === undefined ? '' : formatNumber(e.metrics[n]))),
        ),
      ),
    ),
  );
}

// ---- start -----------------------------------------------------------------

$('stage').addEventListener('change', (e) => {
  state.stage = e.target.value;
  state.touched = false;
  followNewest();
  writeHash();
  renderRuns();
  refresh(loadCurves, loadParams);
});
let resizeTimer;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(renderCharts, 150);
});
readHash();
connect();
