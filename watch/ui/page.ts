// The dashboard page: one self-contained HTML document (inline CSS, the inline
// script from client.js, SVG charts drawn by it), so it works with no network.
import { readFileSync } from 'node:fs';

const CLIENT = readFileSync(new URL('./client.js', import.meta.url), 'utf8');

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `
:root { --fg: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #f8fafc; --card: #fff; font: 13px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
body { margin: 0; }
header { display: flex; align-items: baseline; gap: 12px; padding: 10px 20px; background: #111827; color: #f9fafb; }
header h1 { font-size: 16px; margin: 0; font-weight: 600; }
header .project { color: #9ca3af; font-family: ui-monospace, monospace; font-size: 12px; }
header .spacer { flex: 1; }
#live { font-size: 12px; padding: 1px 8px; border-radius: 10px; background: #4b5563; }
#live[data-state="live"] { background: #15803d; }
#live[data-state="live"]::before { content: "● "; }
#updated { color: #9ca3af; font-size: 12px; }
#error { margin: 10px 20px 0; padding: 8px 12px; background: #fef2f2; color: #991b1b; border: 1px solid #fecaca; border-radius: 6px; white-space: pre-wrap; }
main { display: grid; grid-template-columns: minmax(300px, 380px) minmax(0, 1fr); gap: 16px; padding: 16px 20px; align-items: start; }
.side { display: grid; gap: 16px; min-width: 0; }
.wide { grid-column: 1 / -1; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-width: 0; }
h2 { font-size: 14px; margin: 0 0 6px; display: flex; align-items: center; gap: 8px; }
.note { color: var(--muted); margin: 0 0 8px; }
select { font: inherit; }
#runs { list-style: none; margin: 0; padding: 0; max-height: 60vh; overflow-y: auto; }
.run { padding: 6px 4px; border-top: 1px solid var(--line); }
.run label { display: flex; align-items: center; gap: 6px; cursor: pointer; }
.run.muted { color: var(--muted); }
.run.muted label { cursor: default; }
.run .when { color: var(--muted); margin-left: auto; }
.run .took { color: var(--muted); min-width: 48px; text-align: right; }
.run .command { font-family: ui-monospace, monospace; font-size: 12px; margin-left: 44px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.run .stages { color: var(--muted); font-size: 12px; margin-left: 44px; }
.nobox { display: inline-block; width: 13px; margin: 3px; }
.swatch { display: inline-block; width: 16px; height: 0; border-top: 3px solid var(--c); vertical-align: middle; margin-right: 4px; }
.swatch.dashed { border-top-style: dashed; }
.badge { font-size: 11px; padding: 0 6px; border-radius: 8px; background: #e5e7eb; color: #374151; }
.badge.ok { background: #dcfce7; color: #166534; }
.badge.running { background: #dbeafe; color: #1e40af; animation: pulse 1.5s infinite; }
.badge.failed, .badge.killed { background: #fee2e2; color: #991b1b; }
.badge.interrupted { background: #fef3c7; color: #92400e; }
.badge.current { background: #e0e7ff; color: #3730a3; margin-left: 6px; }
@keyframes pulse { 50% { opacity: 0.55; } }
figure.chart { margin: 0; }
figcaption { font-weight: 600; display: flex; flex-wrap: wrap; align-items: center; gap: 4px 14px; margin-bottom: 2px; }
.legend { display: contents; font-weight: normal; }
.legend span { color: var(--fg); }
.legend .style { color: var(--muted); }
#chart-small { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 12px; margin-top: 12px; }
svg text { font-size: 11px; fill: var(--muted); }
svg .axis-title { fill: var(--fg); }
.grid line { stroke: var(--line); }
.curve { fill: none; stroke-width: 2; stroke-linejoin: round; }
.cross { stroke: #9ca3af; stroke-dasharray: 3 3; }
.tip rect { fill: rgba(255, 255, 255, 0.95); stroke: #d1d5db; }
.tip text { font-size: 12px; font-weight: 600; }
.tip .tip-title { fill: var(--fg); }
.empty { color: var(--muted); padding: 40px 0; text-align: center; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-weight: 600; color: var(--muted); font-size: 12px; }
td.param { font-family: ui-monospace, monospace; font-size: 12px; }
td.value { font-variant-numeric: tabular-nums; font-family: ui-monospace, monospace; font-size: 12px; }
td.best { font-weight: 700; color: #166534; }
.scroll { overflow-x: auto; }
.dag-node rect { fill: #f3f4f6; stroke: #9ca3af; stroke-width: 1.5; }
.dag-node .name { font-size: 13px; font-weight: 600; fill: var(--fg); }
.dag-node .detail { font-size: 11px; }
.dag-node .status { font-size: 11px; fill: var(--fg); }
.dag-node.fresh rect { fill: #f0fdf4; stroke: #16a34a; }
.dag-node.restore rect { fill: #ecfeff; stroke: #0891b2; }
.dag-node.stale rect { fill: #fffbeb; stroke: #d97706; }
.dag-node.running rect { fill: #eff6ff; stroke: #2563eb; stroke-width: 2.5; animation: pulse 1.5s infinite; }
.dag-node.failed rect, .dag-node.killed rect { fill: #fef2f2; stroke: #dc2626; }
.edge { fill: none; stroke: #9ca3af; stroke-width: 1.5; }
.dag-legend { display: flex; gap: 14px; color: var(--muted); font-size: 12px; margin-top: 6px; }
.dag-legend i { display: inline-block; width: 10px; height: 10px; border-radius: 3px; border: 1.5px solid; margin-right: 4px; vertical-align: -1px; }
#dag-error { color: #92400e; background: #fffbeb; padding: 6px 10px; border-radius: 6px; white-space: pre-wrap; margin: 0 0 8px; }
`;

export function renderPage(project: string): string {
  const name = escapeHtml(project);
  // client.js is ours, but a "</script" inside it would still end the element early.
  const script = CLIENT.replaceAll('</script', '<\\/script');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${name} · glmflow dashboard</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>glmflow</h1><span class="project">${name}</span><span class="spacer"></span><span id="updated"></span><span id="live" data-state="connecting">connecting…</span></header>
<div id="error" hidden></div>
<main>
  <div class="side">
    <section>
      <h2>Runs <select id="stage" aria-label="stage whose curves are shown"></select></h2>
      <p class="note" id="runs-note"></p>
      <ul id="runs"></ul>
    </section>
    <section>
      <h2>Params that differ</h2>
      <p class="note" id="param-note"></p>
      <div class="scroll"><table id="param-diff"></table></div>
    </section>
  </div>
  <section>
    <div id="chart-main"></div>
    <div id="chart-small"></div>
  </section>
  <section class="wide">
    <h2>Pipeline</h2>
    <p class="note">Each stage as <code>pipeline.ts status</code> sees it, and what its latest run did. Hover a stage for the reasons.</p>
    <p id="dag-error" hidden></p>
    <div class="scroll" id="dag"></div>
    <div class="dag-legend"><span><i style="border-color:#16a34a;background:#f0fdf4"></i>up to date</span><span><i style="border-color:#0891b2;background:#ecfeff"></i>in cache</span><span><i style="border-color:#d97706;background:#fffbeb"></i>stale</span><span><i style="border-color:#2563eb;background:#eff6ff"></i>running</span><span><i style="border-color:#dc2626;background:#fef2f2"></i>failed or killed</span></div>
  </section>
  <section class="wide">
    <h2>Evaluation</h2>
    <p class="note" id="eval-note"></p>
    <div class="scroll"><table id="evaluations"></table></div>
  </section>
</main>
<script>${script}</script>
</body>
</html>
`;
}
