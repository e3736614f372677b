// The published package as a user gets it: `npm pack`, `npm install -g` of the tarball into a temp
// prefix, then the installed `meshdoctor` (and `kubectl-meshdoctor`) run from a PATH holding that
// prefix and one Node.js: the machine's own and the project's Node 24. Nothing here runs from src/.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_CHECKS } from '../../src/checks/index.ts';
import { METAFILE, type DistMeta } from '../../scripts/dist-meta.ts';
import { FAST, HEAVY, heavyLoaded } from '../helpers/heavy-modules.ts';
import { DEMO_FINDINGS, NODE_24, REPO_ROOT, atLeast, enginesMinimum, errorKeys, kubectl132, run, systemNode, type Run } from './helpers.ts';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string; engines: { node: string }; bin: Record<string, string> };
const MINIMUM = enginesMinimum(pkg.engines.node);
const work = mkdtempSync(join(tmpdir(), 'meshdoctor-package-'));
let tarball = '';
let files: string[] = [];

/** npm, run by the given Node (npm's own shebang finds `node` on PATH). */
const NPM = '/usr/bin/env';

interface Install {
  name: string;
  node: string;
  prefix: string;
  version: string;
}

const installs: Install[] = [];

/** PATH for a user of `install`: the prefix's bin and the directory of one `node`, plus the system's tools. */
function userPath(install: Install, ...extra: string[]): string {
  return [join(install.prefix, 'bin'), dirname(install.node), ...extra, '/usr/bin', '/bin'].join(delimiter);
}

/** Where npm install -g put the package. */
function installedPackage(install: Install): string {
  return join(install.prefix, 'lib', 'node_modules', 'meshdoctor');
}

function meshdoctor(install: Install, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return run(join(install.prefix, 'bin', 'meshdoctor'), args, {
    cwd: opts.cwd ?? work,
    env: { PATH: userPath(install), HOME: work, NO_COLOR: '1', CI: 'true', ...opts.env },
  });
}

async function install(name: string, node: string): Promise<Install> {
  const prefix = join(work, `prefix-${name}`);
  const env = { ...process.env, PATH: [dirname(node), process.env.PATH].join(delimiter), npm_config_prefix: prefix };
  const result = await run(NPM, ['npm', 'install', '--global', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball], { env, cwd: work, timeoutMs: 300_000 });
  expect(result.stderr.replace(/^npm warn EBADENGINE.*\n/gm, '').trim(), `npm install -g with ${name} failed`).not.toMatch(/ERR!/);
  expect(result.code).toBe(0);
  const version = (await run(node, ['--version'], { env: {} })).stdout.trim();
  return { name, node, prefix, version };
}

beforeAll(async () => {
  // prepack builds dist/ (tsc): the tarball is what `npm publish` would upload.
  const packed = await run(NPM, ['npm', 'pack', '--json', '--pack-destination', work], { env: { ...process.env }, cwd: REPO_ROOT, timeoutMs: 300_000 });
  expect(packed.code, packed.stderr).toBe(0);
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, info.filename);
  files = info.files.map((f) => f.path).sort();
  const nodes: [string, string][] = [['node24', NODE_24]];
  const own = systemNode();
  if (own) nodes.unshift(['system', own]);
  installs.push(...(await Promise.all(nodes.map(([name, node]) => install(name, node)))));
}, 600_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the package', () => {
  it('holds the built JavaScript, its declarations, LICENSE, the docs and the schema; no sources, tests or fixtures', () => {
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'bin/meshdoctor.js', 'docs/checks.md', 'schema/report.schema.json', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/process.js']));
    const unexpected = files.filter((f) => !/^(LICENSE|README\.md|package\.json|bin\/meshdoctor\.js|docs\/checks\.md|schema\/report\.schema\.json|dist\/.+\.(js|d\.ts))$/.test(f));
    expect(unexpected).toEqual([]);
    expect(readFileSync(join(REPO_ROOT, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0/);
    expect(pkg.bin).toEqual({ meshdoctor: 'bin/meshdoctor.js', 'kubectl-meshdoctor': 'bin/meshdoctor.js' });
  });

  it('the launcher refuses the same Node.js versions as engines', () => {
    const launcher = readFileSync(join(REPO_ROOT, 'bin', 'meshdoctor.js'), 'utf8');
    expect(/const MINIMUM = \[(\d+), (\d+)\]/.exec(launcher)?.slice(1).map(Number)).toEqual(MINIMUM);
  });
});

