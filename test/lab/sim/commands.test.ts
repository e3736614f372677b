// The lab's mini shell: how `sh -c` scripts split into commands and redirections.
import { describe, expect, it } from 'vitest';
import { parseScript } from '../../../src/lab/sim/commands.ts';

describe('parseScript', () => {
  it('splits on ; && || and honours quotes', () => {
    expect(parseScript(`command -v curl || echo 'no curl'; getent hosts "a b" && true`)).toEqual([
      { argv: ['command', '-v', 'curl'], op: '||', quietOut: false, quietErr: false },
      { argv: ['echo', 'no curl'], op: ';', quietOut: false, quietErr: false },
      { argv: ['getent', 'hosts', 'a b'], op: '&&', quietOut: false, quietErr: false },
      { argv: ['true'], op: ';', quietOut: false, quietErr: false },
    ]);
  });

  it('strips redirections and records which outputs are discarded', () => {
    expect(parseScript('command -v curl >/dev/null 2>&1')).toEqual([{ argv: ['command', '-v', 'curl'], op: ';', quietOut: true, quietErr: true }]);
    expect(parseScript('curl -s x 2> /dev/null')).toEqual([{ argv: ['curl', '-s', 'x'], op: ';', quietOut: false, quietErr: true }]);
  });
});
