// Development brokers: `start` launches the embedded brokers and leaves them running for
// later runs (which reuse them when KOPC_REUSE=1), `stop` ends them.
import { stopDevKafkaBroker } from '../targets/kafka/kafka-target.js';
import { startTargets } from '../targets/registry.js';

const USAGE = `usage: npm run dev-broker -- start|stop

start  starts the embedded reference Kafka (and KoP, where it can run) and keeps it running;
       runs with KOPC_REUSE=1 then reuse it instead of starting their own.
stop   stops the development brokers.`;

async function main(cmd: string | undefined): Promise<number> {
  if (cmd === 'start') {
    process.env.KOPC_REUSE = '1';
    const { slots } = await startTargets(['kafka', 'kop']);
    for (const s of slots) {
      console.log(`${s.id}: ${s.state === 'started' ? `running — ${s.info.listeners.map((l) => `${l.securityProtocol} ${l.host}:${l.port}`).join(', ')}` : s.state === 'not-run' ? s.reason : `failed: ${s.error.split('\n')[0]}`}`);
    }
    return slots.some((s) => s.state === 'start-failed') ? 1 : 0;
  }
  if (cmd === 'stop') {
    const kafka = await stopDevKafkaBroker();
    let kop = false;
    try {
      const { stopReusedKopBroker } = await import('../targets/kop/kop-target.js');
      kop = await stopReusedKopBroker();
    } catch {
      /* no KoP dev broker support */
    }
    const { stopReusedGdnBroker } = await import('../targets/gdn/gdn-target.js');
    const gdn = await stopReusedGdnBroker();
    console.log(`stopped: kafka ${kafka ? 'yes' : 'none running'}, kop ${kop ? 'yes' : 'none running'}, gdn ${gdn ? 'yes' : 'none running'}`);
    return 0;
  }
  if (cmd === '--help' || cmd === '-h') {
    console.log(USAGE);
    return 0;
  }
  console.error(`unknown command ${cmd ?? '(none)'}\n\n${USAGE}`);
  return 2;
}

process.exitCode = await main(process.argv[2]);
