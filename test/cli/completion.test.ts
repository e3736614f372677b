// `meshdoctor completion`: the script loads in bash and completes commands, categories, check ids,
// kube contexts, lab scenarios and faults, through bash's own completion machinery calling the CLI.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN_CHECKS } from '../../src/checks/index.ts';
import { CATEGORIES } from '../../src/engine/types.ts';
import { LAB_FAULTS, LAB_SCENARIOS } from '../../src/lab/model/catalog.ts';
import { REPO_ROOT } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'meshdoctor-completion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// `meshdoctor` on PATH, as an installed one would be: the script calls it by name.
const binDir = join(dir, 'bin');
mkdirSync(binDir);
writeFileSync(join(binDir, 'meshdoctor'), `#!/bin/sh\nexec "${process.execPath}" "${REPO_ROOT}bin/meshdoctor.js" "$@"\n`);
chmodSync(join(binDir, 'meshdoctor'), 0o755);

const kubeconfig = join(dir, 'kubeconfig');
writeFileSync(
  kubeconfig,
  [
    'apiVersion: v1',
    'kind: Config',
    'contexts:',
    '- name: east',
    '  context: {cluster: a, user: a}',
    '- name: west@prod',
    '  context: {cluster: b, user: b}',
    '- name: "evil $(touch pwned)"',
    '  context: {cluster: b, user: b}',
    '',
  ].join('\n'),
);

function bash(script: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', script],
      { cwd: dir, env: { ...process.env, PATH: `${binDir}${delimiter}${process.env.PATH}`, SHELL: '/bin/bash', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** What bash offers after typing `line` (the last word, maybe empty, is the one being completed). */
async function offered(words: string[], env: Record<string, string> = {}): Promise<string[]> {
  const quoted = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const run = await bash(
    `source <(meshdoctor completion); COMP_WORDS=(meshdoctor ${quoted}); COMP_CWORD=${words.length}; _meshdoctor_yargs_completions; printf '%s\\n' "\${COMPREPLY[@]}"`,
    env,
  );
  expect(run.stderr).toBe('');
  return run.stdout.split('\n').filter(Boolean).sort();
}

const CHECK_IDS = BUILTIN_CHECKS.map((c) => c.id).sort();

describe('meshdoctor completion', () => {
  it('prints a script that bash loads, registering completion for meshdoctor', async () => {
    const run = await bash('source <(meshdoctor completion) && complete -p meshdoctor');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^complete .*-F _meshdoctor_yargs_completions meshdoctor$/m);
  });

  it('the first word: every command and category', async () => {
    const words = await offered(['']);
    expect(words).toEqual(expect.arrayContaining(['all', 'test', 'checks', 'explain', 'snapshot', 'lab', 'completion', ...CATEGORIES]));
    expect(words).not.toContain('$0');
  });

  it('explain: the check ids, filtered by what is typed', async () => {
    expect(await offered(['explain', ''])).toEqual(CHECK_IDS);
    expect(await offered(['explain', 'certificates/'])).toEqual(CHECK_IDS.filter((id) => id.startsWith('certificates/')));
  });

  it('--only and --skip: categories and check ids', async () => {
    expect(await offered(['all', '--skip', ''])).toEqual([...CATEGORIES, ...CHECK_IDS].sort());
  });

  it('--context: the contexts of the kubeconfig (--kubeconfig or KUBECONFIG), never a name that is not plain', async () => {
    expect(await offered(['all', '--kubeconfig', kubeconfig, '--context', ''])).toEqual(['east', 'west@prod']);
    expect(await offered(['network', '--context', ''], { KUBECONFIG: kubeconfig })).toEqual(['east', 'west@prod']);
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
  });

  it('--lab, lab serve --scenario and --fault: the lab scenarios and faults', async () => {
    const scenarios = LAB_SCENARIOS.map((s) => s.name).sort();
    expect(await offered(['all', '--lab', ''])).toEqual(scenarios);
    expect(await offered(['lab', 'serve', '--scenario', ''])).toEqual(scenarios);
    expect(await offered(['all', '--lab', 'demo', '--fault', ''])).toEqual(LAB_FAULTS.map((f) => f.name).sort());
    expect(await offered(['lab', ''])).toEqual(['export', 'scenarios', 'serve']);
  });

  it('options of a run command', async () => {
    expect(await offered(['all', '--fail'])).toEqual(['--fail-on']);
    expect(await offered(['all', '--fail-on', ''])).toEqual(['error', 'never', 'warning']);
  });

  it('a TAB never runs the command typed so far (no lab is served)', async () => {
    const out = join(dir, 'tab.kubeconfig');
    const words = await offered(['lab', 'serve', '--kubeconfig-out', out, '--sc']);
    expect(words).toContain('--scenario');
    expect(existsSync(out)).toBe(false);
  });
});
