import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { registerHooks } from 'node:module';
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
  if (plugins.length) await resolveMeshdoctorToSelf();
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

let selfResolving = false;

/** Where the running meshdoctor's public API waits for the plugins that import it. */
const API = Symbol.for('meshdoctor.api');

/**
 * A plugin's `import { defineCheck } from 'meshdoctor'` means the meshdoctor that runs it: a global
 * install (npm i -g) is on no ES module's resolution path, the single executable has no files to
 * resolve to, and a plugin must get the contract of the engine it runs in. So 'meshdoctor' resolves
 * to a module made of this process's own public API.
 */
async function resolveMeshdoctorToSelf(): Promise<void> {
  if (selfResolving) return;
  selfResolving = true;
  const api = await import('../index.ts');
  (globalThis as Record<symbol, unknown>)[API] = api;
  const names = Object.keys(api);
  const source = `const api = globalThis[Symbol.for('meshdoctor.api')];\n${names.map((n) => `export const ${n} = api.${n};`).join('\n')}\n`;
  registerHooks({
    resolve: (specifier, context, nextResolve) => (specifier === 'meshdoctor' ? { url: 'meshdoctor:api', shortCircuit: true } : nextResolve(specifier, context)),
    load: (url, context, nextLoad) => (url === 'meshdoctor:api' ? { format: 'module', source, shortCircuit: true } : nextLoad(url, context)),
  });
}
