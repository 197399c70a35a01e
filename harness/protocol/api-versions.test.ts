import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { apiName, apiVersionsRequest, coreOverlap, parseApiVersionsResponse, probeApiVersions } from './api-versions.js';

/** An ApiVersions v0 answer as a broker frames it (without the size prefix). */
function answer(correlationId: number, error: number, apis: [number, number, number][]): Buffer {
  const b = Buffer.alloc(10 + apis.length * 6);
  b.writeInt32BE(correlationId, 0);
  b.writeInt16BE(error, 4);
  b.writeInt32BE(apis.length, 6);
  apis.forEach(([k, min, max], i) => { b.writeInt16BE(k, 10 + i * 6); b.writeInt16BE(min, 12 + i * 6); b.writeInt16BE(max, 14 + i * 6); });
  return b;
}

describe('ApiVersions by hand', () => {
  it('frames the v0 request: size, key 18, version 0, correlation id, client id', () => {
    const f = apiVersionsRequest(7, 'c');
    expect(f.readInt32BE(0)).toBe(f.length - 4);
    expect([f.readInt16BE(4), f.readInt16BE(6), f.readInt32BE(8), f.readInt16BE(12), f.subarray(14).toString()]).toEqual([18, 0, 7, 1, 'c']);
  });

  it('parses the answer, sorted by key, and refuses a wrong correlation id, an error code or a short frame', () => {
    expect(parseApiVersionsResponse(answer(5, 0, [[3, 0, 12], [0, 3, 11]]), 5)).toEqual([
      { key: 0, name: 'Produce', min: 3, max: 11 }, { key: 3, name: 'Metadata', min: 0, max: 12 }]);
    expect(() => parseApiVersionsResponse(answer(6, 0, []), 5)).toThrow(/correlation id 6/);
    expect(() => parseApiVersionsResponse(answer(5, 35, []), 5)).toThrow(/error code 35/);
    expect(() => parseApiVersionsResponse(answer(5, 0, [[0, 0, 1]]).subarray(0, 12), 5)).toThrow(/claims 1 entries/);
    expect(apiName(999)).toBe('ApiKey 999');
  });

  it('agrees on the highest common version, and says where there is none', () => {
    const rows = coreOverlap(
      [{ key: 0, name: 'Produce', min: 3, max: 9 }, { key: 1, name: 'Fetch', min: 4, max: 12 }],
      [{ key: 0, name: 'Produce', min: 0, max: 7 }, { key: 1, name: 'Fetch', min: 0, max: 3 }, { key: 3, name: 'Metadata', min: 0, max: 6 }, { key: 29, name: 'DescribeAcls', min: 0, max: 1 }]);
    expect(rows.map((r) => [r.name, r.agreed])).toEqual([['Produce', 7], ['Fetch', undefined], ['Metadata', undefined]]);
    expect(rows[2]!.target).toBeUndefined();
  });

  it('asks a real socket and gives up with a one-line error when nothing answers', async () => {
    const server = createServer((s) => {
      s.once('data', (req) => {
        const corr = req.readInt32BE(8);
        const body = answer(corr, 0, [[18, 0, 3]]);
        const size = Buffer.alloc(4);
        size.writeInt32BE(body.length, 0);
        s.write(Buffer.concat([size, body.subarray(0, 3)]));
        setTimeout(() => s.end(body.subarray(3)), 20);
      });
    });
    const silent = createServer(() => undefined);
    await Promise.all([new Promise<void>((r) => server.listen(0, '127.0.0.1', r)), new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))]);
    try {
      const port = (s: typeof server) => (s.address() as { port: number }).port;
      expect(await probeApiVersions({ securityProtocol: 'SASL_PLAINTEXT', host: '127.0.0.1', port: port(server) }, { verify: true }))
        .toEqual([{ key: 18, name: 'ApiVersions', min: 0, max: 3 }]);
      await expect(probeApiVersions({ securityProtocol: 'SASL_PLAINTEXT', host: '127.0.0.1', port: port(silent) }, { verify: true }, 300))
        .rejects.toThrow(/^ApiVersions from 127\.0\.0\.1:\d+ \(SASL_PLAINTEXT\): no answer within 300 ms$/);
    } finally {
      server.close();
      silent.close();
    }
  });
});
