// meshdoctor's command line: argument parsing and wiring only. The work happens in the engine,
// the cluster access layer and the reporters.
import yargs, { type Argv } from 'yargs';
import { CATEGORIES, type Category } from '../engine/types.ts';
import { UsageError, isUserInputError, oneLine } from './errors.ts';
import { closestName } from '../util/suggest.ts';
import type { DiagnoseArgs } from './diagnose.ts';
import type { CliIO } from './io.ts';
import { registerLabCommands } from './lab-wiring.ts';

/** Commands that run checks: a category, `all`, or `test` (= connectivity). */
const RUN_COMMANDS = ['all', ...CATEGORIES.filter((c) => c !== 'observability'), 'observability', 'test'] as const;

/**
 * Run the CLI with `args` (without node and script). Returns the exit code; never throws and never
 * prints a stack trace: user errors are one line on stderr with exit code 2.
 */
export async function main(args: string[], io: CliIO): Promise<number> {
  let exitCode = 0;
  const parser = buildParser(args, io, (code) => {
    exitCode = code;
  });
  try {
    await parser.parseAsync();
    return exitCode;
  } catch (err) {
    // Shell completion asks on every TAB with half-typed words: it prints completions or nothing.
    if (completing(args)) return 0;
    // Messages may quote cluster data (a server, a name): escaped like everything a human reads.
    // Loaded here, not up front: --version and --help load no reporter.
    const { terminalText } = await import('../reporters/sanitize.ts');
    if (isUserInputError(err)) {
      io.stderr.write(`meshdoctor: ${terminalText(oneLine(err))}\n`);
      return 2;
    }
    io.stderr.write(`meshdoctor: internal error: ${terminalText(oneLine(err))}\n`);
    io.stderr.write('This is a bug in meshdoctor; rerun with MESHDOCTOR_DEBUG=1 for details and report it.\n');
    if (io.env.MESHDOCTOR_DEBUG) io.stderr.write(`${(err as Error)?.stack ?? err}\n`);
    return 2;
  }
}

