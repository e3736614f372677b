// npm run conformance:regen [-- --check] [-- --case NAME]
// Builds conformance/istiod (the real istiod over Istio's FakeDiscoveryServer; Go and the module
// proxy needed, caches outside the repo), exports every conformance case of the lab
// (src/lab/export.ts), runs the program on it and writes the goldens under conformance/golden/
// (canonical JSON: keys sorted, lists ordered, xDS nonces and times replaced). --check writes nothing
// and fails when a golden would change. The fidelity test (test/conformance) reads the goldens
// without Go.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildExportMesh, exportLab } from '../src/lab/export.ts';
import { canonicalGolden, CONFORMANCE_NOW, conformanceCases, GOLDEN_FILES } from '../src/lab/fidelity.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const moduleDir = join(root, 'conformance', 'istiod');
const goldenDir = join(root, 'conformance', 'golden');
const args = process.argv.slice(2);
const check = args.includes('--check');
const only = args.includes('--case') ? args[args.indexOf('--case') + 1] : undefined;

const cache = process.env.MESHDOCTOR_CONFORMANCE_CACHE ?? join(homedir(), '.cache', 'meshdoctor-conformance');
const goEnv = {
  ...process.env,
  GOMODCACHE: join(cache, 'mod'),
  GOCACHE: join(cache, 'build'),
  // Two cores shared with the rest of the machine: one package at a time unless told otherwise.
  GOFLAGS: process.env.GOFLAGS ?? '-mod=readonly -p=1',
};

function build(): string {
  const bin = join(cache, 'bin', 'conformance-istiod');
  mkdirSync(dirname(bin), { recursive: true });
  const started = Date.now();
  execFileSync('go', ['build', '-o', bin, '.'], { cwd: moduleDir, env: goEnv, stdio: 'inherit' });
  process.stderr.write(`conformance: built ${bin} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  return bin;
}

const bin = build();
const work = mkdtempSync(join(tmpdir(), 'meshdoctor-conformance-'));
let changed = 0;
try {
  const cases = conformanceCases().filter((c) => !only || c.name === only);
  if (only && cases.length === 0) throw new Error(`no conformance case ${only}`);
  for (const c of cases) {
    const exportDir = join(work, c.name, 'export');
    const outDir = join(work, c.name, 'out');
    const mesh = await buildExportMesh({ scenario: c.scenario, faults: c.faults, now: CONFORMANCE_NOW });
    const manifest = await exportLab(mesh, exportDir);
    execFileSync(bin, ['-in', exportDir, '-out', outDir], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, GOMAXPROCS: '2' } });
    for (const primary of manifest.primaries) {
      for (const file of GOLDEN_FILES) {
        const body = readFileSync(join(outDir, primary.name, `${file}.json`), 'utf8');
        const target = join(goldenDir, c.name, primary.name, `${file}.json`);
        const text = canonicalGolden(file, body);
        const before = existsSync(target) ? readFileSync(target, 'utf8') : undefined;
        if (before === text) continue;
        changed++;
        process.stderr.write(`conformance: ${before === undefined ? 'new' : 'changed'} ${target.slice(root.length + 1)}\n`);
        if (!check) {
          mkdirSync(dirname(target), { recursive: true });
          writeFileSync(target, text);
        }
      }
    }
    // Goldens of a primary the case no longer has are stale.
    const caseDir = join(goldenDir, c.name);
    for (const dir of existsSync(caseDir) ? readdirSync(caseDir) : []) {
      if (dir.endsWith('.json') || manifest.primaries.some((p) => p.name === dir)) continue;
      changed++;
      process.stderr.write(`conformance: stale ${join(caseDir, dir).slice(root.length + 1)}\n`);
      if (!check) rmSync(join(caseDir, dir), { recursive: true });
    }
    const caseFile = join(caseDir, 'case.json');
    const caseText = `${JSON.stringify({ scenario: c.scenario, faults: c.faults, primaries: manifest.primaries.map((p) => p.name) }, null, 2)}\n`;
    if (!existsSync(caseFile) || readFileSync(caseFile, 'utf8') !== caseText) {
      changed++;
      if (!check) {
        mkdirSync(caseDir, { recursive: true });
        writeFileSync(caseFile, caseText);
      }
    }
    process.stderr.write(`conformance: ${c.name}: ${manifest.primaries.length} primaries\n`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
// docs/lab-fidelity.md from the goldens as they now are (the fidelity test checks it is current).
if (!check && !only) {
  const { fidelityOfGoldens, realStackPart, renderFidelityMarkdown } = await import('../src/lab/fidelity.ts');
  const { ISTIO_PSEUDO_VERSION } = await import('../src/lab/conformance-version.ts');
  const { cases, result } = await fidelityOfGoldens(goldenDir);
  const docPath = join(root, 'docs', 'lab-fidelity.md');
  const realStack = existsSync(docPath) ? realStackPart(readFileSync(docPath, 'utf8')) : '';
  writeFileSync(docPath, renderFidelityMarkdown(result, cases, ISTIO_PSEUDO_VERSION) + (realStack ? `\n${realStack}` : ''));
  process.stderr.write(`conformance: docs/lab-fidelity.md: ${result.equal}/${result.compared} fields equal, ${result.differences.length} differences\n`);
}
if (check && changed > 0) {
  process.stderr.write(`conformance: ${changed} golden file(s) differ from what istiod serves now; run npm run conformance:regen and commit\n`);
  process.exit(1);
}
process.stderr.write(`conformance: ${changed} golden file(s) ${check ? 'would change' : 'written'}\n`);
