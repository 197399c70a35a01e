// Charts in the suite's self-contained pages, drawn by Chart.js (chart.js, a dependency of the
// project) whose UMD build is inlined into the page: no CDN, no request of any kind, so a
// report opened from disk or an artefact store draws the same. The tables beside each chart
// hold the same figures, so a reader without JavaScript loses nothing.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { TimingBreakdown } from './timings.js';

let source: string | undefined;

/** Chart.js's minified UMD build, safe to put inside a <script> element. */
export function chartJsSource(): string {
  if (source === undefined) {
    // The package exports only its module entries; the UMD build sits beside them in dist/.
    const file = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');
    source = readFileSync(file, 'utf8').replace(/<\/script/gi, '<\\/script');
  }
  return source;
}

/** JSON for a <script> element (no "</script>" can end it early). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/**
 * Runs in the page (plain JavaScript, kept as text so no build step can rewrite it): draws
 * horizontal bar charts from the embedded specs, then sets `mark` on the body to the number drawn.
 */
const DRAW_BARS = `function (specs, mark) {
  var colours = ['#1565c0', '#ef6c00', '#2e7d32', '#6a1b9a'];
  var drawn = 0;
  specs.forEach(function (s) {
    var canvas = document.getElementById(s.id);
    if (!canvas || !s.labels.length || !window.Chart) return;
    var stacked = s.datasets.some(function (d) { return d.stacked; });
    new window.Chart(canvas, {
      type: 'bar',
      data: { labels: s.labels, datasets: s.datasets.map(function (d, i) { return { label: d.label, data: d.data, backgroundColor: colours[i % colours.length] }; }) },
      options: {
        indexAxis: 'y', animation: false, responsive: true, maintainAspectRatio: false,
        plugins: { title: { display: true, text: s.title } },
        scales: { x: { stacked: stacked, title: { display: true, text: s.unit } }, y: { stacked: stacked, ticks: { autoSkip: false } } }
      }
    });
    drawn++;
  });
  document.body.setAttribute(mark, String(drawn));
}`;

/** The timing breakdown's charts: families (wall vs summed cell time) and targets (preparation, cells). */
export function renderTimingCharts(t: TimingBreakdown): string {
  const s = (ms: number) => Math.round(ms / 100) / 10;
  const specs = [
    {
      id: 'chart-timing-families', title: 'Families: wall time and summed cell time', unit: 'seconds',
      labels: t.families.map((f) => f.family),
      datasets: [{ label: 'wall', data: t.families.map((f) => s(f.wallMs)) }, { label: 'cells summed', data: t.families.map((f) => s(f.sumMs)) }],
    },
    {
      id: 'chart-timing-targets', title: 'Targets: broker build and start, then the cells', unit: 'seconds',
      labels: t.targets.map((x) => x.id),
      datasets: [{ label: 'preparation', data: t.targets.map((x) => s(x.prepMs)), stacked: true }, { label: 'cells wall', data: t.targets.map((x) => s(x.cellsWallMs)), stacked: true }],
    },
  ];
  const height = (n: number, perRow: number) => Math.max(160, 70 + perRow * n);
  return `<div class="charts">
<div class="chart" style="height:${height(t.families.length, 40)}px"><canvas id="chart-timing-families"></canvas></div>
<div class="chart" style="height:${height(t.targets.length, 30)}px"><canvas id="chart-timing-targets"></canvas></div>
</div>
<script>${chartJsSource()}</script>
<script>(${DRAW_BARS})(${scriptJson(specs)}, 'data-timing-charts');</script>`;
}