function buildParser(args: string[], io: CliIO, setExit: (code: number) => void): Argv {
  const parser = yargs(args)
    .scriptName('meshdoctor')
    .usage(`meshdoctor [${['all', ...CATEGORIES].join('|')}] [options]\n\nDiagnose a multi-cluster Istio mesh.`)
    // Half-typed words are no error while completing (and the shell must not see one).
    .strict(!completing(args))
    // yargs runs the command of the words typed while it completes them: never let it act (serve a
    // lab, run checks) on a TAB.
    .middleware(() => {
      if (completing(args)) throw new CompletionOnly();
    })
    .version(io.version)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, io.columns ?? 100))
    .env(false)
    .exitProcess(false)
    .fail((msg, err) => {
      // yargs reports unknown flags/commands here: make them one-line usage errors (exit 2).
      if (err && !(err.name === 'YError')) throw err;
      // yargs spreads some messages over lines ("Invalid values:\n  Argument: ..."): keep them on one.
      const text = (msg ?? err?.message ?? 'invalid invocation').split('\n').map((line) => line.trim()).filter(Boolean).join(' ');
      throw new UsageError(`${text}${flagSuggestion(text)} (see meshdoctor --help)`);
    })
    .command(
      '$0 [category]',
      'run checks (all by default, or one category; test = connectivity)',
      (y) => addRunOptions(y),
      async (argv) => {
        // yargs printed the completion script itself (it has no handler of its own to return to).
        if (argv._[0] === 'completion' || argv.category === 'completion') return;
        const category = resolveCategory(argv);
        // Loaded when used (as every command's module): `--version` and `--help` stay fast.
        const { runDiagnose } = await import('./diagnose.ts');
        setExit(await runDiagnose({ ...(argv as unknown as DiagnoseArgs), category }, io));
      },
    )
    .command(
      'checks',
      'list checks: id, category, scope, description',
      (y) => refusePlugins(y.option('output', { alias: 'o', choices: ['human', 'json'] as const, default: 'human' as const, describe: 'output format' })),
      async (argv) => {
        const { listChecksCommand } = await import('./catalog.ts');
        setExit(await listChecksCommand({ output: argv.output }, io));
      },
    )
    .command(
      'explain <check-id>',
      'what a check verifies, what each messageId means, how to fix',
      (y) => refusePlugins(y.positional('check-id', { type: 'string', demandOption: true })),
      async (argv) => {
        const { explainCommand } = await import('./catalog.ts');
        setExit(await explainCommand({ checkId: String(argv['check-id']) }, io));
      },
    )
    .command(
      'snapshot',
      'capture an offline snapshot of the clusters (secrets redacted) for later analysis with --snapshot',
      (y) =>
        addClusterOptions(y)
          .option('out', { type: 'string', demandOption: true, describe: 'directory to write the snapshot to' })
          .option('max-proxies', { type: 'number', default: 5, describe: 'workload sidecars per cluster whose admin output is captured, besides the gateways (5 or more: certificates/workload then judges offline the sidecars it samples live)' }),
      async (argv) => {
        const { snapshotCommand } = await import('./snapshot-command.ts');
        setExit(await snapshotCommand(argv as unknown as Parameters<typeof snapshotCommand>[0], io));
      },
    )
    .command(
      'lab',
      'serve or list the embedded simulated multi-cluster mesh (meshdoctor lab --help)',
      (y) => registerLabCommands(y, io, setExit),
      () => {},
    )
    .completion('completion', 'print a bash/zsh completion script: source <(meshdoctor completion)', (_current: string, _argv: unknown, defaults: YargsCompletions, done: (list: string[]) => void) => {
      // The script calls `meshdoctor --get-yargs-completions meshdoctor <words...>`.
      const words = args.slice(args.indexOf('--get-yargs-completions') + 2);
      const yargsDefaults = () => new Promise<string[]>((resolveList) => defaults((_err, list) => resolveList(list ?? [])));
      const runOptions = () => Object.keys((addRunOptions(yargs([])) as unknown as YargsInternals).getOptions().key).filter((key) => key !== 'category').map((key) => `--${key}`);
      void import('./completion.ts')
        .then(({ complete }) => complete(words, { env: io.env, cwd: io.cwd, defaults: yargsDefaults, runOptions }))
        .then(done, () => done([]));
    })
    .epilogue(
      'Exit codes: 0 no finding at or above --fail-on; 1 findings at or above it; 2 invalid invocation or input; ' +
        '3 no such finding but some checks could not run.\nChecks: meshdoctor checks; details: meshdoctor explain <check-id>.',
    );
  return parser;
}

/** Thrown before any command's handler while completing. */
class CompletionOnly extends Error {}

/** Called by the script `meshdoctor completion` prints. */
function completing(args: string[]): boolean {
  return args[0] === '--get-yargs-completions';
}

/** yargs' declared options (public in yargs, absent from its types). */
/** `; did you mean --only?` for yargs' "Unknown argument: onyl" when a run option is that close. */
function flagSuggestion(text: string): string {
  const unknown = /^Unknown arguments?: (.+)$/.exec(text)?.[1].split(',')[0]?.trim();
  if (!unknown) return '';
  const options = Object.keys((addRunOptions(yargs([])) as unknown as YargsInternals).getOptions().key).filter((key) => key !== 'category' && key.length > 1);
  const suggestion = closestName(unknown.replace(/^-+/, ''), options);
  return suggestion ? `; did you mean --${suggestion}?` : '';
}

interface YargsInternals {
  getOptions(): { key: Record<string, unknown> };
}

/** yargs' own completions (commands, options, choices) for the words typed so far. */
type YargsCompletions = (onCompleted: (err: Error | null, list: string[] | undefined) => void) => void;

function resolveCategory(argv: Record<string, unknown>): Category | undefined {
  const positional = (argv._ as string[])[0] ?? argv.category;
  const name = typeof argv.category === 'string' ? argv.category : typeof positional === 'string' ? positional : undefined;
  if (!name || name === 'all') return undefined;
  if (name === 'test') return 'connectivity';
  if ((CATEGORIES as readonly string[]).includes(name)) return name as Category;
  const commands = [...RUN_COMMANDS, 'checks', 'explain', 'snapshot', 'lab', 'completion'];
  const suggestion = closestName(name, commands);
  throw new UsageError(`unknown command or category "${name}"${suggestion ? `; did you mean "${suggestion}"?` : ''} (one of ${commands.join(', ')})`);
}

