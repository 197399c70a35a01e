// Test helper: starts one external driver, prints its pid, then waits to be killed. Used by
// driver-lifecycle.test.ts to prove a driver does not outlive the process that started it.
import { startJavaDriver } from '../java/java-driver.js';
import { pythonClientSpecs, startPythonDriver } from '../python/python-driver.js';

const which = process.argv[2] ?? 'python';
const driver = which === 'java'
  ? await startJavaDriver(process.argv[3] ?? '2.8.0')
  : await startPythonDriver(pythonClientSpecs().find((s) => s.id === (process.argv[3] ?? 'confluent-kafka'))!);
process.stdout.write(`DRIVER_PID ${driver.pid}\n`);
setInterval(() => undefined, 60_000);
