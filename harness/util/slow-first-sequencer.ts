// The order of a run's test files: the slowest first, by their measured durations
// (file-durations.json). A scenario file runs every selected target × client in one worker, so
// one long file started late keeps a worker busy alone at the end of the run (the sasl-plain family,
// one file until 2026-12-04: 17 min of a 33 min run; now four). Vitest's own order needs its cache of an earlier run, which a fresh
// clone lacks, and falls back to file size, which says little here (faults.test.ts is the largest
// file and one of the quickest). Files not in the table go first, as vitest runs unknown files
// first. Sharding is vitest's own (BaseSequencer.shard).
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { readDurations, slowestFirst } from './file-durations.js';

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    return slowestFirst(files, (s) => relative(root, s.moduleId), readDurations())
      .sort((a, b) => a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder);
  }
}
