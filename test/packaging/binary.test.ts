// The single executable (`npm run build:binary`): built here, then run with a PATH that holds no
// `node`, as on an operator's machine without Node.js. It embeds the lab, so `all --lab` works; its
// JSON report follows the schema; krew's archive and manifest describe it; kubectl finds it as a plugin.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_FINDINGS, REPO_ROOT, errorKeys, findOnPath, kubectl132, run } from './helpers.ts';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
const release = join(REPO_ROOT, 'release');
const executable = join(release, 'meshdoctor-linux-x64');
const work = mkdtempSync(join(tmpdir(), 'meshdoctor-binary-'));
// Nothing but an empty directory on PATH: no node, no npm.
const emptyDir = join(work, 'empty-bin');
mkdirSync(emptyDir);
const bare = { PATH: emptyDir, HOME: work, NO_COLOR: '1', CI: 'true' };

beforeAll(async () => {
  const built = await run(process.execPath, [join(REPO_ROOT, 'scripts', 'build-binary.ts')], { env: { ...process.env }, cwd: REPO_ROOT, timeoutMs: 600_000 });
  expect(built.code, built.stderr).toBe(0);
}, 600_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.runIf(process.platform === 'linux' && process.arch === 'x64')('meshdoctor-linux-x64', () => {
  it('runs with no node on PATH: --version', async () => {
    expect(findOnPath('node', bare.PATH)).toBeUndefined();
    const result = await run(executable, ['--version'], { env: bare, cwd: work });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(pkg.version);
    expect(result.code).toBe(0);
  });

  it('all --lab -o json: the embedded lab, the demo findings, a report valid against the schema', async () => {
    const result = await run(executable, ['all', '--lab', '-o', 'json'], { env: bare, cwd: work });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'schema', 'report.schema.json'), 'utf8'));
    const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.meshdoctorVersion).toBe(pkg.version);
    expect(errorKeys(report)).toEqual(expect.arrayContaining(DEMO_FINDINGS));
    expect(report.results.filter((r: { outcome: string }) => r.outcome === 'error')).toEqual([]);
  });

  it("loads a plugin that imports defineCheck from 'meshdoctor' (the executable's own API)", async () => {
    const plugin = join(REPO_ROOT, 'test', 'packaging', 'plugins', 'self-import.mjs');
    const result = await run(executable, ['all', '--lab', '--plugin', plugin, '--only', 'control-plane/self-import', '-o', 'json'], { env: bare, cwd: work });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.results.flatMap((r: { checkId: string; findings: { messageId: string }[] }) => r.findings.map((f) => `${r.checkId} ${f.messageId}`))).toEqual(['control-plane/self-import seen']);
  });

  it("krew's archive holds the executable and LICENSE; the manifest names its sha256 and that executable", async () => {
    const archive = join(release, 'meshdoctor-linux-x64.tar.gz');
    const listing = await run('tar', ['-tzf', archive], { env: { PATH: process.env.PATH } });
    expect(listing.stdout.split('\n').filter(Boolean).sort()).toEqual(['LICENSE', 'meshdoctor-linux-x64']);
    const manifest = parseYaml(readFileSync(join(release, 'meshdoctor.yaml'), 'utf8'));
    expect(manifest.kind).toBe('Plugin');
    expect(manifest.metadata.name).toBe('meshdoctor');
    expect(manifest.spec.version).toBe(`v${pkg.version}`);
    const [platform] = manifest.spec.platforms;
    expect(platform.selector.matchLabels).toEqual({ os: 'linux', arch: 'amd64' });
    expect(platform.sha256).toBe(createHash('sha256').update(readFileSync(archive)).digest('hex'));
    expect(platform.uri).toMatch(/\/meshdoctor-linux-x64\.tar\.gz$/);
    expect(platform.bin).toBe('meshdoctor-linux-x64');
    expect(platform.files.map((f: { from: string }) => f.from).sort()).toEqual(['LICENSE', 'meshdoctor-linux-x64']);
  });

  const kubectl = kubectl132();
  it.skipIf(!kubectl)('installed as krew does (a kubectl-meshdoctor link to it), kubectl 1.32 runs it', async () => {
    // krew links ~/.krew/bin/kubectl-<name> to the manifest's bin.
    const krewBin = join(work, 'krew-bin');
    mkdirSync(krewBin);
    symlinkSync(executable, join(krewBin, 'kubectl-meshdoctor'));
    const env = { ...bare, PATH: [krewBin, dirname(kubectl!)].join(delimiter) };
    expect(findOnPath('node', env.PATH)).toBeUndefined();
    const result = await run(kubectl!, ['meshdoctor', 'all', '--lab', '--only', 'certificates/shared-root', '-o', 'json'], { env, cwd: work });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(1);
    expect(errorKeys(JSON.parse(result.stdout))).toEqual(['certificates/shared-root [*] rootMismatch']);
  });
});
