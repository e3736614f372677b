// npm run realstack [-- --scenario NAME] [-- --fault NAME[:CLUSTER]]...: build the real components
// that are missing, start two real clusters with the scenario applied, write the kubeconfig and
// serve until interrupted (see realstack/stack.ts and docs/lab-fidelity.md).
import { buildMissing, startRealStack } from './stack.ts';
import { parseFault } from '../src/lab/model/catalog.ts';

const args = process.argv.slice(2);
const valuesOf = (flag: string) => args.flatMap((a, i) => (a === flag && args[i + 1] ? [args[i + 1]] : []));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
const builds = buildMissing();
const blocked = builds.filter((b) => b.blocked);
for (const b of blocked) process.stderr.write(`realstack: ${b.name} blocked\n  command: ${b.blocked!.command}\n  error: ${b.blocked!.error}\n`);
if (blocked.length > 0) process.exit(1);
const stack = await startRealStack({ scenario: valuesOf('--scenario')[0] ?? 'multi-primary', faults: valuesOf('--fault').map(parseFault), keep: args.includes('--keep') });
for (const r of stack.refused) process.stderr.write(`realstack: refused ${r.cluster} ${r.object}: ${r.error}\n`);
process.stdout.write(`kubeconfig: ${stack.kubeconfigPath}\n${stack.clusters.map((c) => `  ${c.name} ${c.server}${c.istiodMonitoring ? ` (istiod debug 127.0.0.1:${c.istiodMonitoring})` : ''}`).join('\n')}\nlogs: ${stack.dir}\nCtrl-C stops it.\n`);
const shutdown = () => void stack.stop().then(() => process.exit(0));
process.removeAllListeners('SIGINT').removeAllListeners('SIGTERM');
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
setInterval(() => undefined, 1 << 30);
