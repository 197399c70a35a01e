// Where the KoP NAR comes from: decided in milliseconds, in the documented order, with one-line
// answers for what is missing or wrong; and the Pulsar pin is the same in every file that has it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TargetUnavailableError } from '../types.js';
import { kopNarPlan } from './kop-nar.js';
import { KOP_AUTH_MODULE, KOP_POM_PATH, KOP_VERSIONS, readPomPins } from './versions.js';

const dir = mkdtempSync(join(tmpdir(), 'kopc-narplan-'));
const nar = join(dir, 'my-kop.nar');
writeFileSync(nar, 'not really a nar');
const srcDir = mkdtempSync(join(tmpdir(), 'kopc-narplan-src-'));
writeFileSync(join(srcDir, 'kop-x-src.tar.gz'), '');
writeFileSync(join(srcDir, 'compat.patch'), '');

describe('KoP NAR plan', () => {
  it('is not run, in milliseconds, with how to fix it, when nothing is configured', () => {
    const t0 = Date.now();
    const err = (() => { try { kopNarPlan({}); } catch (e) { return e; } })();
    expect(Date.now() - t0).toBeLessThan(50);
    expect(err).toBeInstanceOf(TargetUnavailableError);
    expect((err as Error).message).toMatch(/^not run: no KoP protocol handler configured; set KOP_SOURCE=.*KOP_NAR=.*KOP_NAR_COORDS=/);
    expect((err as Error).message).not.toContain('\n');
  });

  it('takes KOP_NAR first, then KOP_SOURCE, then KOP_NAR_COORDS', () => {
    const all = { KOP_NAR: nar, KOP_SOURCE: srcDir, KOP_NAR_COORDS: 'g:a:1' };
    expect(kopNarPlan(all).kind).toBe('KOP_NAR');
    const src = kopNarPlan({ ...all, KOP_NAR: '' });
    expect(src.kind).toBe('source');
    expect(src.describe).toContain(`KOP_SOURCE=${srcDir} (kop-x-src.tar.gz + 1 patch)`);
    expect(src.describe).toContain(`Apache Pulsar ${KOP_VERSIONS.pulsar}`);
    expect(kopNarPlan({ KOP_NAR_COORDS: 'g:a:1' })).toMatchObject({ kind: 'maven', coords: { groupId: 'g', artifactId: 'a', version: '1' } });
  });

  it('refuses a misconfiguration in one line naming it', () => {
    expect(() => kopNarPlan({ KOP_NAR: '/nope.nar' })).toThrow(/^KOP_NAR=\/nope\.nar does not exist or is not a file$/);
    expect(() => kopNarPlan({ KOP_SOURCE: '/nope' })).toThrow(/^kop build from source: locate source: KOP_SOURCE=\/nope does not exist$/);
    expect(() => kopNarPlan({ KOP_NAR_COORDS: 'g:a' })).toThrow(/must be group:artifact:version/);
    const other = join(dir, 'pulsar-protocol-handler-kafka-4.0.6.5.nar');
    writeFileSync(other, '');
    expect(() => kopNarPlan({ KOP_NAR: other })).toThrow(/built for Pulsar 4\.0\.x but this target runs Apache Pulsar 3\.3\.6/);
  });

  it('pins Pulsar once: pom.xml, the API-key provider pom and versions.ts agree', () => {
    expect(readPomPins(KOP_POM_PATH).pulsar).toBe(KOP_VERSIONS.pulsar);
    expect(readPomPins(join(KOP_AUTH_MODULE, 'pom.xml')).pulsar).toBe(KOP_VERSIONS.pulsar);
  });
});
