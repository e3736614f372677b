// Real kubectl against a lab started in this process, for the kubectl tests of the lab scenarios.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startLab, type RunningLab, type StartLabOptions } from '../../src/lab/index.ts';

/** CI sets MESHDOCTOR_REQUIRE_KUBECTL: there a missing kubectl fails instead of skipping. */
export const kubectlRequired = Boolean(process.env.MESHDOCTOR_REQUIRE_KUBECTL);
export const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Start a lab before the file's tests and stop it after; `kubectl` runs real kubectl against it,
 * asynchronously (the lab serves from this process: a sync spawn would block it), with a HOME of
 * its own so no discovery cache leaks between runs.
 */
export function labForKubectl(opts: StartLabOptions): { lab: () => RunningLab; kubectl: (args: string[]) => Promise<KubectlResult> } {
  let lab: RunningLab | undefined;
  let home: string | undefined;
  beforeAll(async () => {
    lab = await startLab(opts);
    home = mkdtempSync(join(tmpdir(), 'meshdoctor-kubectl-'));
  });
  afterAll(async () => {
    await lab?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });
  const kubectl = (args: string[]): Promise<KubectlResult> =>
    new Promise((resolve) => {
      execFile('kubectl', args, { env: { ...process.env, KUBECONFIG: lab!.kubeconfigPath, HOME: home }, timeout: 60_000, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });
  return { lab: () => lab!, kubectl };
}
