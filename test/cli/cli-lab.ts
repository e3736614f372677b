import { startLab, type RunningLab, type StartLabOptions } from '../../src/lab/index.ts';
import { CLI_TEST_NOW } from './run-cli.ts';

/**
 * A lab for in-process CLI runs: its mesh runs on the CLI's test clock (CLI_TEST_NOW), so the CA,
 * workload certificates and tokens it issues are judged at the moment they were issued for, on any day.
 */
export function startCliLab(opts: StartLabOptions = {}): Promise<RunningLab> {
  return startLab({ clock: () => new Date(CLI_TEST_NOW), ...opts });
}
