// What a command that talks to no cluster must not load, shared by the start-up test of the sources
// (test/cli/fast-start.test.ts) and of the built package (test/packaging/package.test.ts).

/** The heavy parts a command must not load unless it talks to a cluster or runs the lab: patterns on module URLs. */
export const HEAVY: [name: string, pattern: RegExp][] = [
  ['@kubernetes/client-node', /\/node_modules\/@kubernetes\/client-node\//],
  ['undici', /\/node_modules\/undici\//],
  ['ws', /\/node_modules\/ws\//],
  // The lab's catalogs of scenarios and faults (model/catalog.ts, transport.ts) are data; everything
  // else of the lab builds or serves one.
  ['the lab', /\/src\/lab\/(?!model\/catalog\.ts$|model\/errors\.ts$|transport\.ts$)/],
];

/** The names of the HEAVY parts among `urls`. */
export function heavyLoaded(urls: string[]): string[] {
  return HEAVY.filter(([, pattern]) => urls.some((url) => pattern.test(url))).map(([name]) => name);
}

/** Commands that talk to no cluster: name, arguments, exit code. */
export const FAST: [name: string, args: string[], exitCode: number][] = [
  ['version', ['--version'], 0],
  ['help', ['--help'], 0],
  ['checks', ['checks'], 0],
  ['explain', ['explain', 'certificates/shared-root'], 0],
  ['lab-scenarios', ['lab', 'scenarios'], 0],
  ['snapshot-analysis', ['all', '--snapshot', 'fixtures/root-mismatch'], 1],
];
