// Fake probe tools for shell tests: each answer (stdout, stderr, exit code, a delay) is written both
// as a small sh script on a temporary PATH, for the system's /bin/sh, and as a host for the lab's
// shell (src/lab/sim/shell.ts), so one script can run under both and their results be compared.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecResult } from '../../src/cluster/types.ts';
import type { ShellHost } from '../../src/lab/sim/shell.ts';

/** What a fake tool does for one argument list. */
export interface FakeAnswer {
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  /** Seconds it takes (real sh only: the lab's shell runs jobs at once). */
  sleep?: number;
}

/** Answers by tool, then by its arguments joined with one space. */
export type FakeTools = Record<string, Record<string, FakeAnswer>>;

const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/** A temp dir of fake tools for /bin/sh; `remove` deletes it. */
export function fakeToolDir(tools: FakeTools): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'meshdoctor-fake-tools-'));
  for (const [tool, answers] of Object.entries(tools)) {
    const cases = Object.entries(answers).map(
      ([args, a]) =>
        `  ${quote(args)}) ${a.sleep ? `/bin/sleep ${a.sleep}; ` : ''}printf '%s' ${quote(a.stdout ?? '')}; printf '%s' ${quote(a.stderr ?? '')} >&2; exit ${a.exitCode ?? 0};;`,
    );
    const file = join(dir, tool);
    writeFileSync(file, `#!/bin/sh\ncase "$*" in\n${cases.join('\n')}\nesac\nprintf '${tool}: no fake answer for %s\\n' "$*" >&2\nexit 99\n`);
    chmodSync(file, 0o755);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The same tools as a host of the lab's shell. */
export function fakeToolHost(tools: FakeTools, bin?: string): ShellHost {
  return {
    ...(bin ? { bin } : {}),
    has: (name) => name in tools,
    run: async (argv) => {
      const answers = tools[argv[0]];
      if (!answers) return undefined;
      const a = answers[argv.slice(1).join(' ')];
      if (!a) return { exitCode: 99, stdout: '', stderr: `${argv[0]}: no fake answer for ${argv.slice(1).join(' ')}\n` };
      return { exitCode: a.exitCode ?? 0, stdout: a.stdout ?? '', stderr: a.stderr ?? '' };
    },
  };
}

/** Run `sh -c script` with the system's /bin/sh, only the fake tools' dir on PATH (plus nothing else). */
export function realSh(script: string, dir: string): Promise<ExecResult & { ms: number }> {
  const start = performance.now();
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', script], { env: { PATH: dir, LC_ALL: 'C' }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ exitCode: code, stdout, stderr, ms: performance.now() - start });
    });
  });
}
