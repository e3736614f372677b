import { startLab, type RunningLab, type StartLabOptions } from '../../src/lab/index.ts';
import type { Report } from '../../src/engine/types.ts';
import { CLI_TEST_NOW } from './run-cli.ts';

/**
 * A lab for in-process CLI runs: its mesh runs on the CLI's test clock (CLI_TEST_NOW), so the CA,
 * workload certificates and tokens it issues are judged at the moment they were issued for, on any day.
 */
export function startCliLab(opts: StartLabOptions = {}): Promise<RunningLab> {
  return startLab({ clock: () => new Date(CLI_TEST_NOW), ...opts });
}

/**
 * A report's findings as `checkId [cluster] messageId severity`, sorted, for the checks that can run
 * on a snapshot (connectivity probes and the remote API probe need a live cluster): what a snapshot
 * round trip compares.
 */
export function offlineVerdicts(report: Report): string[] {
  const offlineCapable = (checkId: string) => !checkId.startsWith('connectivity/') && checkId !== 'control-plane/remote-api-access';
  return report.results
    .filter((r) => offlineCapable(r.checkId))
    .flatMap((r) => r.findings.map((f) => `${r.checkId} [${f.cluster}] ${f.messageId} ${f.severity}`))
    .sort();
}
