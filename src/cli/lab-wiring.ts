import type { Argv } from 'yargs';
import type { CliIO } from './io.ts';
// Cheap to load (the lab itself is imported by the subcommands' handlers); a synchronous builder lets
// shell completion see the subcommands and their options.
import { registerLabSubcommands } from './lab-command.ts';

/** `meshdoctor lab ...`: the lab's own subcommands (src/cli/lab-command.ts), writing to the CLI's IO. */
export function registerLabCommands(y: Argv, io: CliIO, setExit: (code: number) => void): Argv {
  setExit(0);
  // `lab serve` stops gracefully on Ctrl-C (servers closed, kubeconfig removed): give it the plain
  // signal hook rather than the CLI's, which exits at once after writing partial reports.
  return registerLabSubcommands(y, { ...io, onInterrupt: undefined });
}
