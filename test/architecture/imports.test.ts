// The module graph of src/ has no cycle: a cycle means two modules are one layer pretending to be
// two (snapshot reader and writer, a reporter and its renderers), and makes load order matter.
// Every relative import counts, type-only and dynamic ones included.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');

/** Every .ts file under `dir`, as absolute paths. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** `from '...'` of import/export declarations, and `import('...')`. Comments are stripped first. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

/** The relative imports of a module's source, resolved to absolute paths. */
export function importsOf(file: string, text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const found = new Set<string>();
  for (const match of code.matchAll(SPECIFIER)) {
    const spec = match[1];
    if (spec.startsWith('.')) found.add(path.resolve(path.dirname(file), spec));
  }
  return [...found];
}

/** Strongly connected components with more than one module (or a module importing itself): the cycles. */
export function findCycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) cycles.push(component.sort());
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return cycles;
}

describe('src/ import graph', () => {
  const files = sourceFiles(SRC);
  const graph = new Map(files.map((file) => [file, importsOf(file, readFileSync(file, 'utf8'))]));

  it('every relative import names a module that exists', () => {
    const known = new Set(files);
    const dangling = [...graph].flatMap(([file, imports]) => imports.filter((target) => !known.has(target)).map((target) => `${path.relative(SRC, file)} -> ${path.relative(SRC, target)}`));
    expect(dangling).toEqual([]);
  });

  it('has no import cycle', () => {
    const cycles = findCycles(graph).map((cycle) => cycle.map((file) => path.relative(SRC, file)).join(' <-> '));
    expect(cycles).toEqual([]);
  });

  it('the walker sees a cycle, type-only and dynamic imports included', () => {
    const a = path.join(SRC, 'a.ts');
    const b = path.join(SRC, 'b.ts');
    const c = path.join(SRC, 'c.ts');
    const fake = new Map([
      [a, importsOf(a, "import type { B } from './b.ts';\n// import { C } from './c.ts';\n")],
      [b, importsOf(b, "export async function f() { return import('./c.ts'); }\n")],
      [c, importsOf(c, "export { A } from './a.ts';\nimport x from 'yaml';\n")],
    ]);
    expect(fake.get(a)).toEqual([b]);
    expect(findCycles(fake)).toEqual([[a, b, c].sort()]);
    expect(findCycles(new Map([[a, [b]], [b, []]]))).toEqual([]);
  });
});
