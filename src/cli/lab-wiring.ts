import type { Argv } from 'yargs';
import type { CliIO } from './io.ts';

/** `meshdoctor lab ...`: the lab's own subcommands (src/cli/lab-command.ts), writing to the CLI's IO. */
export async function registerLabCommands(y: Argv, io: CliIO, setExit: (code: number) => void): Promise<Argv> {
  const { registerLabSubcommands } = await import('./lab-command.ts');
  setExit(0);
  // `lab serve` stops gracefully on Ctrl-C (servers closed, kubeconfig removed): give it the plain
  // signal hook rather than the CLI's, which exits at once after writing partial reports.
  return registerLabSubcommands(y, { ...io, onInterrupt: undefined });
}
