// The compatibility matrix as markdown, for CI logs and job summaries: per target, the count of
// cells in each status, then every cell that did not pass with its reason and re-run command.
import type { CellStatus, RunResults } from './model.js';

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
  return lines.join('\n') + '\n';
}
