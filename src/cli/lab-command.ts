// `meshdoctor lab scenarios|serve`: list the lab's scenarios and faults, or serve a simulated mesh
// until interrupted. Argument parsing and wiring only: the lab lives in src/lab/.
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { nowOf, type CliIO } from './io.ts';
import { LAB_TRANSPORT_FAULTS } from '../lab/transport.ts';

/** What the lab commands need of the CLI's IO (a subset of CliIO). */
export type LabCommandIO = Pick<CliIO, 'stdout' | 'stderr' | 'cwd' | 'onInterrupt' | 'now'>;

interface ServeArgs {
  scenario: string;
  fault?: string[];
  transport?: string[];
  clusters?: number;
  latency?: number;
  'scale-namespaces'?: number;
  'scale-services'?: number;
  'scale-pods'?: number;
  'kubeconfig-out': string;
}

const processIO: LabCommandIO = {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  onInterrupt(handler) {
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
    return () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    };
  },
};

function pad(text: string, width: number): string {
  return text.length >= width ? `${text}  ` : text.padEnd(width);
}

/** `lab serve --help` lists the transport faults (src/lab/transport.ts is cheap to import). */
const TRANSPORT_HELP = [
  'Transport faults (--transport NAME[:CLUSTER][=VALUE], e.g. --transport api-down:cluster2 --transport fail-path:cluster1=/api/v1/pods):',
  ...LAB_TRANSPORT_FAULTS.map((f) => `  ${pad(`${f.name}${f.value ? `=${f.value}` : ''}`, 28)}${f.description}`),
].join('\n');

/** `lab scenarios`: scenarios and faults, as text or JSON. */
async function listScenarios(output: 'human' | 'json', io: LabCommandIO): Promise<void> {
  // The catalog alone: listing scenarios builds no lab.
  const { LAB_SCENARIOS, LAB_FAULTS } = await import('../lab/model/catalog.ts');
  if (output === 'json') {
    io.stdout.write(`${JSON.stringify({ scenarios: LAB_SCENARIOS, faults: LAB_FAULTS }, null, 2)}\n`);
    return;
  }
  const lines = ['Scenarios:'];
  for (const s of LAB_SCENARIOS) {
    const faults = s.defaultFaults.map((f) => `${f.name}:${f.cluster}`).join(', ');
    lines.push(`  ${pad(s.name, 30)}${s.description}${faults ? ` Faults: ${faults}.` : ''}`);
  }
  lines.push('', 'Faults (--fault NAME[:CLUSTER]; default cluster in brackets):');
  for (const f of LAB_FAULTS) {
    const only = f.topologies ? ` Only in ${f.topologies.join('/')}.` : '';
    lines.push(`  ${pad(`${f.name} [${f.defaultCluster}]`, 48)}${f.description}${only} Fails: ${f.failsChecks.join(', ')}.`);
  }
  io.stdout.write(`${lines.join('\n')}\n`);
}

/** `lab serve`: start the lab, print how to use it, serve until SIGINT/SIGTERM. */
async function serve(args: ServeArgs, io: LabCommandIO): Promise<void> {
  const { startLab, parseTransportSpecs } = await import('../lab/index.ts');
  const { LabError } = await import('../lab/model/index.ts');
  if (!args['kubeconfig-out']) throw new LabError('lab serve needs --kubeconfig-out FILE');
  const kubeconfigPath = resolve(io.cwd, args['kubeconfig-out']);
  const scaled = args['scale-namespaces'] !== undefined || args['scale-services'] !== undefined || args['scale-pods'] !== undefined;
  const scale = scaled ? { namespaces: args['scale-namespaces'], servicesPerNamespace: args['scale-services'], podsPerService: args['scale-pods'] } : undefined;
  const lab = await startLab({
    scenario: args.scenario,
    faults: args.fault ?? [],
    transport: parseTransportSpecs(args.transport ?? []),
    ...(args.clusters !== undefined ? { clusters: args.clusters } : {}),
    ...(args.latency !== undefined ? { latencyMs: args.latency } : {}),
    ...(scale ? { scale } : {}),
    kubeconfigPath,
    clock: () => nowOf(io),
  });
  const faults = lab.mesh.faults.map((f) => `${f.name}:${f.cluster}`).join(', ') || 'none';
  const transport = args.transport?.length ? `; transport faults: ${args.transport.join(', ')}` : '';
  io.stdout.write(
    [
      `Lab "${lab.mesh.scenario}" serving ${lab.clusters.length} clusters (faults: ${faults}${transport}):`,
      ...lab.clusters.map((c) => `  ${pad(c.name, 12)}${c.server}  (context ${c.context})`),
      `Kubeconfig written to ${kubeconfigPath}`,
      '',
      'Try:',
      `  KUBECONFIG=${kubeconfigPath} kubectl get pods -A`,
      `  KUBECONFIG=${kubeconfigPath} kubectl --context cluster2 get secrets -n istio-system -l istio/multiCluster=true`,
      `  meshdoctor all --kubeconfig ${kubeconfigPath}`,
      '',
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolveStop) => {
    const onInterrupt = io.onInterrupt ?? processIO.onInterrupt!;
    const unregister = onInterrupt(() => {
      unregister();
      resolveStop();
    });
  });
  await lab.stop();
  io.stderr.write('lab stopped\n');
}

