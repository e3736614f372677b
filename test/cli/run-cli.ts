import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** What one CLI invocation produced. */
export interface CliRun {
  args: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * The clock of in-process CLI runs: a fixed moment, a day after the fixtures were captured, so that
 * snapshot ages, the lab's CA validity dates and every time-based verdict read the same on any day.
 */
export const CLI_TEST_NOW = new Date('2026-11-21T12:00:00Z');

/** Run the CLI in-process with captured output (no TTY, no colour unless the env forces it). */
export async function runCliInProcess(args: string[], env: Record<string, string | undefined> = {}, cwd = REPO_ROOT): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const exitCode = await main(args, {
    stdout: { write: (text: string) => (stdout += text), isTTY: false },
    stderr: { write: (text: string) => (stderr += text), isTTY: false },
    env: { CI: 'true', ...env },
    cwd,
    version: '0.0.0-test',
    columns: 120,
    now: () => new Date(CLI_TEST_NOW),
  });
  return { args, exitCode, stdout, stderr };
}

/** Run the real bin/meshdoctor.js in a child process with the project's Node. */
export function runCliProcess(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [`${REPO_ROOT}bin/meshdoctor.js`, ...args],
      { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1', CI: 'true', ...env }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const exitCode = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ args, exitCode, stdout, stderr });
      },
    );
  });
}

/**
 * Make output stable for snapshots: durations, timestamps, ports, temp paths, versions and
 * certificate fingerprints vary from run to run; everything else is pinned.
 */
export function scrub(text: string): string {
  return text
    .split(REPO_ROOT)
    .join('<repo>/')
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?/g, '<time>')
    .replace(/"(durationMs|time)": ?\d+(\.\d+)?/g, '"$1": 0')
    .replace(/time="\d+(\.\d+)?"/g, 'time="0.000"')
    .replace(/\b\d+(\.\d+)?(ms|s)\b/g, '<dur>')
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>')
    .replace(/\/tmp\/[\w./-]+/g, '<tmp>')
    .replace(/\b[0-9a-f]{2}(:[0-9a-f]{2}){7,}\b/gi, '<fingerprint>')
    .replace(/\b[0-9a-f]{64}\b/gi, '<sha256>')
    .replace(/sha256:[0-9a-f]{8,}/gi, 'sha256:<fp>');
}

/** A run as a markdown snapshot: command, exit code, stdout, stderr. */
export function asSnapshot(run: CliRun): string {
  const fence = (text: string) => `\`\`\`\n${scrub(text).trimEnd()}\n\`\`\``;
  return [`# meshdoctor ${run.args.join(' ')}`, '', `exit code: ${run.exitCode}`, '', '## stdout', '', fence(run.stdout), '', '## stderr', '', fence(run.stderr), ''].join('\n');
}
