import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress, shouldShowProgress } from '../../src/reporters/progress.ts';
import { stripAnsi } from '../../src/reporters/sanitize.ts';

/** A stream that passes for a terminal (ora moves the cursor on it) and records what it gets. */
function fakeTerminal() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  const terminal = Object.assign(stream, {
    isTTY: true,
    columns: 120,
    cursorTo: () => true,
    moveCursor: () => true,
    clearLine: () => true,
  });
  return { terminal, output: () => stripAnsi(chunks.join('')) };
}

describe('shouldShowProgress', () => {
  it('only on a TTY outside CI', () => {
    expect(shouldShowProgress({ isTTY: true }, {})).toBe(true);
    expect(shouldShowProgress({ isTTY: true }, { CI: 'true' })).toBe(false);
    expect(shouldShowProgress({ isTTY: false }, {})).toBe(false);
    expect(shouldShowProgress({}, {})).toBe(false);
  });
});

describe('createProgress', () => {
  it('does nothing when disabled', () => {
    const { terminal, output } = fakeTerminal();
    const progress = createProgress({ enabled: false, stream: terminal });
    progress.start(3);
    progress.tick('control-plane/istiod-ready', 'east');
    progress.stop();
    expect(output()).toBe('');
  });

  it('does nothing on a stream that is not a terminal, even when enabled', () => {
    const written: string[] = [];
    const progress = createProgress({ enabled: true, stream: { write: (text: string) => written.push(text), isTTY: true } });
    progress.start(3);
    progress.stop();
    expect(written).toEqual([]);
  });

  it('shows "running checks (done/total)" with the last check, then clears', async () => {
    const { terminal, output } = fakeTerminal();
    const progress = createProgress({ enabled: true, stream: terminal });
    progress.start(2);
    expect(output()).toContain('running checks (0/2)');
    progress.tick('control-plane/istiod-ready', 'east');
    // ora draws on its spinner interval.
    await new Promise((resolve) => setTimeout(resolve, 150));
    progress.stop();
    progress.stop();
    expect(output()).toContain('running checks (1/2) ... control-plane/istiod-ready [east]');
  });

  it('shows a cluster name from a remote secret with its escapes visible, never raw', async () => {
    const { terminal, output } = fakeTerminal();
    const progress = createProgress({ enabled: true, stream: terminal });
    progress.start(1);
    progress.tick('control-plane/istiod-ready', 'evil\u001b]0;pwned\u0007\u001b[2J\r\nforged\u202e');
    await new Promise((resolve) => setTimeout(resolve, 150));
    progress.stop();
    // output() strips ora's own escapes; ours must already be visible text, so none is left to strip.
    expect(output()).toContain('[evil\\x1b]0;pwned\\x07\\x1b[2J\\r\\nforged\\u202e]');
    expect(output()).not.toContain('pwned\u0007');
  });

  it('--wait: one line in place, counted afresh each round (never past its total), the wait text between rounds', async () => {
    const { terminal, output } = fakeTerminal();
    const progress = createProgress({ enabled: true, stream: terminal });
    expect(progress.live).toBe(true);
    progress.start(3);
    for (const cluster of ['east', 'west', 'edge']) progress.tick('control-plane/istiod-ready', cluster);
    progress.waiting('waiting: 1 failing (network/broken [*]); retry in 5s, 25s left of --wait');
    await new Promise((resolve) => setTimeout(resolve, 150));
    progress.start(1);
    progress.tick('network/broken', '*');
    // A tick more than planned (a dependent re-run) still reads as done, not past the total.
    progress.tick('network/broken', '*');
    await new Promise((resolve) => setTimeout(resolve, 150));
    progress.stop();
    const text = output();
    expect(text).toContain('25s left of --wait');
    expect(text).toContain('running checks (1/1)');
    const counts = [...text.matchAll(/\((\d+)\/(\d+)\)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(counts.length).toBeGreaterThan(0);
    for (const [done, total] of counts) expect(done).toBeLessThanOrEqual(total);
  });

  it('is not live when disabled: the caller prints the --wait lines itself', () => {
    expect(createProgress({ enabled: false }).live).toBe(false);
  });
});
