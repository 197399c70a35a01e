// The compatibility matrix as one self-contained HTML page: scenarios down, clients across,
// one table per target; each cell's colour is its status and links to its details.
import type { CellResult, CellStatus, RunResults } from './model.js';
import { renderApiVersionsTable } from './api-versions-table.js';
import { renderTimingCharts } from './charts.js';
import { fmtMs } from './timings.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const STATUS_COLOURS: Record<CellStatus, string> = {
  pass: '#2e7d32', fail: '#c62828', 'known-failure': '#ef6c00', 'unexpected-pass': '#6a1b9a',
  'not-applicable': '#9e9e9e', 'not-run': '#607d8b', flaky: '#f9a825', skipped: '#bdbdbd',
};

function cellId(c: CellResult): string {
  return `cell-${c.target}-${c.client}-${c.scenarioId}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** The run's timing breakdown (section#timings): preparation per target and client, families, slowest cells. */
export function renderTimings(run: RunResults): string {
  const t = run.timings;
  if (!t) return '<section id="timings"><h2>Where the time went</h2><p class="reason">No timing breakdown in this results model.</p></section>';
  const steps = (ss: { step: string; ms: number }[]) => ss.map((s) => `${esc(s.step)} ${fmtMs(s.ms)}`).join('<br>') || '—';
  const table = (kind: string, head: string[], rows: string[][]) => `<table class="timings" data-kind="${kind}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>
<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n')}</tbody></table>`;
  return `<section id="timings"><h2>Where the time went</h2><p>Run wall time: <span class="wall">${fmtMs(t.wallMs)}</span>.</p>
${renderTimingCharts(t)}
<h3>Targets: broker builds and starts</h3>
${table('targets', ['target', 'preparation', 'steps', 'cells', 'cells wall', 'cells summed'], t.targets.map((x) => [esc(x.id), fmtMs(x.prepMs), steps(x.steps), String(x.cells), fmtMs(x.cellsWallMs), fmtMs(x.cellsSumMs)]))}
<h3>Clients: driver and runtime preparation (all workers)</h3>
${table('clients', ['client', 'preparation', 'spawns', 'slowest spawn', 'steps'], t.clients.map((c) => [esc(c.id), fmtMs(c.prepMs), String(c.spawns), fmtMs(c.maxSpawnMs), steps(c.steps)]))}
<h3>Families: wall time</h3>
${table('families', ['family', 'cells', 'wall', 'summed'], t.families.map((f) => [esc(f.family), String(f.cells), fmtMs(f.wallMs), fmtMs(f.sumMs)]))}
<h3>The ${t.slowest.length} slowest cells</h3>
${table('slowest', ['cell', 'duration', 'waited for'], t.slowest.map((c) => [`${esc(c.target)} × ${esc(c.client)} × ${esc(c.scenarioId)} <small>(${esc(c.family)})</small>`, fmtMs(c.durationMs), c.waitedFor.map(esc).join('<br>') || '—']))}
</section>`;
}

/** A cell's recorded retries or duplicates, as a list under its details. */
function noted(kind: string, what: string, items: string[] | undefined): string {
  return items?.length ? `<div class="${kind}"><p>${esc(what)} (${items.length}):</p><ul>${items.map((i) => `<li>${esc(i)}</li>`).join('')}</ul></div>` : '';
}

