// No secret is ever printed, logged or written into a report. This runs a slice of the suite
// in its own reports/work directories, rebuilds the secrets that run used (the JWTs are
// deterministic HS256 over the run's key; the store password is in the broker's config), and
// scans every file the run wrote under reports, the broker log and its console output: zero occurrences.
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { defaultTenantFabrics, principalFor, apiKeyFor } from './principals.js';
import { projectRoot } from '../util/paths.js';

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('secrets', () => {
  it('a conformance run writes no token, JWT or store password into its reports or console', async () => {
    const base = mkdtempSync(join(tmpdir(), 'kopc-secrets-'));
    const reports = join(base, 'reports');
    const work = join(base, 'work');
    const run = await execa('npx', ['vitest', 'run', '--project', 'conformance', 'suites/sasl-plain', 'suites/topics/global-local.test.ts'], {
      cwd: projectRoot, reject: false, all: true, timeout: 8 * 60_000,
      env: {
        KOPC_REPORTS_DIR: reports, KOP_CONFORMANCE_WORK: work, KOPC_TARGETS: 'kafka,live',
        KOPC_CLIENTS: 'kafkajs,java-4.4.0,confluent-kafka', npm_config_loglevel: 'error',
      },
    });
    const kafkaDir = readdirSync(work).find((d) => d.startsWith('kafka-'));
    expect(kafkaDir, `no broker work dir in ${work}:\n${run.all?.slice(-2000)}`).toBeDefined();
    const key = readFileSync(join(work, kafkaDir!, 'secret.key'));
    const serverProps = readFileSync(join(work, kafkaDir!, 'server.properties'), 'utf8');
    const storePassword = /ssl\.keystore\.password=(.+)/.exec(serverProps)![1]!.trim();
    const tokens = defaultTenantFabrics.map((tf) => principalFor(key, tf).password);
    const apiKeys = defaultTenantFabrics.map((tf) => apiKeyFor(key, tf));
    const secrets = [storePassword, ...tokens, ...tokens.map((t) => t.slice('token:'.length)), ...apiKeys, key.toString('base64'), key.toString('hex')];

    // Reports, attachments, JUnit, the matrix, and the broker's own log.
    const written = [...filesUnder(reports), ...filesUnder(join(work, kafkaDir!)).filter((f) => f.endsWith('.log'))];
    expect(written.length, 'the run wrote its reports').toBeGreaterThan(5);
    const scanned = [...written.map((f) => [f, readFileSync(f, 'latin1')] as const), ['console output', run.all ?? ''] as const];
    const leaks = scanned.flatMap(([where, text]) => secrets.filter((s) => text.includes(s)).map((s) => `${where}: ${s.slice(0, 6)}…`));
    expect(leaks, 'secrets found').toEqual([]);
    // The run really exercised logins: the results carry passes.
    expect(readFileSync(join(reports, 'results-model.json'), 'utf8')).toContain('"status": "pass"');
  }, 10 * 60_000);
});
