// The file order of a run: slowest first by the measured table, unknown files before all.
import { describe, expect, it } from 'vitest';
import { fileRank, readDurations, refreshedTable, slowestFirst } from './file-durations.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './paths.js';

describe('slow-first file order', () => {
  it('puts the slowest measured files first and unknown files before them, stable otherwise', () => {
    const seconds = { 'a.test.ts': 10, 'b.test.ts': 300, 'c.test.ts': 10 };
    expect(slowestFirst(['a.test.ts', 'b.test.ts', 'new.test.ts', 'c.test.ts'], (f) => f, seconds)).toEqual(['new.test.ts', 'b.test.ts', 'a.test.ts', 'c.test.ts']);
  });

  it('refreshes the table from a results model: seconds summed per file, other files kept', () => {
    const next = refreshedTable({ cells: [{ file: 'x.test.ts', durationMs: 1500 }, { file: 'x.test.ts', durationMs: 2600 }] }, { 'y.test.ts': 7, 'x.test.ts': 99 });
    expect(next).toEqual({ 'y.test.ts': 7, 'x.test.ts': 4 });
    expect(Object.keys(next)).toEqual(['y.test.ts', 'x.test.ts']);
  });

  it('the checked-in table names files that exist', () => {
    const missing = Object.keys(readDurations()).filter((f) => !existsSync(join(projectRoot, f)));
    expect(missing).toEqual([]);
  });
});

describe('fileRank', () => {
  it('ranks scenario files slowest first; harness tests and unknown files have none', () => {
    const seconds = { 'suites/a.test.ts': 10, 'suites/b.test.ts': 300, 'harness/x.test.ts': 999 };
    expect(fileRank('suites/b.test.ts', seconds)).toBe(0);
    expect(fileRank('suites/a.test.ts', seconds)).toBe(1);
    expect(fileRank('harness/x.test.ts', seconds)).toBeUndefined();
    expect(fileRank('suites/new.test.ts', seconds)).toBeUndefined();
  });
});
