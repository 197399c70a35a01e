import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { canBind, ephemeralRange, freePort, freePorts } from './ports.js';

describe('free ports', () => {
  it('reads the kernel\'s ephemeral range, with Linux\'s default when it cannot', () => {
    expect(ephemeralRange('32768\t60999\n')).toEqual([32768, 60999]);
    expect(ephemeralRange('garbage')).toEqual([32768, 60999]);
  });

  it('hands out bindable ports below the ephemeral range, never the same one twice', async () => {
    const [low] = ephemeralRange();
    const ports = await freePorts(40);
    expect(new Set(ports).size).toBe(40);
    for (const p of ports) {
      if (low - 10_000 >= 1_000) expect(p).toBeLessThan(low);
      expect(await canBind(p)).toBe(true);
    }
  });

  it('skips a port that something is listening on', async () => {
    const srv = createServer();
    const taken = await new Promise<number>((resolve) => srv.listen(0, '127.0.0.1', () => resolve((srv.address() as { port: number }).port)));
    try {
      expect(await canBind(taken)).toBe(false);
      const p = await freePort();
      expect(p).not.toBe(taken);
      expect(await canBind(p)).toBe(true);
    } finally {
      srv.close();
    }
  });
});