describe.each([['system'], ['node24']])('installed with npm install -g, run by %s Node.js', (name) => {
  const current = () => installs.find((i) => i.name === name);

  it('is installed as meshdoctor and kubectl-meshdoctor', () => {
    const inst = current();
    if (!inst) return expect(name).toBe('system'); // no Node.js on this machine's PATH but the project's
    expect(existsSync(join(inst.prefix, 'bin', 'meshdoctor'))).toBe(true);
    expect(existsSync(join(inst.prefix, 'bin', 'kubectl-meshdoctor'))).toBe(true);
  });

  it('--version, or one clear line naming the Node.js it needs', async () => {
    const inst = current();
    if (!inst) return;
    const result = await meshdoctor(inst, ['--version']);
    if (atLeast(inst.version, MINIMUM)) {
      expect(result.stderr).toBe('');
      expect(result.stdout.trim()).toBe(pkg.version);
      expect(result.code).toBe(0);
    } else {
      // An unsupported Node.js (the machine's Node 20 here): exit 2, one line, no stack trace.
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain(`${MINIMUM.join('.')} or newer`);
      expect(result.stderr).toContain(inst.version);
    }
  });

  it('all --lab: exit 1 with the demo findings, every check ran', async () => {
    const inst = current();
    if (!inst || !atLeast(inst.version, MINIMUM)) return;
    const json = await meshdoctor(inst, ['all', '--lab', '-o', 'json']);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report.meshdoctorVersion).toBe(pkg.version);
    expect(errorKeys(report)).toEqual(expect.arrayContaining(DEMO_FINDINGS));
    expect(new Set(report.results.map((r: { checkId: string }) => r.checkId))).toEqual(new Set(BUILTIN_CHECKS.map((c) => c.id)));
    expect(report.results.filter((r: { outcome: string }) => r.outcome === 'error')).toEqual([]);
    const human = await meshdoctor(inst, ['all', '--lab', '--skip', 'connectivity']);
    expect(human.code).toBe(1);
    for (const finding of DEMO_FINDINGS) expect(human.stdout).toContain(finding.split(' ')[0]);
  });

  it("a plugin importing defineCheck from 'meshdoctor' runs, and type-checks against the package's declarations", async () => {
    const inst = current();
    if (!inst || !atLeast(inst.version, MINIMUM)) return;
    const dir = join(work, `plugin-${name}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'team-checks', type: 'module', private: true }));
    const source = [
      "import { defineCheck } from 'meshdoctor';",
      '',
      'export default defineCheck({',
      "  id: 'control-plane/team-label',",
      "  category: 'control-plane',",
      "  scope: 'cluster',",
      "  needs: ['deployments'],",
      '  meta: {',
      "    description: 'Every cluster is named by our convention',",
      "    docs: 'https://example.com/runbooks/cluster-names',",
      "    messages: { named: { template: 'cluster {{name}} seen', severity: 'info', hint: 'nothing to do' } },",
      '  },',
      '  async run(ctx) {',
      "    ctx.report({ messageId: 'named', data: { name: ctx.cluster?.name ?? 'unknown' } });",
      '  },',
      '});',
      '',
    ].join('\n');
    // The same source as JavaScript (what `--plugin` loads) and as TypeScript (what a plugin author type-checks).
    writeFileSync(join(dir, 'plugin.mjs'), source);
    writeFileSync(join(dir, 'plugin.ts'), source);
    const ran = await meshdoctor(inst, ['all', '--lab', 'multi-primary', '--plugin', './plugin.mjs', '--only', 'control-plane/team-label', '-o', 'json'], { cwd: dir });
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    const report = JSON.parse(ran.stdout);
    const findings = report.results.flatMap((r: { checkId: string; cluster: string; findings: { messageId: string }[] }) => r.findings.map((f) => `${r.checkId} [${r.cluster}] ${f.messageId}`));
    expect(findings.sort()).toEqual(['control-plane/team-label [cluster1] named', 'control-plane/team-label [cluster2] named']);
    if (name !== 'node24') return;
    // The author's project depends on meshdoctor (npm i -D meshdoctor); here: the installed copy.
    mkdirSync(join(dir, 'node_modules'), { recursive: true });
    symlinkSync(installedPackage(inst), join(dir, 'node_modules', 'meshdoctor'));
    const tsc = await run(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--target', 'es2023', '--skipLibCheck', 'plugin.ts'], { cwd: dir, env: { PATH: process.env.PATH } });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.code).toBe(0);
  });

  it("a plugin gets the running CLI's own API: 'meshdoctor' is the package's dist/index.js, the one module instance the CLI's chunks share", async () => {
    const inst = current();
    if (!inst || !atLeast(inst.version, MINIMUM)) return;
    const dir = join(work, `same-api-${name}`);
    mkdirSync(dir, { recursive: true });
    const shipped = pathToFileURL(join(installedPackage(inst), 'dist', 'index.js')).href;
    writeFileSync(
      join(dir, 'same-api.mjs'),
      [
        "import { defineCheck } from 'meshdoctor';",
        `import * as shipped from ${JSON.stringify(shipped)};`,
        '',
        'export default defineCheck({',
        "  id: 'control-plane/same-api',",
        "  category: 'control-plane',",
        "  scope: 'mesh',",
        '  needs: [],',
        '  meta: {',
        "    description: 'The API a plugin imports is the one the CLI runs',",
        "    docs: 'https://example.com/runbooks/same-api',",
        "    messages: { same: { template: 'same', severity: 'info', hint: '-' }, other: { template: 'another copy', severity: 'error', hint: '-' } },",
        '  },',
        '  async run(ctx) {',
        "    ctx.report({ messageId: defineCheck === shipped.defineCheck ? 'same' : 'other' });",
        '  },',
        '});',
        '',
      ].join('\n'),
    );
    const ran = await meshdoctor(inst, ['all', '--lab', 'multi-primary', '--plugin', './same-api.mjs', '--only', 'control-plane/same-api', '-o', 'json'], { cwd: dir });
    expect(ran.stderr).toBe('');
    const report = JSON.parse(ran.stdout);
    expect(report.results.flatMap((r: { checkId: string; findings: { messageId: string }[] }) => r.findings.map((f) => `${r.checkId} ${f.messageId}`))).toEqual(['control-plane/same-api same']);
    expect(ran.code).toBe(0);
  });

  it.runIf(name === 'node24')('commands that talk to no cluster load neither the Kubernetes client, undici, ws nor the lab (chunks of the bundle, read through the build\'s metafile)', async () => {
    const inst = current()!;
    const meta = JSON.parse(readFileSync(METAFILE, 'utf8')) as DistMeta;
    const distUrl = pathToFileURL(join(realpathSync(installedPackage(inst)), 'dist')).href;
    // A chunk of dist/ stands for the sources bundled into it; anything else (an external package) for itself.
    const sources = (urls: string[]) =>
      urls.flatMap((url) => {
        if (!url.startsWith(`${distUrl}/`)) return [url];
        const output = meta.outputs[`dist/${url.slice(distUrl.length + 1)}`];
        expect(output, `${url} is not an output of the build`).toBeDefined();
        return Object.keys(output.inputs).map((input) => `/${input}`);
      });
    const loaded = async (args: string[], label: string) => {
      const out = join(work, `modules-${label}.txt`);
      const result = await meshdoctor(inst, args, { cwd: REPO_ROOT, env: { NODE_OPTIONS: `--import ${pathToFileURL(join(REPO_ROOT, 'test', 'helpers', 'record-modules.ts')).href}`, MESHDOCTOR_RECORD_MODULES: out } });
      return { code: result.code, sources: sources(readFileSync(out, 'utf8').split('\n').filter(Boolean)) };
    };
    for (const [label, args, exitCode] of FAST) {
      const run = await loaded(args, label);
      expect(run.code, label).toBe(exitCode);
      expect(heavyLoaded(run.sources), label).toEqual([]);
    }
    // The recorder and the metafile see what they are there to catch, or the loop above proves nothing.
    const lab = await loaded(['all', '--lab', '--only', 'control-plane/istiod-ready'], 'lab-run');
    expect(lab.code).toBe(0);
    expect(heavyLoaded(lab.sources)).toEqual(HEAVY.map(([heavy]) => heavy));
  });

  it('completion output loads in bash', async () => {
    const inst = current();
    if (!inst || !atLeast(inst.version, MINIMUM)) return;
    const result = await run('bash', ['-c', 'source <(meshdoctor completion); complete -p meshdoctor'], { env: { PATH: userPath(inst), HOME: work } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/-F _meshdoctor_yargs_completions meshdoctor$/m);
  });
});

const kubectl = kubectl132();
const requireKubectl = process.env.MESHDOCTOR_REQUIRE_KUBECTL === '1';

describe('kubectl meshdoctor (real kubectl 1.32 finding the plugin on PATH)', () => {
  it.runIf(requireKubectl)('kubectl.1.32 is beside the kubectl dispatcher (MESHDOCTOR_REQUIRE_KUBECTL=1)', () => {
    expect(kubectl).toBeDefined();
  });

  let lab: ChildProcess | undefined;
  afterAll(async () => {
    if (!lab || lab.exitCode !== null) return;
    const exited = new Promise((resolve) => lab!.once('exit', resolve));
    lab.kill('SIGINT');
    await exited;
  });

  it.skipIf(!kubectl)('kubectl meshdoctor all --context cluster1 --kubeconfig <lab> answers as meshdoctor does', async () => {
    const inst = installs.find((i) => i.name === 'node24')!;
    const kubeconfig = join(work, 'lab.kubeconfig');
    // A fault that a run of cluster1 alone sees: istiod not ready there.
    lab = spawn(join(inst.prefix, 'bin', 'meshdoctor'), ['lab', 'serve', '--fault', 'istiod-not-ready:cluster1', '--kubeconfig-out', kubeconfig], {
      env: { PATH: userPath(inst), HOME: work },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let served = '';
    await new Promise<void>((resolve, reject) => {
      lab!.stdout!.on('data', (chunk: Buffer) => {
        served += chunk.toString();
        if (served.includes('Press Ctrl+C')) resolve();
      });
      lab!.once('exit', (code) => reject(new Error(`lab serve exited with ${code}: ${served}`)));
    });
    const args = ['all', '--context', 'cluster1', '--kubeconfig', kubeconfig, '-o', 'json', '--skip', 'connectivity'];
    // No KUBECONFIG and a HOME without ~/.kube: the clusters can only come from the flags.
    const env = { PATH: userPath(inst, dirname(kubectl!)), HOME: work, NO_COLOR: '1', CI: 'true' };
    const viaKubectl = await run(kubectl!, ['meshdoctor', ...args], { env, cwd: work });
    const direct = await run(join(inst.prefix, 'bin', 'meshdoctor'), args, { env, cwd: work });
    expect(viaKubectl.stderr).toBe(direct.stderr);
    expect(viaKubectl.code).toBe(direct.code);
    const [a, b] = [JSON.parse(viaKubectl.stdout), JSON.parse(direct.stdout)];
    // --context chose exactly cluster1, of the kubeconfig --kubeconfig named.
    expect(a.clusters.map((c: { name: string }) => c.name)).toEqual(['cluster1']);
    expect(b.clusters.map((c: { name: string }) => c.name)).toEqual(['cluster1']);
    const outcomes = (r: { results: { checkId: string; cluster: string; outcome: string }[] }) => r.results.map((x) => `${x.checkId} [${x.cluster}] ${x.outcome}`).sort();
    expect(outcomes(a)).toEqual(outcomes(b));
    expect(errorKeys(a)).toContain('control-plane/istiod-ready [cluster1] istiodUnavailable');
    expect(viaKubectl.code).toBe(1);
  });
});
