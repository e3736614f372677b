// Commands that never talk to a cluster start fast because they do not load the Kubernetes client,
// undici, ws or the lab: asserted on the modules each command actually loads (recorded by a preloaded
// hook in a child process), never on timing. `npm run bench` measures the times. The built package
// (one bundle, lazy chunks) is held to the same in test/packaging/package.test.ts.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FAST, HEAVY, heavyLoaded } from '../helpers/heavy-modules.ts';
import { REPO_ROOT } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'meshdoctor-modules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run bin/meshdoctor.js with `args`; resolves to its exit code and the URLs of every module it loaded. */
function loadedModules(args: string[], name: string): Promise<{ exitCode: number; modules: string[] }> {
  const out = join(dir, `${name}.txt`);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', `${REPO_ROOT}test/helpers/record-modules.ts`, `${REPO_ROOT}bin/meshdoctor.js`, ...args],
      { cwd: REPO_ROOT, env: { ...process.env, MESHDOCTOR_RECORD_MODULES: out, NO_COLOR: '1', CI: 'true' }, timeout: 60_000 },
      (error) => {
        const exitCode = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ exitCode, modules: readFileSync(out, 'utf8').split('\n').filter(Boolean) });
      },
    );
  });
}

describe('fast start: what each command loads', () => {
  it.each(FAST)('%s loads neither the Kubernetes client, undici, ws nor the lab', async (name, args, exitCode) => {
    const run = await loadedModules(args, name);
    expect(run.exitCode).toBe(exitCode);
    expect(heavyLoaded(run.modules)).toEqual([]);
  });

  it('--version loads no check and no reporter either', async () => {
    const run = await loadedModules(['--version'], 'version-only');
    expect(run.modules.filter((url) => /\/src\/(checks|reporters|mesh|engine\/run)/.test(url))).toEqual([]);
  });

  // The recorder itself must see what it is there to catch, or the assertions above prove nothing.
  it('a lab run loads all of them', async () => {
    const run = await loadedModules(['all', '--lab', '--only', 'control-plane/istiod-ready'], 'lab-run');
    expect(run.exitCode).toBe(0);
    expect(heavyLoaded(run.modules)).toEqual(HEAVY.map(([name]) => name));
  });
});
