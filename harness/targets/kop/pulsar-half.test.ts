// The KoP NAR is not served here, so the embedded KoP target's Kafka half cannot run; its
// Pulsar half can and must: token authentication, authorization, tenant/fabric namespaces,
// clean stop. verify-pulsar.ts checks exactly that against a real Pulsar standalone.
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../util/paths.js';
import { kopAvailability } from './kop-target.js';

describe('embedded KoP target', () => {
  it('decides within seconds whether the KoP NAR can be had, and says why not', async () => {
    const t0 = Date.now();
    const a = await kopAvailability({ refresh: true });
    expect(Date.now() - t0).toBeLessThan(10_000);
    if (!a.available) expect(a.reason).toMatch(/^not run: /);
  });

  it('runs its Pulsar half for real: token auth, authorization, namespaces, clean stop (verify-pulsar.ts)', async () => {
    const r = await execa('npx', ['tsx', 'harness/targets/kop/verify-pulsar.ts'], {
      cwd: projectRoot, reject: false, timeout: 8 * 60_000, all: true, env: { npm_config_loglevel: 'error' },
    });
    expect(r.all, r.all).toMatch(/verify-pulsar: \d+ passed, 0 failed/);
    expect(r.exitCode).toBe(0);
  }, 10 * 60_000);
});
