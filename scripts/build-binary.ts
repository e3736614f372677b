// npm run build:binary: the single executable release/meshdoctor-<platform>-<arch> (Node.js single executable
// application: one CommonJS bundle of meshdoctor and its dependencies, lab included, injected into a
// copy of the Node 24 binary of the `node` devDependency), its archive for krew and the krew manifest
// release/meshdoctor.yaml with the archive's sha256. See README "Install" for other platforms.
//
//   npm run build:binary                       # uri of the manifest: file:// of the local archive
//   MESHDOCTOR_RELEASE_URL=https://host/v0.1.0 npm run build:binary   # uri: <that URL>/<archive>
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'release');
const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

// The embedded Node must be the one that writes the preparation blob (the blob is tied to its version).
const node = process.env.MESHDOCTOR_SEA_NODE ?? join(root, 'node_modules', 'node', 'bin', 'node');
const nodeVersion = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
const [target, platform] = execFileSync(node, ['-p', 'process.platform + "-" + process.arch + " " + process.platform'], { encoding: 'utf8' }).trim().split(' ');
// Linux is what this project builds and tests; macOS and Windows follow Node's documented SEA steps
// (signature removed before injection and re-applied after on macOS; .exe on Windows).
const name = `meshdoctor-${target}`;
const exe = platform === 'win32' ? `${name}.exe` : name;

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// 1. One CommonJS file (what a single executable runs). Dynamic imports stay lazy: esbuild turns each
//    into a deferred initializer, so `--version` still evaluates none of the Kubernetes client or lab.
const bundle = join(out, 'meshdoctor.cjs');
await build({
  stdin: { contents: "import { runCli } from './src/cli/process.ts';\nrunCli().then((code) => { process.exitCode = code; });\n", resolveDir: root, loader: 'ts', sourcefile: 'sea-main.ts' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  outfile: bundle,
  // ws loads these native speed-ups when present; without them it uses its JavaScript code.
  external: ['bufferutil', 'utf-8-validate'],
  // There is no package.json beside the executable, and import.meta does not exist in CommonJS:
  // the version is defined here, and import.meta.url is the executable's own file URL.
  define: { MESHDOCTOR_BUILD_VERSION: JSON.stringify(pkg.version), 'import.meta.url': '__meshdoctor_import_meta_url' },
  banner: { js: "const __meshdoctor_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'error',
  legalComments: 'none',
});

// 2. The preparation blob, then a copy of Node with the blob injected (postject, as Node's docs do).
const seaConfig = join(out, 'sea-config.json');
const blob = join(out, 'sea-prep.blob');
writeFileSync(seaConfig, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }, null, 2));
execFileSync(node, ['--experimental-sea-config', seaConfig], { stdio: ['ignore', 'ignore', 'inherit'] });
const executable = join(out, exe);
copyFileSync(node, executable);
chmodSync(executable, 0o755);
if (platform === 'darwin') execFileSync('codesign', ['--remove-signature', executable]);
const postject = join(require.resolve('postject/package.json'), '..', 'dist', 'cli.js');
const machO = platform === 'darwin' ? ['--macho-segment-name', 'NODE_SEA'] : [];
try {
  execFileSync(process.execPath, [postject, executable, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2', ...machO], { stdio: 'pipe' });
} catch (err) {
  // postject's harmless ELF warnings would bury a real failure: show its output only then.
  const e = err as { stdout?: Buffer; stderr?: Buffer };
  process.stderr.write(`${e.stdout ?? ''}${e.stderr ?? ''}`);
  throw err;
}
if (platform === 'darwin') execFileSync('codesign', ['--sign', '-', executable]);

// 3. The archive krew downloads (the executable and its licence) and the manifest naming its sha256.
const archive = join(out, `${name}.tar.gz`);
copyFileSync(join(root, 'LICENSE'), join(out, 'LICENSE'));
execFileSync('tar', ['-czf', archive, '-C', out, exe, 'LICENSE']);
const sha256 = createHash('sha256').update(readFileSync(archive)).digest('hex');
const base = process.env.MESHDOCTOR_RELEASE_URL?.replace(/\/$/, '');
const uri = base ? `${base}/${name}.tar.gz` : pathToFileURL(archive).href;
const manifest = readFileSync(join(root, 'plugins', 'meshdoctor.yaml'), 'utf8')
  .split('\n')
  .filter((line) => !line.startsWith('#'))
  .join('\n')
  .replaceAll('{{version}}', pkg.version)
  .replaceAll(`{{uri:${target}}}`, uri)
  .replaceAll(`{{sha256:${target}}}`, sha256);
if (/\{\{/.test(manifest)) process.stderr.write(`note: release/meshdoctor.yaml still names platforms not built here (${[...manifest.matchAll(/\{\{\w+:([\w-]+)\}\}/g)].map((m) => m[1]).join(', ')})\n`);
writeFileSync(join(out, 'meshdoctor.yaml'), manifest.trimStart());
writeFileSync(join(out, 'SHA256SUMS'), `${sha256}  ${name}.tar.gz\n${createHash('sha256').update(readFileSync(executable)).digest('hex')}  ${exe}\n`);
rmSync(blob);
rmSync(seaConfig);
process.stdout.write(`built ${executable} (Node ${nodeVersion}), ${archive} (sha256 ${sha256}) and ${join(out, 'meshdoctor.yaml')}\n`);
