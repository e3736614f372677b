// --plugin runs a module's code by design: only commands that run checks load plugins. The others
// refuse the flag (exit 2) without importing anything.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCliInProcess, runCliProcess } from './run-cli.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'meshdoctor-plugin-'));
const MARKER = path.join(dir, 'plugin-top-level-ran');
const PLUGIN = 'test/cli/plugins/writes-marker.ts';
afterAll(() => {
  delete process.env.MESHDOCTOR_TEST_PLUGIN_MARKER;
  rmSync(dir, { recursive: true, force: true });
});

describe('plugin loading', () => {
  it('checks and explain refuse --plugin without running its code; a run loads it', async () => {
    process.env.MESHDOCTOR_TEST_PLUGIN_MARKER = MARKER;
    for (const args of [['checks', '--plugin', PLUGIN], ['checks', '-o', 'json', '--plugin', PLUGIN], ['explain', 'control-plane/plugin-loaded', '--plugin', PLUGIN]]) {
      const run = await runCliInProcess(args);
      expect([args.join(' '), run.exitCode]).toEqual([args.join(' '), 2]);
      expect(run.stderr).toMatch(/^meshdoctor: --plugin loads and runs a module's code, so only commands that run checks accept it/);
      expect(existsSync(MARKER)).toBe(false);
    }
    // The contrast that makes the above meaningful: the same module, loaded by a run, does run.
    const run = await runCliInProcess(['control-plane', '--lab', 'multi-primary', '--plugin', PLUGIN, '--only', 'control-plane/plugin-loaded', '-o', 'json']);
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout).results.map((r: { checkId: string; outcome: string }) => [r.checkId, r.outcome])).toEqual([['control-plane/plugin-loaded', 'pass']]);
    expect(existsSync(MARKER)).toBe(true);
  }, 60_000);

  it('--help says that a plugin runs code', async () => {
    const run = await runCliProcess(['all', '--help']);
    expect(run.stdout.replace(/\s+/g, ' ')).toMatch(/--plugin .*RUNS ITS CODE with your privileges/);
  });
});
