// Checks a live endpoint's configuration and reachability in seconds, before a run:
//   npx tsx harness/targets/live/live-cli.ts --properties client.properties
// (KOPC_* environment variables apply too and win over the file). Prints one redacted OK line
// on stdout, or one error line on stderr with exit code 2.
import { formatHostPort, loadLiveConfig } from './live-config.js';
import { startLiveTarget } from './live-target.js';
import { TargetUnavailableError } from '../types.js';

const USAGE = 'usage: live-cli.ts [--properties FILE]  (and/or KOPC_BOOTSTRAP_SERVERS, KOPC_SECURITY_PROTOCOL, KOPC_USERNAME, KOPC_PASSWORD, KOPC_CA_LOCATION, KOPC_TLS_VERIFY, KOPC_PROPERTIES)';

function parseArgs(argv: string[]): { propertiesPath?: string } {
  const out: { propertiesPath?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    } else if (a === '--properties' || a === '-p') {
      const v = argv[++i];
      if (!v) fail(`--properties needs a file; ${USAGE}`);
      out.propertiesPath = v;
    } else if (a.startsWith('--properties=')) {
      out.propertiesPath = a.slice('--properties='.length);
    } else {
      fail(`unknown argument ${a}; ${USAGE}`);
    }
  }
  return out;
}

function fail(message: string): never {
  process.stderr.write(message.replace(/\s*[\r\n]+\s*/g, ' ') + '\n');
  process.exit(2);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const cfg = loadLiveConfig({ ...args, env: process.env });
  const target = await startLiveTarget(cfg);
  try {
    const user = target.principals[0]?.username ?? cfg.username;
    const tls = cfg.securityProtocol !== 'SASL_SSL' ? ''
      : `, TLS verify ${target.tls.verify ? (target.tls.verifyHostname ? 'on' : 'on (no hostname check)') : 'OFF'}` +
        (target.tls.caPemPath ? ` (CA ${cfg.tls.caPemPath ?? cfg.tls.truststorePath})` : ' (system CAs)');
    process.stdout.write(`live target OK: ${cfg.bootstrap} ${cfg.securityProtocol}, user ${user}, password <redacted>, ` +
      `cluster ${target.clusterId}, ${target.brokers.length} broker(s)${tls}, topics ${cfg.topics.globalPrefix}* / ${cfg.topics.localPrefix}*` +
      `${cfg.regions.length ? `, regions ${cfg.regionName}, ${cfg.regions.map((r) => `${r.name} ${r.bootstrapServers.map(formatHostPort).join(',')}`).join(', ')}` : ''}\n`);
  } finally {
    await target.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof TargetUnavailableError) fail(err.message);
    // An unexpected failure is a bug here, not a configuration problem; still one line, no stack.
    fail(`live target check crashed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  },
);
