// npm run build (and prepack): the JavaScript and .d.ts files of the published package, in dist.
// Cleaned first, so a file removed from src/ cannot linger in a package.
//
// The JavaScript is one esbuild bundle (ES modules, code splitting) with two entry points:
// dist/cli/process.js (what bin/meshdoctor.js runs) and dist/index.js (the plugin API, `exports`).
// Start-up is mostly module loading: a snapshot analysis loaded some 500 files (our 170 and yaml's,
// @peculiar's and tsyringe's), each resolved, read and compiled. Bundled, it loads a handful of chunks.
// Every dynamic import() stays a split point, so a command loads only the chunks it reaches: the
// Kubernetes client, undici and ws (left external: they are only ever loaded by commands that talk
// to a cluster, and npm installs them as the dependencies they are) and the lab load when needed.
// The two entries share their chunks, so a plugin's `import 'meshdoctor'` (served from dist/index.js,
// see src/cli/plugins.ts) gets the very module instances the CLI runs. Declarations for the plugin
// API come from tsc.
//
//   node scripts/build.ts                # dist/: the bundle, the declarations and the metafile
//   node scripts/build.ts --outdir DIR   # the bundle alone into DIR (npm run bench measures one there)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { METAFILE } from './dist-meta.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

/** Loaded only by commands that talk to a cluster (and ws's optional native speed-ups, never installed by us). */
const EXTERNAL = ['@kubernetes/client-node', 'undici', 'ws', 'bufferutil', 'utf-8-validate'];

const flag = process.argv.indexOf('--outdir');
const outdir = flag === -1 ? join(root, 'dist') : resolve(process.argv[flag + 1]);
const packaged = flag === -1;

rmSync(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/process.ts', 'src/index.ts'],
  outbase: 'src',
  outdir,
  entryNames: '[dir]/[name]',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  // engines.node (a test compares the launcher's minimum with it).
  target: 'node22.19',
  external: EXTERNAL,
  // The version is fixed at build time: no package.json is read at start-up.
  define: { MESHDOCTOR_BUILD_VERSION: JSON.stringify(pkg.version) },
  // Bundled CommonJS dependencies (yargs' helpers, @peculiar's, tsyringe) require() Node's built-ins;
  // an ES module has no `require` of its own.
  banner: { js: "import { createRequire as __meshdoctorCreateRequire } from 'node:module';\nconst require = __meshdoctorCreateRequire(import.meta.url);" },
  // Licence comments of the bundled dependencies stay, at the end of each file.
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
});
if (packaged) {
  mkdirSync(dirname(METAFILE), { recursive: true });
  writeFileSync(METAFILE, JSON.stringify(result.metafile));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}
