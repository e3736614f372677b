// `meshdoctor completion` prints yargs' shell script; the script calls back with the words typed so
// far and this module answers with what fits there: commands and categories, check ids, kube contexts,
// lab scenarios and faults. Completion runs on every TAB, so it reads the kubeconfig's context names
// with a YAML parser rather than loading the Kubernetes client.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CATEGORIES } from '../engine/types.ts';

/** What completion needs of the CLI. */
export interface CompletionContext {
  env: Record<string, string | undefined>;
  cwd: string;
  /** yargs' own completions (commands, options of the command typed) for the words so far. */
  defaults: () => Promise<string[]>;
  /** The options of the commands that run checks (yargs does not see them: they belong to `$0`). */
  runOptions: () => string[];
}

/** Only plain names reach the shell: a context name from a kubeconfig is data, not shell input. */
const PLAIN = /^[\w.@:/+-]{1,253}$/;

/** The first words that run checks: `all`, a category, or `test`. */
const RUN_WORDS = ['all', ...CATEGORIES, 'test'];

/** Completions for `words`: what follows the program name, the last one being typed (maybe ''). */
export async function complete(words: string[], ctx: CompletionContext): Promise<string[]> {
  const current = words[words.length - 1] ?? '';
  const typed = words.slice(0, -1);
  const matching = (list: string[]) => [...new Set(list)].filter((c) => c.startsWith(current) && c !== '$0');
  const values = await valuesFor(typed[typed.length - 1], typed, ctx);
  if (values) return matching(values);
  if (typed.length === 0 && !current.startsWith('-')) return matching([...RUN_WORDS, ...(await ctx.defaults())]);
  if (typed[0] === 'explain' && typed.length === 1 && !current.startsWith('-')) return matching(await checkIds());
  const runs = typed.length === 0 || RUN_WORDS.includes(typed[0]) || typed[0].startsWith('-');
  if (runs && current.startsWith('-')) return matching([...ctx.runOptions(), '--help']);
  return matching(await ctx.defaults());
}

/** The values an option takes, when `previous` is an option with values to offer; undefined otherwise. */
async function valuesFor(previous: string | undefined, typed: string[], ctx: CompletionContext): Promise<string[] | undefined> {
  switch (previous) {
    case '--context':
      return kubeContexts(optionValue(typed, '--kubeconfig'), ctx.env, ctx.cwd);
    case '--only':
    case '--skip':
      return [...CATEGORIES, ...(await checkIds())];
    case '--severity':
      return (await checkIds()).map((id) => `${id}=`);
    case '--lab':
    case '--scenario':
      return (await import('../lab/model/catalog.ts')).LAB_SCENARIOS.map((s) => s.name);
    case '--fault':
      return (await import('../lab/model/catalog.ts')).LAB_FAULTS.map((f) => f.name);
    case '-o':
    case '--output':
      return typed.includes('checks') || typed.includes('scenarios') ? ['human', 'json'] : ['human', 'json', 'junit', 'json=', 'junit='];
    case '--fail-on':
      return ['error', 'warning', 'never'];
    default:
      return undefined;
  }
}

async function checkIds(): Promise<string[]> {
  const { BUILTIN_CHECKS } = await import('../checks/index.ts');
  return BUILTIN_CHECKS.map((c) => c.id).sort();
}

function optionValue(words: string[], option: string): string | undefined {
  const at = words.lastIndexOf(option);
  if (at >= 0 && at + 1 < words.length) return words[at + 1];
  const inline = words.findLast((w) => w.startsWith(`${option}=`));
  return inline?.slice(option.length + 1);
}

/** Context names of the kubeconfig kubectl would use (--kubeconfig, else KUBECONFIG's files, else ~/.kube/config). */
function kubeContexts(explicit: string | undefined, env: Record<string, string | undefined>, cwd: string): string[] {
  const files = explicit
    ? [resolve(cwd, explicit)]
    : env.KUBECONFIG
      ? env.KUBECONFIG.split(delimiter).filter(Boolean).map((f) => resolve(cwd, f))
      : [join(homedir(), '.kube', 'config')];
  const names = new Set<string>();
  for (const file of files) {
    if (!existsSync(file)) continue;
    try {
      const config = parseYaml(readFileSync(file, 'utf8')) as { contexts?: { name?: unknown }[] } | null;
      for (const context of config?.contexts ?? []) {
        if (typeof context?.name === 'string' && PLAIN.test(context.name)) names.add(context.name);
      }
    } catch {
      // A broken kubeconfig offers no contexts; the command itself will say what is wrong with it.
    }
  }
  return [...names];
}