interface ExportArgs {
  scenario: string;
  fault?: string[];
  clusters?: number;
  now?: string;
  out: string;
}

/** `lab export`: write a lab mesh as the per-cluster objects istiod reads (src/lab/export.ts). */
async function exportCommand(args: ExportArgs, io: LabCommandIO): Promise<void> {
  const { buildExportMesh, exportLab } = await import('../lab/export.ts');
  const { parseFault } = await import('../lab/model/catalog.ts');
  const { LabError } = await import('../lab/model/errors.ts');
  const now = args.now ? new Date(args.now) : nowOf(io);
  if (Number.isNaN(now.getTime())) throw new LabError(`lab export: --now ${args.now} is not a date`);
  const dir = resolve(io.cwd, args.out);
  const mesh = await buildExportMesh({
    scenario: args.scenario,
    faults: (args.fault ?? []).map(parseFault),
    ...(args.clusters !== undefined ? { clusters: args.clusters } : {}),
    now,
  });
  const manifest = await exportLab(mesh, dir);
  const faults = mesh.faults.map((f) => `${f.name}:${f.cluster}`).join(', ') || 'none';
  io.stdout.write(`Exported lab "${mesh.scenario}" (faults: ${faults}): ${manifest.clusters.length} clusters, ${manifest.primaries.length} primaries, to ${dir}\n`);
}

/** Register `scenarios` and `serve` on a yargs instance (the builder of a `lab` command). */
export function registerLabSubcommands(y: Argv, io: LabCommandIO = processIO): Argv {
  return y
    .command({
      command: 'scenarios',
      describe: 'list the lab scenarios and faults',
      builder: (sub: Argv) => sub.option('output', { alias: 'o', choices: ['human', 'json'] as const, default: 'human' as const, describe: 'output format' }),
      handler: (argv) => listScenarios((argv as unknown as { output: 'human' | 'json' }).output, io),
    })
    .command({
      command: 'serve',
      describe: 'serve a lab until interrupted; writes a kubeconfig with one context per cluster',
      builder: (sub: Argv) =>
        sub
          .option('scenario', { type: 'string', default: 'multi-primary', describe: 'scenario (see `meshdoctor lab scenarios`)' })
          .option('fault', { type: 'string', array: true, describe: 'inject a fault: NAME[:CLUSTER] (repeatable)' })
          .option('transport', { type: 'string', array: true, describe: 'inject a transport fault: NAME[:CLUSTER][=VALUE] (repeatable; CLUSTER defaults to cluster1; list below)' })
          .option('clusters', { type: 'number', describe: 'number of clusters, 2 to 10 (default 2)' })
          .option('latency', { type: 'number', describe: 'delay added to every API response, in ms' })
          .option('scale-namespaces', { type: 'number', describe: 'extra namespaces per cluster (scale-1, ...)' })
          .option('scale-services', { type: 'number', describe: 'services per extra namespace' })
          .option('scale-pods', { type: 'number', describe: 'pods per extra service' })
          .option('kubeconfig-out', { type: 'string', demandOption: true, describe: 'where to write the kubeconfig' })
          .epilogue(TRANSPORT_HELP),
      handler: (argv) => serve(argv as unknown as ServeArgs, io),
    })
    .command({
      command: 'export',
      describe: 'write a lab mesh as the per-cluster objects, mesh config and meshNetworks istiod reads (for conformance/istiod)',
      builder: (sub: Argv) =>
        sub
          .option('scenario', { type: 'string', default: 'multi-primary', describe: 'scenario (see `meshdoctor lab scenarios`)' })
          .option('fault', { type: 'string', array: true, describe: 'inject a fault: NAME[:CLUSTER] (repeatable)' })
          .option('clusters', { type: 'number', describe: 'number of clusters, 2 to 10 (default 2)' })
          .option('now', { type: 'string', describe: 'build moment (ISO 8601) for object timestamps; default now' })
          .option('out', { type: 'string', demandOption: true, describe: 'directory to write' }),
      handler: (argv) => exportCommand(argv as unknown as ExportArgs, io),
    })
    .demandCommand(1, 'name a lab subcommand: scenarios, serve or export');
}

/** The `lab <command>` yargs module, writing to `io`. */
export function createLabCommand(io: LabCommandIO = processIO): CommandModule {
  return {
    command: 'lab <command>',
    describe: 'serve a simulated multi-cluster Istio mesh (scenarios, serve, export)',
    builder: (y: Argv) => registerLabSubcommands(y, io),
    handler: () => {},
  };
}

/** `meshdoctor lab scenarios` and `meshdoctor lab serve ...` on the real process. */
export const labCommand: CommandModule = createLabCommand();
