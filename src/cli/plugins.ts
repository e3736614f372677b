import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { BUILTIN_CHECKS } from '../checks/index.ts';
import { validateChecks } from '../engine/registry.ts';
import type { Check } from '../engine/types.ts';
import { UsageError } from './errors.ts';

/**
 * Built-in checks plus those of `--plugin` modules (default export: a check or an array of checks,
 * made with the exported defineCheck). Everything is validated the same way; a broken plugin is
 * an invocation error (exit 2) naming the module.
 */
export async function loadAllChecks(plugins: string[], cwd: string): Promise<Check[]> {
  const checks: Check[] = [...BUILTIN_CHECKS];
  for (const spec of plugins) {
    const path = resolve(cwd, spec);
    const looksLikePath = spec.startsWith('.') || spec.startsWith('/') || /\.[cm]?[jt]s$/.test(spec);
    if (looksLikePath && !existsSync(path)) throw new UsageError(`plugin ${spec}: file not found: ${path}`);
    const url = existsSync(path) ? pathToFileURL(path).href : spec;
    let module: { default?: unknown };
    try {
      module = await import(url);
    } catch (err) {
      throw new UsageError(`cannot load plugin ${spec}: ${(err as Error).message.split('\n')[0]}`);
    }
    const exported = module.default;
    const list = Array.isArray(exported) ? exported : [exported];
    if (!exported || list.some((c) => !c || typeof c !== 'object' || typeof (c as Check).run !== 'function')) {
      throw new UsageError(`plugin ${spec}: its default export must be a check or an array of checks (made with defineCheck)`);
    }
    checks.push(...(list as Check[]));
  }
  try {
    validateChecks(checks);
  } catch (err) {
    throw new UsageError(`${plugins.length ? 'plugin: ' : ''}${(err as Error).message}`);
  }
  return checks;
}
