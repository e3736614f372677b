// The lab's `sh -c` against the system's /bin/sh (dash here): the same scripts, with the same fake
// tools, print the same bytes and exit the same way.
import { afterAll, describe, expect, it } from 'vitest';
import { runShell } from '../../../src/lab/sim/shell.ts';
import { fakeToolDir, fakeToolHost, realSh, type FakeTools } from '../../helpers/fake-tools.ts';

const TOOLS: FakeTools = {
  curl: {
    '-sS http://a/': { stdout: 'hello\n\n', stderr: '' },
    '-sS http://b/': { stdout: 'no newline', stderr: 'curl: (7) Failed to connect\n', exitCode: 7 },
    "-sS http://c/ 'q": { stdout: "%s %d \\n '$(x)' `y`\n", exitCode: 0 },
  },
  getent: { 'hosts a.b': { stdout: '10.0.0.1 a.b\n' }, 'hosts nope': { exitCode: 2 } },
};
const fake = fakeToolDir(TOOLS);
afterAll(() => fake.remove());

const SCRIPTS = [
  'command -v curl; command -v getent; command -v nc; exit 0',
  'command -v nc || echo missing; command -v curl && echo found',
  'curl -sS http://a/ && echo ok || echo failed; curl -sS http://b/ || echo "failed $?"',
  'wget -q x; echo "status $?"',
  'getent hosts nope; echo $?; getent hosts a.b >/dev/null 2>&1; echo $?',
  `o=$(curl -sS http://a/; printf x); printf '[%s]' "\${o%x}"; o=$(curl -sS http://a/); printf '[%s]\\n' "$o"`,
  `o=$(curl -sS http://b/ 2>&1); c=$?; printf '%s|%d\\n' "$o" "$c"`,
  `exec 3>&1; o=$(curl -sS http://b/ 2>&3; c=$?; printf x; exit $c); c=$?; printf '<%s> %d\\n' "\${o%x}" $c`,
  `{ curl -sS http://a/; echo one; } & r=$({ echo two; } & r=$(echo three; printf x); wait; printf '%s' "\${r%x}"; printf x); wait; printf '%s' "\${r%x}"; printf 'end\\n'`,
  `curl -sS 'http://c/' "'q"; x='a  b'; printf '<%s>' $x "$x"; printf '%s\\n' ""`,
  'exit 3',
  '{ echo in; exit 4; }; echo never',
  'o=$(exit 5); echo $?; x=1 y=$(false); echo $?',
  `printf '%s-%s\\n' a b c; printf 'tab\\there \\\\ 100%%\\n'`,
  'curl -sS http://a/ | curl -sS http://b/; echo "pipe $?"',
  'echo "unterminated',
  `g(){ i=$1; shift; printf '%s:' "$i" "$#"; "$@"; printf '(%s)\\n' "$*"; }; g 1 curl -sS http://a/; g 2 printf '%s|' 'a b' c; echo "$i"`,
  `g(){ shift 3; }; g a; echo "after $?"`,
];

describe('the lab shell runs scripts as /bin/sh does', () => {
  it.each(SCRIPTS)('%s', async (script) => {
    const lab = await runShell(script, fakeToolHost(TOOLS, fake.dir));
    const real = await realSh(script, fake.dir);
    expect(lab.exitCode).toBe(real.exitCode);
    expect(lab.stdout).toBe(real.stdout);
    // dash words its errors its own way; only where the lab's shell says something must it too.
    if (/wget|unterminated|shift 3/.test(script)) expect(Boolean(lab.stderr)).toBe(Boolean(real.stderr));
    else expect(lab.stderr).toBe(real.stderr);
  });
});
