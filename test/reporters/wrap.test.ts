// The width decision, the wrapping of text and the fitting of tables (src/reporters/wrap.ts, table.ts).
import { describe, expect, it } from 'vitest';
import { Chalk } from 'chalk';
import { displayWidth, outputWidth, wrap, wrapBlock } from '../../src/reporters/wrap.ts';
import { fitTable } from '../../src/reporters/table.ts';
import { stripAnsi } from '../../src/reporters/sanitize.ts';

const chalk = new Chalk({ level: 1 });
const widest = (lines: string[]) => Math.max(...lines.map(displayWidth));

describe('outputWidth', () => {
  it('is a terminal\'s columns, 80 when it reports none, $COLUMNS when piped, else no limit', () => {
    expect(outputWidth({ isTTY: true, columns: 132 }, { COLUMNS: '60' })).toBe(132);
    expect(outputWidth({ isTTY: true }, {})).toBe(80);
    expect(outputWidth({ isTTY: true, columns: 0 }, { COLUMNS: '100' })).toBe(100);
    expect(outputWidth({ isTTY: false, columns: 132 }, { COLUMNS: '60' })).toBe(60);
    expect(outputWidth({ isTTY: false, columns: 132 }, {})).toBeUndefined();
    expect(outputWidth({ isTTY: false }, { COLUMNS: 'wide' })).toBeUndefined();
    expect(outputWidth({ isTTY: false }, { COLUMNS: '5' })).toBe(20);
  });
});

describe('wrap', () => {
  const text = 'Gateway istio-system/cross-network-gateway serves port 15443 with tls.mode ISTIO_MUTUAL: cross-network requests fail';

  it('breaks between words, continuation lines under the text, within the width', () => {
    const lines = wrap(text, 50, { first: '  error ', rest: '        ' });
    expect(widest(lines)).toBeLessThanOrEqual(50);
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines.slice(1)) expect(line).toMatch(/^ {8}\S/);
    // Nothing lost, no word cut: the words are the text's words.
    expect(lines.map((line) => line.trim()).join(' ').replace(/^error /, '')).toBe(text);
  });

  it('cuts only a word wider than the line', () => {
    const long = `x${'a'.repeat(70)}`;
    const lines = wrap(`see ${long} now`, 30, { rest: '  ' });
    expect(widest(lines)).toBeLessThanOrEqual(30);
    expect(lines[0]).toBe('see');
    expect(lines.slice(1, -1).every((line) => displayWidth(line) === 30)).toBe(true);
    expect(lines.map((line) => line.trim()).join(' ').replaceAll(' ', '')).toBe(`see${long}now`);
  });

  it('does not count colour, and closes and reopens it at each break', () => {
    const lines = wrap(chalk.cyan(`hint: ${text}`), 30, { first: '    ', rest: '      ' });
    expect(lines.map(stripAnsi).every((line) => line.length <= 30)).toBe(true);
    for (const line of lines) {
      // Every line opens cyan after its indent and leaves no colour open.
      // eslint-disable-next-line no-control-regex
      expect(line).toMatch(/^ +\u001b\[36m/);
      expect(line.endsWith('\u001b[39m') || line.endsWith('\u001b[0m')).toBe(true);
    }
  });

  it('counts wide characters as two columns', () => {
    expect(displayWidth('名前空間')).toBe(8);
    expect(widest(wrap('名前空間 名前空間 名前空間', 10))).toBeLessThanOrEqual(10);
  });

  it('leaves the text on one line without a width', () => {
    expect(wrap(text, undefined, { first: '  ' })).toEqual([`  ${text}`]);
    expect(wrapBlock([text], undefined)).toEqual([text]);
  });
});

describe('fitTable', () => {
  const head = ['cluster', 'context', 'cluster id', 'network', 'east-west gateways', 'reachable'].map((title) => chalk.bold(title));
  const rows = [
    ['cluster1', 'kind-cluster1', 'cluster1', 'network1', 'istio-system/istio-eastwestgateway 192.0.2.11', chalk.green('yes')],
    ['cluster2', 'kind-cluster2', 'cluster2', 'network2', 'istio-system/istio-eastwestgateway 192.0.2.12\nistio-system/second 192.0.2.13', chalk.red('no')],
  ];
  const natural = fitTable({ head, rows }, undefined);
  const naturalWidth = widest(natural);

  it('draws the table as it is when it fits or without a width', () => {
    expect(fitTable({ head, rows }, naturalWidth)).toEqual(natural);
    expect(natural[0].startsWith('┌')).toBe(true);
  });

  it('narrows columns and wraps their cells when the words still fit', () => {
    const lines = fitTable({ head, rows }, naturalWidth - 10);
    expect(lines[0].startsWith('┌')).toBe(true);
    expect(widest(lines)).toBeLessThanOrEqual(naturalWidth - 10);
    // Every word of every cell is still there, uncut.
    const words = stripAnsi(lines.join(' ')).split(/[\s│┌┐└┘├┤┬┴┼─]+/).filter(Boolean);
    for (const cell of rows.flat()) for (const word of stripAnsi(cell).split(/\s+/)) expect(words).toContain(word);
  });

  it('stacks one "key: value" block per row when the columns cannot fit', () => {
    const lines = fitTable({ head, rows }, 70).map(stripAnsi);
    expect(widest(lines)).toBeLessThanOrEqual(70);
    expect(lines.some((line) => /[│┌]/.test(line))).toBe(false);
    const blocks = lines.join('\n').split('\n\n');
    expect(blocks).toHaveLength(2);
    expect(blocks[0].split('\n')[0]).toBe('cluster: cluster1');
    expect(blocks[1]).toMatch(/^ {2}reachable: +no$/m);
    // A cell's second line stays in its block, under the value.
    expect(blocks[1]).toMatch(/^ {2}east-west gateways: istio-system\/istio-eastwestgateway/m);
    expect(blocks[1]).toMatch(/^ {22}istio-system\/second 192\.0\.2\.13$/m);
  });

  it('puts values under their key when the keys leave too little room', () => {
    const lines = fitTable({ head, rows }, 30).map(stripAnsi);
    expect(widest(lines)).toBeLessThanOrEqual(30);
    expect(lines).toContain('  east-west gateways:');
  });
});
