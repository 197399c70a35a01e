// The expectation manifests: every checked-in one is valid, and a malformed entry (the typo that
// used to match nothing) fails in one line naming the file and the entry.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientRegistry } from './clients/registry.js';
import { allMatchSignature, expectationsDir, parseManifest, suiteVocabulary, validateManifests } from './expectations.js';
import { knownScenarioIds, patternsOverlap, scenarioIdsIn } from './scenario-ids.js';

const good = { scenario: 'sasl-plain.expired-jwt', client: 'kafkajs', expect: 'fail', reason: 'refused late' };
const manifest = (entries: unknown[], extra: Record<string, unknown> = {}) => JSON.stringify({ target: 'kafka', ...extra, entries }, null, 2);
const FILE = 'suites/expectations/kafka.json';

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error, got none');
}

describe('scenario ids from the scenario files', () => {
  it('finds the literal ids and keeps templated ones as patterns', () => {
    const src = "scenario('admin.delete: gone', f);\nscenario(`sasl-plain.login.${p.toLowerCase()}: ok`, f);\nconst t = 'not an id: text';\nx('a.b:c');";
    expect(scenarioIdsIn(src)).toEqual(['admin.delete', 'sasl-plain.login.*']);
  });

  it('knows the ids the suites declare, a generated family included', () => {
    const ids = knownScenarioIds();
    expect(ids).toEqual(expect.arrayContaining(['sasl-plain.expired-jwt', 'admin.delete', 'sasl-plain.login.*', 'produce.compression.*', 'docs-examples.kafkajs']));
    expect(ids).not.toContain('sasl-plain.login.${p}');
  });

  it('matches * patterns against * patterns', () => {
    expect(patternsOverlap('sasl-plain.*', 'sasl-plain.login.*')).toBe(true);
    expect(patternsOverlap('sasl-plain.login.sasl_ssl', 'sasl-plain.login.*')).toBe(true);
    expect(patternsOverlap('*', 'admin.delete')).toBe(true);
    expect(patternsOverlap('admin.*', 'sasl-plain.login.*')).toBe(false);
    expect(patternsOverlap('sasl-plain.expird-jwt', 'sasl-plain.expired-jwt')).toBe(false);
  });
});

describe('expectation manifests', () => {
  it('every checked-in manifest validates, and each is for a known target', () => {
    const files = readdirSync(expectationsDir).filter((f) => f.endsWith('.json'));
    const manifests = validateManifests();
    expect(manifests.map((m) => `${m.target}.json`).sort()).toEqual(files.sort());
    expect(manifests.reduce((n, m) => n + m.entries.length, 0)).toBeGreaterThan(100);
  });

  it('accepts a well-formed entry', () => {
    expect(parseManifest(manifest([good]), FILE).entries).toEqual([good]);
  });

  it.each([
    ['an unknown status', { ...good, expect: 'fial' }, /entry 2 \(scenario "sasl-plain\.expired-jwt", client "kafkajs"\) expect: expect must be fail, skip, flaky \(got "fial"\)/],
    ['a scenario id that exists nowhere', { ...good, scenario: 'sasl-plain.expird-jwt' }, /entry 2 \(scenario "sasl-plain\.expird-jwt", client "kafkajs"\) scenario: scenario "sasl-plain\.expird-jwt" matches no scenario declared under suites\//],
    ['a missing reason', { ...good, reason: undefined }, /entry 2 \(.*\) reason: reason is required/],
    ['an empty reason', { ...good, reason: '  ' }, /entry 2 \(.*\) reason: reason is required/],
    ['an unknown client', { ...good, client: 'kafkjs' }, /entry 2 \(.*client "kafkjs"\) client: client "kafkjs" matches no client of harness\/clients\/registry\.ts/],
    ['an unknown pair client', { ...good, client: 'kafkajs→kafka-nod' }, /client "kafkajs→kafka-nod" matches no client/],
    ['a misspelt key', { ...good, reasn: 'x' }, /entry 2 \(.*\): unknown key\(s\) "reasn"/],
    ['a signature on a known failure', { ...good, signature: 'refused' }, /entry 2 \(.*\) signature: a signature belongs only to a flaky entry \(this one is fail\)/],
    ['a signature that is no regular expression', { ...good, expect: 'flaky', signature: 'expected [ (' }, /entry 2 \(.*\) signature: signature "expected \[ \(" is not a valid regular expression/],
  ])('refuses %s in one line naming the file and the entry', (_what, bad, message) => {
    const msg = errorOf(() => parseManifest(manifest([good, bad]), FILE));
    expect(msg.split('\n')).toHaveLength(1);
    expect(msg.startsWith(`${FILE}: `)).toBe(true);
    expect(msg).toMatch(message);
  });

  it('names the first entry when the first is wrong', () => {
    expect(errorOf(() => parseManifest(manifest([{ ...good, expect: 'pass' }, good]), FILE))).toMatch(/^suites\/expectations\/kafka\.json: entry 1 \(scenario "sasl-plain\.expired-jwt", client "kafkajs"\) expect: expect must be/);
  });

  it('refuses an unknown target key, a target that is not the file\'s, and a bad top-level key', () => {
    expect(errorOf(() => parseManifest(JSON.stringify({ target: 'kfka', entries: [good] }), FILE))).toMatch(/^suites\/expectations\/kafka\.json: target: target must be one of kop, kafka, live, container, gdn, kop-regions, any-target \(got "kfka"\)$/);
    expect(errorOf(() => parseManifest(JSON.stringify({ target: 'kop', entries: [good] }), FILE))).toBe(`${FILE}: target is "kop" but the file is for "kafka"`);
    expect(errorOf(() => parseManifest(manifest([good], { evidenceRequird: true }), FILE))).toBe(`${FILE}: manifest: unknown key(s) "evidenceRequird"`);
  });

  it('requires canonical and evidence for a known failure where the manifest says so', () => {
    const msg = errorOf(() => parseManifest(manifest([good], { evidenceRequired: true }), FILE));
    expect(msg).toBe(`${FILE}: entry 1 (scenario "sasl-plain.expired-jwt", client "kafkajs"): a known failure here needs canonical (the error code seen) and evidence (a raw excerpt)`);
    expect(parseManifest(manifest([{ ...good, canonical: 'SASL_AUTHENTICATION_FAILED', evidence: 'x' }], { evidenceRequired: true }), FILE).entries).toHaveLength(1);
  });

  it('refuses JSON that does not parse, in one line', () => {
    const msg = errorOf(() => parseManifest('{\n  "target": "kafka",\n  "entries": [\n', FILE));
    expect(msg).toMatch(/^suites\/expectations\/kafka\.json: not valid JSON: /);
    expect(msg.split('\n')).toHaveLength(1);
  });

  it('refuses a manifest file for no known target', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kopc-expectations-'));
    writeFileSync(join(dir, 'kafka.json'), manifest([good]));
    expect(validateManifests(dir)).toHaveLength(1);
    writeFileSync(join(dir, 'kfka.json'), JSON.stringify({ target: 'kfka', entries: [] }));
    expect(errorOf(() => validateManifests(dir))).toMatch(/kfka\.json: no target is called "kfka" \(known: kop, kafka, live, container, gdn, kop-regions, any-target\)$/);
  });

  it('checks clients against the registry itself', () => {
    const vocabulary = suiteVocabulary();
    expect(vocabulary.clients).toEqual(clientRegistry.map((c) => c.id));
    for (const id of vocabulary.clients) expect(parseManifest(manifest([{ ...good, client: id }]), FILE).entries[0]!.client).toBe(id);
  });
});

