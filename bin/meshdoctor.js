#!/usr/bin/env node
// meshdoctor runs its TypeScript sources directly with Node's type stripping (Node >= 22.18).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`meshdoctor: needs Node.js 22.18 or newer (this is ${process.version}); run it through npm (npx meshdoctor) to use the project's Node 24\n`);
  process.exit(2);
}
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  // Type stripping announces itself as experimental on some versions; that is noise for users.
  if (warning.name !== 'ExperimentalWarning') process.stderr.write(`${warning.name}: ${warning.message}\n`);
});
const { runCli } = await import('../src/cli/process.ts');
process.exitCode = await runCli();
