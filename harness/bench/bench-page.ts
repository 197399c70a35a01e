// The bench's HTML page, generated from bench.json alone: ratio table, driver overhead, and plots
// (throughput bars, latency CDFs) drawn by Chart.js, whose minified build is inlined from
// node_modules so the page makes no network request at all.
import { chartJsSource, scriptJson } from '../reporting/charts.js';
import type { BenchReport, RatioRow } from './stats.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const fmt = (x: number | undefined, digits = 0) => (x === undefined ? '–' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const fmtRatio = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(2));

function ratioCell(x: number | undefined, higherIsBetter: boolean): string {
  if (x === undefined) return '<td class="na">–</td>';
  const good = higherIsBetter ? x >= 0.9 : x <= 1.1;
  const bad = higherIsBetter ? x < 0.5 : x > 2;
  return `<td class="${good ? 'good' : bad ? 'bad' : 'mid'}">${fmtRatio(x)}</td>`;
}

function ratioTable(ratios: RatioRow[]): string {
  if (!ratios.length) return '<p class="note">No ratio: the reference Kafka and another target did not both run a client.</p>';
  const rows = ratios.map((r) => `<tr data-client="${esc(r.client)}" data-pair="${esc(r.pair)}"><th>${esc(r.client)}</th><td>${esc(r.pair)}</td>` +
    `${ratioCell(r.produceRecords, true)}${ratioCell(r.consumeRecords, true)}${ratioCell(r.p50, false)}${ratioCell(r.p95, false)}${ratioCell(r.p99, false)}</tr>`);
  return `<table class="ratios"><thead><tr><th>client</th><th>ratio</th><th>produce rec/s</th><th>consume rec/s</th><th>latency p50</th><th>latency p95</th><th>latency p99</th></tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table>` +
    '<p class="note">Throughput ratios above 1 mean faster than Apache Kafka; latency ratios above 1 mean slower.</p>';
}

