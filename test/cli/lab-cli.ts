// Run the CLI in-process against a lab started for the test, and stop the lab whatever happens.
import { expect } from 'vitest';
import { type RunningLab, type StartLabOptions } from '../../src/lab/index.ts';
import { startCliLab } from './cli-lab.ts';
import type { CheckResult, Report } from '../../src/engine/types.ts';
import { runCliInProcess } from './run-cli.ts';

/** `meshdoctor all --kubeconfig <lab> -o json ARGS`, its report and exit code. `prepare` may edit the running lab first. */
export async function runAllAgainstLab(
  lab: StartLabOptions,
  args: string[],
  prepare?: (running: RunningLab) => void | Promise<void>,
): Promise<{ report: Report; exitCode: number; stderr: string }> {
  const running = await startCliLab(lab);
  try {
    await prepare?.(running);
    const run = await runCliInProcess(['all', '--kubeconfig', running.kubeconfigPath, '-o', 'json', ...args]);
    expect(run.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    return { report: JSON.parse(run.stdout) as Report, exitCode: run.exitCode, stderr: run.stderr };
  } finally {
    await running.stop();
  }
}

/** The result of one check on one cluster (`*` for mesh scope); fails the test when absent. */
export function resultOf(report: Report, checkId: string, cluster: string): CheckResult {
  const result = report.results.find((r) => r.checkId === checkId && r.cluster === cluster);
  expect(result, `${checkId} [${cluster}] in the report`).toBeDefined();
  return result!;
}

/** `checkId [cluster] messageId` of every finding of severity error, sorted. */
export function errorFindings(report: Report): string[] {
  return report.results.flatMap((r) => r.findings.filter((f) => f.severity === 'error').map((f) => `${f.checkId} [${f.cluster}] ${f.messageId}`)).sort();
}
