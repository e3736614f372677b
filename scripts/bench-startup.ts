// npm run bench:startup: start-up times of the built package (dist/, run as the installed bin is)
// next to a bare `node -e 0` started the same way: medians of RUNS runs (default 7) on this machine.
// Builds dist/ first when it is missing. Prints a table; asserts nothing (the tests assert what loads).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.env.RUNS ?? 7);
if (!existsSync(`${root}dist/cli/process.js`)) execFileSync(process.execPath, [`${root}scripts/build.ts`], { stdio: 'inherit' });
// The launcher picks src/ in a clone; this measures what users run: dist/, through the same launcher code.
const dist = `${root}dist/cli/process.js`;
const entry = ['--input-type=module', '-e', `const { runCli } = await import(${JSON.stringify(dist)}); process.exitCode = await runCli(process.argv.slice(1));`, '--'];

const cases: [string, string[]][] = [
  ['node -e 0', ['-e', '0']],
  ['--version', [...entry, '--version']],
  ['--help', [...entry, '--help']],
  ['checks', [...entry, 'checks']],
  ['explain certificates/shared-root', [...entry, 'explain', 'certificates/shared-root']],
  ['lab scenarios', [...entry, 'lab', 'scenarios']],
  ['all --snapshot fixtures/multi-primary-healthy', [...entry, 'all', '--snapshot', 'fixtures/multi-primary-healthy']],
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const rows: string[] = [];
let bare = 0;
for (const [name, args] of cases) {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    spawnSync(process.execPath, args, { cwd: root, stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const m = median(times);
  if (name === 'node -e 0') bare = m;
  rows.push(`| ${name} | ${m.toFixed(0)} ms | ${(m / bare).toFixed(1)}x |`);
}
process.stdout.write(`Node ${process.version}, ${availableParallelism()} cores, load average ${loadavg()[0].toFixed(1)}, median of ${runs} runs\n\n| command | median | vs node -e 0 |\n|---|---|---|\n${rows.join('\n')}\n`);
