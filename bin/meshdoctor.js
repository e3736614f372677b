#!/usr/bin/env node
// meshdoctor (also installed as kubectl-meshdoctor, so `kubectl meshdoctor` works). The published package
// runs the JavaScript built into dist; a clone of the repository runs its TypeScript sources directly.
// Plain JavaScript that any Node.js parses, so that an old one gets a clear line instead of a stack trace.
import { existsSync } from 'node:fs';

// Keep in step with "engines" in package.json (a test compares them): @kubernetes/client-node's undici needs 22.19.
const MINIMUM = [22, 19];
const source = new URL('../src/cli/process.ts', import.meta.url);
const fromSource = existsSync(source);
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < MINIMUM[0] || (major === MINIMUM[0] && minor < MINIMUM[1])) {
  const hint = fromSource
    ? "run it through npm (npm start, npx meshdoctor) to use the project's Node 24"
    : 'install a current Node.js LTS (22 or 24), or use the single executable meshdoctor-linux-x64, which brings its own';
  process.stderr.write(`meshdoctor: needs Node.js ${MINIMUM.join('.')} or newer (this is ${process.version}); ${hint}\n`);
  process.exit(2);
}
if (fromSource) {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    // Type stripping announces itself as experimental on some versions; that is noise for users.
    if (warning.name !== 'ExperimentalWarning') process.stderr.write(`${warning.name}: ${warning.message}\n`);
  });
}
if (!fromSource) {
  // V8's compiled code of the bundle, kept on disk (the system's temporary directory) for the next start:
  // compiling dist/ is a tenth of a snapshot analysis' CPU. Node.js skips it silently when it cannot
  // write there; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
  const { enableCompileCache } = await import('node:module');
  enableCompileCache?.();
}
const { runCli } = await import(fromSource ? source.href : '../dist/cli/process.js');
process.exitCode = await runCli();
