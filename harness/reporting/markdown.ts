// The compatibility matrix as markdown, for CI logs and job summaries: per target, the count of
// cells in each status, then every cell that did not pass with its reason and re-run command.
import type { CellStatus, RunResults } from './model.js';
import { fmtMs } from './timings.js';

const ORDER: CellStatus[] = ['pass', 'fail', 'unexpected-pass', 'known-failure', 'flaky', 'not-applicable', 'not-run', 'skipped'];

export function renderMarkdown(run: RunResults): string {
  const lines = [`# kop-conformance: ${run.startedAt} → ${run.finishedAt}`, ''];
  const targets = [...new Set(run.cells.map((c) => c.target))];
  lines.push(`| target | ${ORDER.join(' | ')} |`, `| --- | ${ORDER.map(() => '---:').join(' | ')} |`);
  for (const t of targets) {
    const cells = run.cells.filter((c) => c.target === t);
    lines.push(`| ${t} | ${ORDER.map((s) => cells.filter((c) => c.status === s).length).join(' | ')} |`);
  }
  for (const t of run.targets) {
    if (t.reason) lines.push('', `- **${t.id}**: ${t.reason}`);
    for (const n of t.notes ?? []) lines.push('', `- **${t.id}**: ⚠ ${n}`);
  }
  const bad = run.cells.filter((c) => c.status === 'fail' || c.status === 'unexpected-pass' || c.status === 'flaky');
  if (bad.length) {
    lines.push('', '## Needs attention', '');
    for (const c of bad) {
      lines.push(`- **${c.status}** ${c.target} × ${c.client} × \`${c.scenarioId}\`${c.canonicalError ? ` (${c.canonicalError})` : ''}: ${(c.message ?? '').split('\n')[0]!.slice(0, 300)}`);
      lines.push(`  - re-run: \`${c.rerun}\``);
    }
  }
  lines.push('', ...renderTimingsMarkdown(run));
  return lines.join('\n') + '\n';
}

/** The run's timing breakdown: preparation per target and client, wall time per family, slowest cells. */
export function renderTimingsMarkdown(run: RunResults): string[] {
  const t = run.timings;
  const out = ['## Where the time went', ''];
  if (!t) return [...out, 'No timing breakdown in this results model (written before breakdowns existed).'];
  out.push(`Run wall time: ${fmtMs(t.wallMs)}.`, '');
  out.push('| target | preparation (build + start) | steps | cells | cells wall | cells summed |', '| --- | ---: | --- | ---: | ---: | ---: |');
  for (const x of t.targets) out.push(`| ${x.id} | ${fmtMs(x.prepMs)} | ${x.steps.map((s) => `${s.step} ${fmtMs(s.ms)}`).join('; ') || '—'} | ${x.cells} | ${fmtMs(x.cellsWallMs)} | ${fmtMs(x.cellsSumMs)} |`);
  out.push('', '| client | driver preparation (all workers) | spawns | slowest spawn | steps |', '| --- | ---: | ---: | ---: | --- |');
  for (const c of t.clients) out.push(`| ${c.id} | ${fmtMs(c.prepMs)} | ${c.spawns} | ${fmtMs(c.maxSpawnMs)} | ${c.steps.map((s) => `${s.step} ${fmtMs(s.ms)}`).join('; ')} |`);
  out.push('', '| family | cells | wall | summed |', '| --- | ---: | ---: | ---: |');
  for (const f of t.families) out.push(`| ${f.family} | ${f.cells} | ${fmtMs(f.wallMs)} | ${fmtMs(f.sumMs)} |`);
  out.push('', `### The ${t.slowest.length} slowest cells`, '', '| cell | duration | waited for |', '| --- | ---: | --- |');
  for (const c of t.slowest) out.push(`| ${c.target} × ${c.client} × \`${c.scenarioId}\` (${c.family}) | ${fmtMs(c.durationMs)} | ${c.waitedFor.join('; ').replace(/\|/g, '\\|') || '—'} |`);
  return out;
}