/**
 * `--plugin` on a command that runs no checks: a plugin's module code runs when it is loaded, so
 * only the commands that run checks load one; here the flag is a usage error (exit 2), not an import.
 */
function refusePlugins<T>(y: Argv<T>) {
  return y.option('plugin', { type: 'string', array: true, hidden: true }).check((argv) => {
    if (argv.plugin !== undefined) {
      throw new UsageError('--plugin loads and runs a module\'s code, so only commands that run checks accept it (all, a category, test); e.g. meshdoctor all --plugin MODULE --only CHECK-ID');
    }
    return true;
  });
}

/** Options that choose the clusters. */
export function addClusterOptions<T>(y: Argv<T>) {
  return y
    .option('kubeconfig', { type: 'string', describe: 'kubeconfig path (default: KUBECONFIG, merged, or ~/.kube/config)' })
    .option('context', { type: 'string', array: true, describe: 'kube context to diagnose (repeatable; default: current context + peers from its remote secrets)' })
    .option('istio-namespace', { type: 'string', default: 'istio-system', describe: "where to look first for each cluster's Istio (istiod or a remote install found elsewhere is read there)" })
    .option('allow-loopback-remote-secrets', {
      type: 'boolean',
      default: false,
      describe:
        "let meshdoctor use a remote secret's credentials on a loopback server (this machine) it has no kubeconfig context for: only for test clusters all running on this machine. Off, such a peer is not probed; link-local and metadata addresses never are",
    });
}

function addRunOptions<T>(y: Argv<T>) {
  return addClusterOptions(y)
    .positional('category', { type: 'string', describe: `all (default), ${CATEGORIES.map((c) => (c === 'connectivity' ? 'connectivity (alias test)' : c)).join(', ')}` })
    .option('snapshot', { type: 'string', describe: 'analyze offline from a snapshot directory' })
    .option('lab', { type: 'string', describe: 'run against an in-process lab (scenario; default demo)' })
    .option('fault', { type: 'string', array: true, describe: 'lab fault NAME[:CLUSTER] (repeatable, with --lab)' })
    .option('clusters', { type: 'number', describe: 'lab clusters (2 to 10, with --lab)' })
    .option('output', { alias: 'o', type: 'string', array: true, describe: 'FMT[=FILE]: human, json or junit; repeatable; without =FILE to stdout' })
    .option('problems-only', { type: 'boolean', default: false, describe: 'human output: list only failed, warned and errored checks (the summary stays whole)' })
    .option('fail-on', { choices: ['error', 'warning', 'never'] as const, default: 'error' as const, describe: 'lowest severity that fails the run (exit 1)' })
    .option('only', { type: 'string', array: true, describe: 'run only these check ids or categories (repeatable)' })
    .option('skip', { type: 'string', array: true, describe: 'skip these check ids or categories (repeatable)' })
    .option('timeout', { type: 'string', default: '20s', describe: 'per check' })
    .option('wait', { type: 'string', describe: 're-run failing checks every 5s until they pass or this time is up' })
    .option('concurrency', { type: 'number', default: 8, describe: 'checks in flight' })
    .option('plugin', {
      type: 'string',
      array: true,
      describe: 'MODULE whose default export is a check or an array of checks (repeatable). Loading it RUNS ITS CODE with your privileges and credentials: use only modules you trust',
    })
    .option('cert-warn-days', { type: 'number', default: 30, describe: 'warn when a CA certificate expires within this many days' })
    .option('severity', { type: 'string', array: true, describe: 'override a severity: CHECK-ID[/messageId]=error|warning|info (repeatable)' })
    .option('probe-from', { type: 'string', array: true, describe: 'connectivity probe source NAMESPACE/LABEL-SELECTOR (repeatable)' })
    .option('probe-to', { type: 'string', array: true, describe: 'connectivity probe target HOST[:PORT][/PATH] (repeatable)' })
    .option('probe-count', { type: 'number', default: 10, describe: 'requests per connectivity target' })
    .option('probe-timeout', { type: 'string', default: '3s', describe: 'deadline of one connectivity probe request' })
    .option('prometheus', { type: 'string', describe: 'Prometheus URL for observability checks' })
    .option('color', { type: 'boolean', describe: 'colour the human report (--no-color; also NO_COLOR, FORCE_COLOR)' });
}
