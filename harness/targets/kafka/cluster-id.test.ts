// The KRaft cluster id handed to StorageTool on its command line: a leading '-' makes the tool
// read it as an option and fail ("argument --cluster-id/-t: expected one argument"), which
// happened in about one start in 64 before the id generator excluded it.
import { describe, expect, it } from 'vitest';
import { kafkaUuid } from './kafka-target.js';

describe('kafkaUuid', () => {
  it('never starts with "-" and is 22 base64url characters (16 bytes)', () => {
    for (let i = 0; i < 20_000; i++) {
      const id = kafkaUuid();
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    }
  });
});