function rowsTable(report: BenchReport): string {
  const rows = report.rows.map((r) => `<tr data-target="${esc(r.target)}" data-client="${esc(r.client)}"><td>${esc(r.target)}</td><td>${esc(r.client)}${r.clientVersion ? ` <small>${esc(r.clientVersion)}</small>` : ''}</td>` +
    `<td>${fmt(r.produce?.recordsPerSec)}</td><td>${fmt(r.produce?.mbPerSec, 2)}</td><td>${fmt(r.consume?.recordsPerSec)}</td><td>${fmt(r.consume?.mbPerSec, 2)}</td>` +
    `<td>${fmt(r.latency?.p50Ms, 2)}</td><td>${fmt(r.latency?.p95Ms, 2)}</td><td>${fmt(r.latency?.p99Ms, 2)}</td><td>${fmt(r.latency?.maxMs, 2)}</td>` +
    `<td class="err">${r.errors.map((e) => `${esc(e.phase)}: ${esc(e.message.split('\n')[0]!.slice(0, 300))}`).join('<br>')}</td></tr>`);
  return `<table class="rows"><thead><tr><th>target</th><th>client</th><th>produce rec/s</th><th>produce MB/s</th><th>consume rec/s</th><th>consume MB/s</th>` +
    `<th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th><th>errors</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function overhead(report: BenchReport): string {
  const o = report.driverOverhead;
  if (!o) return '<p class="note">Not measured (no Java client or no kafka target in this run).</p>';
  if ('skipped' in o) return `<p class="note">Not measured: ${esc(o.skipped)}</p>`;
  const ok = o.ratio >= o.goal;
  return `<p id="overhead" class="${ok ? 'good' : 'bad'}">Java driver (kafka-clients ${esc(o.clientVersion)}) perf_produce / kafka-producer-perf-test ${esc(o.toolVersion)}: ` +
    `<strong>${o.ratio.toFixed(2)}</strong> (goal ≥ ${o.goal}; ${ok ? 'met' : 'not met'}). ${fmt(o.records)} records × ${o.recordSize} B, acks=${esc(o.acks)}, on the reference Kafka; ` +
    `native ${o.nativeRecordsPerSec.map((x) => fmt(x)).join(', ')} rec/s, driver ${o.driverRecordsPerSec.map((x) => fmt(x)).join(', ')} rec/s (medians compared).</p>`;
}

/** Draws the charts from the embedded data; runs in the page. */
const DRAW = `
(function () {
  var data = JSON.parse(document.getElementById('bench-data').textContent);
  var colors = { kafka: '#4e79a7', kop: '#f28e2b', gdn: '#59a14f' };
  var spare = ['#e15759', '#76b7b2', '#edc948', '#b07aa1'];
  var targets = data.targets.filter(function (t) { return t.state === 'started'; }).map(function (t) { return t.id; });
  function color(t, i) { return colors[t] || spare[i % spare.length]; }
  function row(t, c) { return data.rows.find(function (r) { return r.target === t && r.client === c; }); }
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  var drawn = 0;
  function bars(id, title, pick) {
    new Chart(document.getElementById(id), {
      type: 'bar',
      data: { labels: data.clients, datasets: targets.map(function (t, i) {
        return { label: t, backgroundColor: color(t, i), data: data.clients.map(function (c) { var r = row(t, c); var v = r && pick(r); return v == null ? null : v; }) };
      }) },
      options: { plugins: { title: { display: true, text: title } }, scales: { y: { beginAtZero: true } } },
    });
    drawn++;
  }
  bars('chart-produce', 'Producer throughput (records/s, acks=all)', function (r) { return r.produce && r.produce.recordsPerSec; });
  bars('chart-consume', 'Consumer throughput (records/s)', function (r) { return r.consume && r.consume.recordsPerSec; });
  var box = document.getElementById('cdfs');
  data.clients.forEach(function (c) {
    var sets = targets.map(function (t, i) {
      var r = row(t, c);
      if (!r || !r.latency) return null;
      return { label: t, borderColor: color(t, i), backgroundColor: color(t, i), pointRadius: 0, borderWidth: 2, stepped: true,
        data: [{ x: Math.max(r.latency.cdf[0][0], 0.001), y: 0 }].concat(r.latency.cdf.map(function (p) { return { x: Math.max(p[0], 0.001), y: p[1] }; })) };
    }).filter(Boolean);
    if (!sets.length) return;
    var wrap = document.createElement('div');
    wrap.className = 'chart';
    var canvas = document.createElement('canvas');
    canvas.id = 'cdf-' + c;
    canvas.setAttribute('data-client', c);
    wrap.appendChild(canvas);
    box.appendChild(wrap);
    new Chart(canvas, {
      type: 'line', data: { datasets: sets },
      options: { parsing: false, plugins: { title: { display: true, text: 'End-to-end latency CDF: ' + c + ' at ' + data.settings.rate + ' records/s' } },
        scales: { x: { type: 'logarithmic', title: { display: true, text: 'latency (ms, log scale)' } }, y: { min: 0, max: 1, title: { display: true, text: 'fraction of records' } } } },
    });
    drawn++;
  });
  document.body.setAttribute('data-charts', String(drawn));
})();
`;

export function renderBenchPage(report: BenchReport): string {
  const s = report.settings;
  const data = scriptJson(report);
  const targets = report.targets.map((t) => `<li><strong>${esc(t.id)}</strong>: ${esc(t.state === 'started' ? t.description ?? 'started' : t.reason ?? t.state)}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kop-conformance bench</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th:first-child, td:first-child, thead th { text-align: left; }
td.good, p.good { background: #e3f4e1; } td.mid { background: #fdf3d6; } td.bad, p.bad { background: #f9dcdc; } td.na { color: #999; }
td.err { text-align: left; color: #a00; max-width: 40em; }
.note { color: #555; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; }
.chart { position: relative; width: 560px; height: 320px; }
code { background: #f4f4f4; padding: 0 .3em; }
</style></head><body>
<h1>kop-conformance bench</h1>
<p>${esc(report.startedAt)} → ${esc(report.finishedAt)}${report.interrupted ? ' <strong>(interrupted)</strong>' : ''}; command: <code>${esc(report.command)}</code></p>
<p>${fmt(s.records)} records × ${s.size} B per throughput run, acks=${s.acks}, ${s.partitions} partition, ${esc(s.protocol)}; latency at ${fmt(s.rate)} records/s for ${(s.durationMs / 1000).toFixed(1)} s.
Machine: ${report.machine.cpus} cores, load ${report.machine.loadAvgStart.map((x) => x.toFixed(1)).join(' / ')} at the start, ${report.machine.loadAvgEnd.map((x) => x.toFixed(1)).join(' / ')} at the end; ${esc(report.machine.node)}.
One broker per target, on loopback, on the same machine as the clients.</p>
<ul>${targets}</ul>
<h2>Each endpoint next to Apache Kafka, per client</h2>
${ratioTable(report.ratios)}
<h2>Driver overhead</h2>
${overhead(report)}
<h2>Plots</h2>
<div class="charts">
<div class="chart"><canvas id="chart-produce"></canvas></div>
<div class="chart"><canvas id="chart-consume"></canvas></div>
</div>
<div class="charts" id="cdfs"></div>
<h2>Figures</h2>
${rowsTable(report)}
<script type="application/json" id="bench-data">${data}</script>
<script>${chartJsSource()}</script>
<script>${DRAW}</script>
</body></html>
`;
}
