#!/usr/bin/env node
// The kop-conformance command: dispatches to the TypeScript entry points through tsx.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const commands = {
  run: ['harness/cli/conformance.ts', 'run the conformance suite and build the reports (--targets, --clients, --help)'],
  'dev-broker': ['harness/cli/dev-broker.ts', 'start|stop a reusable development broker'],
  'live-check': ['harness/targets/live/live-cli.ts', 'validate a live endpoint configuration (--properties FILE)'],
  nightly: ['harness/cli/nightly.ts', 'the full suite against the live endpoint, diff against the previous nightly, cleanup (--properties FILE)'],
  merge: ['harness/cli/merge.ts', 'build the reports of a sharded run from every shard\'s reports/shards/ (--from DIR)'],
  diff: ['harness/cli/diff.ts', 'compare the last two runs (reports/history/); exit 1 on a regression'],
  soak: ['harness/cli/soak.ts', 'run the selection N times (--runs N [--stress] [run\'s filters]); summary of every cell whose status changed'],
  bench: ['harness/cli/bench.ts', 'throughput and latency of each endpoint next to Apache Kafka, per client (--records, --size, --rate, --duration, --clients, --targets)'],
};
const [cmd, ...rest] = process.argv.slice(2);
if (!cmd || cmd === '--help' || cmd === '-h' || !(cmd in commands)) {
  const list = Object.entries(commands).map(([k, [, d]]) => `  ${k.padEnd(11)} ${d}`).join('\n');
  const out = `usage: kop-conformance <command> [options]\n\n${list}\n\nExit codes: 0 all cells pass or are explained, 1 a cell failed, 2 bad usage or configuration.`;
  if (cmd && cmd !== '--help' && cmd !== '-h') {
    console.error(`unknown command ${cmd}\n\n${out}`);
    process.exit(2);
  }
  console.log(out);
  process.exit(0);
}
// The command runs in node with tsx's loader, not under tsx's own command line: that one relays a
// Ctrl-C to the command and SIGKILLs it when the command has not acknowledged the signal within
// about 60 ms, which a busy machine misses (bench's Ctrl-C test under load: exit 130, no cleanup).
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
// Ctrl-C reaches the whole process group: the command cleans up and says how it ended, so this
// wrapper waits for it instead of dying first.
process.on('SIGINT', () => undefined);
const r = spawnSync(process.execPath, ['--import', tsxLoader, join(root, commands[cmd][0]), ...rest], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
