import { CATEGORIES, type Category, type Check } from './types.ts';
import { didYouMean } from '../util/suggest.ts';

/** A problem with the set of checks or a selection of them: the CLI maps it to exit code 2. */
export class RegistryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryError';
  }
}

const CHECK_ID = /^([a-z][a-z0-9]*(?:-[a-z0-9]+)*)\/([a-z0-9]+(?:-[a-z0-9]+)*)$/;
const MESSAGE_ID = /^[a-z][a-zA-Z0-9]*$/;

/**
 * Validate checks (built-in and plugins alike) the way ESLint validates rules: ids `category/name`,
 * a known category matching the id, camelCase messageIds with a template and hint, known
 * `dependsOn` targets, no dependency cycles. Throws RegistryError naming the first problem.
 */
export function validateChecks(checks: Check[]): void {
  const byId = new Map<string, Check>();
  for (const check of checks) {
    const where = `check ${JSON.stringify(check?.id)}`;
    if (!check || typeof check !== 'object') throw new RegistryError('a check must be an object made with defineCheck()');
    const match = CHECK_ID.exec(check.id ?? '');
    if (!match) throw new RegistryError(`${where}: id must look like "category/kebab-name"`);
    if (!(CATEGORIES as readonly string[]).includes(check.category)) {
      throw new RegistryError(`${where}: unknown category "${check.category}" (one of ${CATEGORIES.join(', ')})`);
    }
    if (match[1] !== check.category) throw new RegistryError(`${where}: id must start with its category "${check.category}/"`);
    if (check.scope !== 'cluster' && check.scope !== 'mesh') throw new RegistryError(`${where}: scope must be "cluster" or "mesh"`);
    if (typeof check.run !== 'function') throw new RegistryError(`${where}: run(ctx) is missing`);
    if (!check.meta?.description) throw new RegistryError(`${where}: meta.description is missing`);
    if (!Array.isArray(check.needs)) throw new RegistryError(`${where}: needs must be an array`);
    for (const [messageId, message] of Object.entries(check.meta.messages ?? {})) {
      if (!MESSAGE_ID.test(messageId)) throw new RegistryError(`${where}: messageId "${messageId}" must be camelCase`);
      if (!message.template || !message.hint || !['error', 'warning', 'info'].includes(message.severity)) {
        throw new RegistryError(`${where}: message "${messageId}" needs a template, a hint and a severity`);
      }
    }
    if (byId.has(check.id)) throw new RegistryError(`${where}: defined twice`);
    byId.set(check.id, check);
  }
  for (const check of checks) {
    for (const dep of check.dependsOn ?? []) {
      if (!byId.has(dep)) throw new RegistryError(`check "${check.id}": dependsOn unknown check "${dep}"`);
    }
  }
  // Depth-first search for cycles: a cycle would make the runner wait forever.
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]): void => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') throw new RegistryError(`dependency cycle: ${[...path, id].join(' -> ')}`);
    state.set(id, 'visiting');
    for (const dep of byId.get(id)?.dependsOn ?? []) visit(dep, [...path, id]);
    state.set(id, 'done');
  };
  for (const id of byId.keys()) visit(id, []);
}

/** True when `value` names a category. */
export function isCategory(value: string): value is Category {
  return (CATEGORIES as readonly string[]).includes(value);
}

/**
 * Choose the checks to run: a category command (`network`) or all, then `--only` and `--skip`
 * (each an id or a category). An unknown id or category is an invocation error.
 * Dependencies of selected checks are not added: a dependent whose dependency did not run runs on its own.
 */
export function selectChecks(checks: Check[], opts: { category?: Category; only?: string[]; skip?: string[] }): Check[] {
  const known = (name: string): boolean => isCategory(name) || checks.some((c) => c.id === name);
  for (const name of [...(opts.only ?? []), ...(opts.skip ?? [])]) {
    if (!known(name)) {
      throw new RegistryError(`unknown check or category "${name}"${didYouMean(name, [...CATEGORIES, ...checks.map((c) => c.id)])}; see \`meshdoctor checks\``);
    }
  }
  const matches = (check: Check, name: string): boolean => check.id === name || check.category === name;
  return checks
    .filter((c) => !opts.category || c.category === opts.category)
    .filter((c) => !opts.only?.length || opts.only.some((name) => matches(c, name)))
    .filter((c) => !opts.skip?.some((name) => matches(c, name)))
    .sort(compareChecks);
}

/** Report order: category order of CATEGORIES, then id. */
export function compareChecks(a: Check, b: Check): number {
  return CATEGORIES.indexOf(a.category) - CATEGORIES.indexOf(b.category) || a.id.localeCompare(b.id);
}
