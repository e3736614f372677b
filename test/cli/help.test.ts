// --help lists every category (issue 13), each also a command: the usage line and the positional.
import { describe, expect, it } from 'vitest';
import { CATEGORIES } from '../../src/engine/types.ts';
import { runCliProcess } from './run-cli.ts';

describe('meshdoctor --help', () => {
  it('names every category in the usage line and in the category positional', async () => {
    const { stdout, exitCode } = await runCliProcess(['--help'], { COLUMNS: '400' });
    expect(exitCode).toBe(0);
    const usage = stdout.split('\n')[0];
    // The positional's text, however yargs wrapped it.
    const positional = (stdout.split('Positionals:')[1] ?? '').split('Options:')[0].replace(/\s+/g, ' ');
    for (const category of CATEGORIES) {
      expect(usage).toContain(category);
      expect(positional).toMatch(new RegExp(`\\b${category}\\b`));
    }
  });
});