describe('a flaky entry\'s signature', () => {
  const sig = "resumed from the committed offset: nothing skipped, nothing redelivered: expected \\[ '(\\w+)-0', '\\1-1'";
  const redelivered = (s: string) => ({ message: `resumed from the committed offset: nothing skipped, nothing redelivered: expected [ '${s}-0', '${s}-1', …(1) ] to deeply equal [ '${s}-3', '${s}-4', …(1) ]` });

  it('matches when every try failed with the known defect\'s error', () => {
    expect(allMatchSignature(sig, [redelivered('467781de'), redelivered('d12d1ba0'), redelivered('25023c99')])).toBe(true);
  });

  it('does not match when one try failed otherwise, or when nothing failed', () => {
    expect(allMatchSignature(sig, [redelivered('467781de'), { message: 'consume: Timeout: consumed 1 of 5 records within 30000 ms' }])).toBe(false);
    expect(allMatchSignature(sig, [{ message: "resumed from the committed offset: nothing skipped, nothing redelivered: expected [ 'ab-4', 'ab-5' ] to deeply equal [ 'ab-3', 'ab-4', 'ab-5' ]" }])).toBe(false);
    expect(allMatchSignature(sig, [])).toBe(false);
  });

  it('the kop reorder entries (FINDINGS rows 16, 17) match a reorder alone, not a loss', () => {
    const kop = validateManifests().find((m) => m.target === 'kop')!;
    const reorder = kop.entries.find((e) => e.scenario === 'produce.*' && e.client === 'kafka-python-2.0.2')!.signature!;
    const sarama = kop.entries.find((e) => e.scenario === 'produce.acks.0' && e.client === 'sarama')!.signature!;
    const seen = { message: 'delivery FAILED: 5 acknowledged, 5 consumed, idempotence off\nc8globals.acks-0-ab12/0: 4 reordered (0:k1="acks-0-1" sent after 4:k0="acks-0-0", 1:k2="acks-0-2" sent after 4:k0="acks-0-0")' };
    expect(allMatchSignature(reorder, [seen])).toBe(true);
    expect(allMatchSignature(sarama, [seen, { message: 'TIMEOUT (sarama): consume: Timeout: consumed 1 of 5 records within 30000 ms' }])).toBe(true);
    const lost = { message: 'delivery FAILED: 5 acknowledged, 4 consumed, idempotence off\nc8globals.acks-0-ab12/0: 1 lost (4:k0="acks-0-0")' };
    const alsoLost = { message: 'delivery FAILED: 5 acknowledged, 5 consumed, idempotence off\nc8globals.acks-0-ab12/0: 4 reordered (0:k1="a" sent after 4:k0="b"); 1 unexpected (5:x="y")' };
    expect(allMatchSignature(reorder, [lost])).toBe(false);
    expect(allMatchSignature(reorder, [alsoLost])).toBe(false);
    expect(allMatchSignature(sarama, [{ message: 'TIMEOUT (sarama): consume: Timeout: consumed 0 of 5 records within 30000 ms' }])).toBe(false);
  });

  it('the checked-in kop row-1 entry carries one', () => {
    const entry = validateManifests().find((m) => m.target === 'kop')?.entries.find((e) => e.scenario === 'groups.commit-async.resume' && e.client === 'java-2.8.0');
    expect(entry?.expect).toBe('flaky');
    expect(allMatchSignature(entry!.signature!, [redelivered('0eba549a')])).toBe(true);
  });
});
