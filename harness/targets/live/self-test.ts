// Which scenario families the live target's self-test runs (no endpoint configured: it reaches an
// embedded broker through a generated client.properties).

/**
 * The families the live self-test runs: those where the live-target path (configuration in,
 * logins, TLS, topic names, admin and cleanup on a remote endpoint) plays a part. Elsewhere its
 * cells would repeat the backing broker's column verdict for verdict (a quarter of a full run's
 * cell time), so they are skipped with this reason. `KOPC_LIVE_SELFTEST_FAMILIES=all` runs
 * every family; a real endpoint (KOPC_PROPERTIES) always runs every family.
 */
export const LIVE_SELFTEST_FAMILIES = ['sasl-plain', 'ssl', 'produce-consume', 'consumer-groups', 'topics', 'admin', 'isolation', 'live-target', 'api-versions', 'docs-examples', 'regions'];

export function liveSelfTestFamilies(env: NodeJS.ProcessEnv = process.env): 'all' | string[] {
  const v = env.KOPC_LIVE_SELFTEST_FAMILIES?.trim();
  if (!v) return LIVE_SELFTEST_FAMILIES;
  if (v === 'all') return 'all';
  return v.split(',').map((f) => f.trim()).filter(Boolean);
}

export function selfTestFamiliesNote(): string {
  const f = liveSelfTestFamilies();
  return f === 'all'
    ? 'self-test: every family runs (KOPC_LIVE_SELFTEST_FAMILIES=all)'
    : `self-test: only the families where the live-target path plays a part run (${f.join(', ')}); the others repeat the backing broker's column and read skipped (KOPC_LIVE_SELFTEST_FAMILIES=all runs them)`;
}