export function renderHtml(run: RunResults): string {
  const targets = [...new Set(run.cells.map((c) => c.target))];
  const counts = new Map<CellStatus, number>();
  for (const c of run.cells) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  const summary = [...counts.entries()].map(([s, n]) =>
    `<span class="badge" style="background:${STATUS_COLOURS[s]}">${esc(s)}: ${n}</span>`).join(' ');
  const cellTd = (c: CellResult | undefined) => c
    ? `<td class="cell" data-status="${c.status}" style="background:${STATUS_COLOURS[c.status]}"><a href="#${cellId(c)}" title="${esc(c.message ?? c.status)}">${esc(c.status)}${c.retries?.length ? ` ↻${c.retries.length}` : ''}</a></td>`
    : '<td class="cell empty">—</td>';
  const tables = targets.map((t) => {
    const all = run.cells.filter((c) => c.target === t);
    const single = all.filter((c) => !c.client.includes('→'));
    const pairs = all.filter((c) => c.client.includes('→'));
    const info = run.targets.find((x) => x.id === t);
    const clients = [...new Map(single.map((c) => [c.client, c.clientVersion ?? ''])).entries()];
    // Rows grouped by family (families and scenarios in the order they first ran): parallel
    // workers interleave families, a reader looks for one family's rows together.
    const familyOf = new Map(single.map((c) => [c.scenarioId, c.family]));
    const families = [...new Set(single.map((c) => c.family))];
    const scenarios = [...new Set(single.map((c) => c.scenarioId))]
      .map((id, i) => ({ id, i, f: families.indexOf(familyOf.get(id)!) }))
      .sort((a, b) => a.f - b.f || a.i - b.i).map((x) => x.id);
    const rows = scenarios.map((s) => `<tr><th scope="row">${esc(s)}</th>${clients.map(([client]) =>
      cellTd(single.find((x) => x.scenarioId === s && x.client === client))).join('')}</tr>`).join('\n');
    const main = single.length ? `<table class="matrix" data-target="${esc(t)}"><thead><tr><th>scenario</th>${clients.map(([c, v]) => `<th>${esc(c)}<br><small>${esc(v)}</small></th>`).join('')}</tr></thead>
<tbody>${rows}</tbody></table>` : '';
    // Pair scenarios (producer → consumer): one grid per scenario, producers down, consumers across.
    const grids = [...new Set(pairs.map((c) => c.scenarioId))].map((s) => {
      const mine = pairs.filter((c) => c.scenarioId === s);
      const producers = [...new Set(mine.map((c) => c.client.split('→')[0]!))];
      const consumers = [...new Set(mine.map((c) => c.client.split('→')[1]!))];
      return `<h3>${esc(s)}: producer ↓ × consumer →</h3><table class="matrix pairs" data-target="${esc(t)}" data-scenario="${esc(s)}"><thead><tr><th>producer \\ consumer</th>${consumers.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead>
<tbody>${producers.map((p) => `<tr><th scope="row">${esc(p)}</th>${consumers.map((c) => cellTd(mine.find((x) => x.client === `${p}→${c}`))).join('')}</tr>`).join('\n')}</tbody></table>`;
    }).join('\n');
    const header = `<h2>Target: ${esc(t)}</h2>${info?.description ? `<p>${esc(info.description)}</p>` : ''}${info?.reason ? `<p class="reason">${esc(info.reason)}</p>` : ''}${(info?.notes ?? []).map((n) => `<p class="note">⚠ ${esc(n)}</p>`).join('')}`;
    // A target that ran nothing keeps its cells, folded away behind its reason.
    const body = all.every((c) => c.status === 'not-run')
      ? `<details><summary>${all.length} cells, all not run</summary>${main}${grids}</details>`
      : `${main}${grids}`;
    return `<section>${header}${body}</section>`;
  }).join('\n');
  const details = run.cells.map((c) => `<details id="${cellId(c)}"><summary><b>${esc(c.status)}</b> ${esc(c.target)} × ${esc(c.client)} × ${esc(c.scenarioId)} (${c.durationMs} ms)</summary>
<p>${esc(c.title)}</p>${c.canonicalError ? `<p>canonical error: <code>${esc(c.canonicalError)}</code></p>` : ''}${c.message ? `<pre>${esc(c.message)}</pre>` : ''}${noted('retries', 'bounded retries (of retriable errors, or of a try the machine was suspended in)', c.retries)}${noted('duplicates', 'duplicates allowed (no idempotence) and seen', c.duplicates)}${noted('measurements', 'measured', c.measurements)}
<p>re-run: <code>${esc(c.rerun)}</code></p></details>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kop-conformance: compatibility matrix</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table.matrix,table.timings{border-collapse:collapse;margin-bottom:1.5em}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:14px}
td.cell a{color:#fff;text-decoration:none;display:block}
.badge{color:#fff;padding:2px 8px;border-radius:8px;font-size:13px}
.reason{color:#555;font-style:italic}
.note{color:#8a4b00;font-weight:600}
td.api.narrower{background:#ffe0b2}
td.api.missing{background:#ffcdd2}
pre{white-space:pre-wrap;background:#f5f5f5;padding:6px}
.charts{display:flex;flex-wrap:wrap;gap:1em;margin-bottom:1em}
.chart{position:relative;width:560px}
</style></head><body>
<h1>kop-conformance: compatibility matrix</h1>
<p>Run ${esc(run.startedAt)} → ${esc(run.finishedAt)}. ${summary}</p>
${tables}
${renderApiVersionsTable(run)}
${renderTimings(run)}
<h2>Details</h2>
${details}
</body></html>
`;
}
