// npm run docs: regenerate docs/checks.md from the built-in checks, and the README's example output
// from a real run of the demo (the CLI as `npm start` runs it, into a pipe, without colour).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BUILTIN_CHECKS } from '../src/checks/index.ts';
import { renderChecksMarkdown } from '../src/cli/docs.ts';
import { abridgeDemoOutput, withExample } from './readme-example.ts';

writeFileSync(new URL('../docs/checks.md', import.meta.url), renderChecksMarkdown(BUILTIN_CHECKS));

const demo = spawnSync(process.execPath, [fileURLToPath(new URL('../bin/meshdoctor.js', import.meta.url)), 'all', '--lab'], {
  encoding: 'utf8',
  env: { ...process.env, NO_COLOR: '1', CI: 'true', COLUMNS: undefined },
  maxBuffer: 16 * 1024 * 1024,
});
// The demo has two faults: exit 1 is its success.
if (demo.status !== 1) throw new Error(`meshdoctor all --lab exited ${demo.status}: ${demo.stderr}`);
const readme = new URL('../README.md', import.meta.url);
writeFileSync(readme, withExample(readFileSync(readme, 'utf8'), abridgeDemoOutput(demo.stdout)));
