// The real process around main(): stdout/stderr, environment, signals, version.
import { MESHDOCTOR_VERSION as version } from '../version.ts';
import { main } from './main.ts';

/** Run meshdoctor with process.argv; resolves to the exit code. */
export async function runCli(argv: string[] = process.argv.slice(2)): Promise<number> {
  // `meshdoctor checks | head`: a reader that closes the pipe early is not an error (as kubectl does).
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  return main(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    version,
    columns: process.stdout.columns,
    onInterrupt(handler) {
      const onSignal = (): void => {
        handler();
        process.exit(130); // INTERRUPTED_EXIT_CODE of diagnose.ts (not imported: start-up stays light)
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      return () => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      };
    },
  });
}
