import type { Argv } from 'yargs';
import type { CliIO } from './io.ts';

/** `meshdoctor lab ...`: the lab's own subcommands (src/cli/lab-command.ts). */
export async function registerLabCommands(y: Argv, io: CliIO, setExit: (code: number) => void): Promise<Argv> {
  const { labCommand } = await import('./lab-command.ts');
  void io;
  void setExit;
  return y.command(labCommand as never).demandCommand(1, 'name a lab subcommand: scenarios or serve');
}
