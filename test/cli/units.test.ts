import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/cli/durations.ts';
import { colorLevel } from '../../src/cli/color.ts';

describe('parseDuration', () => {
  it.each([['20s', 20_000], ['1m30s', 90_000], ['500ms', 500], ['2', 2000], ['1h', 3_600_000]])('%s', (text, ms) => {
    expect(parseDuration(text, '--timeout')).toBe(ms);
  });
  it.each(['', 'abc', '10x', '-1s', '1s foo'])('rejects %j', (text) => {
    expect(() => parseDuration(text, '--timeout')).toThrow(/invalid duration for --timeout/);
  });
  it('rejects durations Node timers cannot hold', () => {
    expect(() => parseDuration('99999999999999s', '--timeout')).toThrow(/too long/);
    expect(parseDuration('24h', '--wait')).toBe(86_400_000);
  });
});

describe('colorLevel', () => {
  it('honours --no-color, NO_COLOR, FORCE_COLOR and the TTY', () => {
    expect(colorLevel(undefined, {}, true)).toBe(1);
    expect(colorLevel(undefined, {}, false)).toBe(0);
    expect(colorLevel(false, { FORCE_COLOR: '1' }, true)).toBe(0);
    expect(colorLevel(undefined, { NO_COLOR: '1' }, true)).toBe(0);
    expect(colorLevel(undefined, { FORCE_COLOR: '3' }, false)).toBe(3);
    expect(colorLevel(undefined, { FORCE_COLOR: '0' }, true)).toBe(0);
    expect(colorLevel(undefined, { TERM: 'dumb' }, true)).toBe(0);
  });
});
