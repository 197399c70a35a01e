// The API-version map of a run: one row per API key, one column per target, each cell the
// min–max versions that target's ApiVersions answer gave (from the api-versions family's cells).
// The reference is the `kafka` target (Apache Kafka): a range narrower than its range is
// highlighted, an API it serves and a target does not is marked missing.
import { CORE_APIS, apiName, type ApiRange } from '../protocol/api-versions.js';
import type { RunResults } from './model.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Each target's ApiVersions answer, from the first cell of the run that carried one. */
export function apiVersionsByTarget(run: RunResults): Map<string, ApiRange[]> {
  const out = new Map<string, ApiRange[]>();
  for (const c of run.cells) if (c.apiVersions && !out.has(c.target)) out.set(c.target, c.apiVersions);
  return out;
}

export function renderApiVersionsTable(run: RunResults, reference = 'kafka'): string {
  const byTarget = apiVersionsByTarget(run);
  if (!byTarget.size) return '';
  const targets = [...byTarget.keys()].sort((a, b) => (a === reference ? -1 : b === reference ? 1 : a.localeCompare(b)));
  const ref = new Map((byTarget.get(reference) ?? []).map((a) => [a.key, a]));
  const keys = [...new Set([...byTarget.values()].flatMap((apis) => apis.map((a) => a.key)))].sort((a, b) => a - b);
  const rows = keys.map((k) => {
    const r = ref.get(k);
    const cells = targets.map((t) => {
      const a = byTarget.get(t)!.find((x) => x.key === k);
      if (!a) return `<td class="api missing" data-api="${k}" data-target="${esc(t)}">${r ? 'missing' : '—'}</td>`;
      const narrower = t !== reference && r !== undefined && (a.min > r.min || a.max < r.max);
      return `<td class="api${narrower ? ' narrower' : ''}" data-api="${k}" data-target="${esc(t)}">${a.min}–${a.max}</td>`;
    }).join('');
    return `<tr><th scope="row">${esc(apiName(k))} (${k})${CORE_APIS[k] ? ' <small>needed</small>' : ''}</th>${cells}</tr>`;
  }).join('\n');
  return `<h2>API versions per target</h2>
<p>Each target's ApiVersions answer (min–max per API key). ${byTarget.has(reference) ? `Shaded: narrower than ${esc(reference)}'s range; "missing": ${esc(reference)} serves it, the target does not.` : ''} "needed": an API the seed's clients cannot do without (the api-versions family checks each client against it).</p>
<table class="matrix apiversions"><thead><tr><th>API</th>${targets.map((t) => `<th>${esc(t)}</th>`).join('')}</tr></thead>
<tbody>${rows}</tbody></table>`;
}
