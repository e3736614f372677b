// Tables of the human report (clusters, summary, detail matrices) that fit the width: as drawn when
// they fit, with narrower columns whose cells wrap between words when that is enough, else one
// "key: value" block per row (as `kubectl describe`), since a table cut by the terminal is unreadable.
import Table from 'cli-table3';
import { displayWidth, wrap } from './wrap.ts';

/** What fitTable draws: the header cells (already styled) and the rows; a cell may hold several lines. */
export interface TableSpec {
  head: string[];
  rows: string[][];
}

// cli-table3 puts one space either side of a cell's text and one border character between and
// around the columns.
const CELL_PADDING = 2;

/** `spec` as lines of at most `width` columns (no limit when undefined). */
export function fitTable(spec: TableSpec, width: number | undefined): string[] {
  const natural = columnWidths(spec, (cell) => Math.max(0, ...cell.split('\n').map(displayWidth)));
  if (width === undefined || lineWidth(natural) <= width) return draw(spec);
  // The narrowest a column can get without cutting a word.
  const narrowest = columnWidths(spec, (cell) => Math.max(0, ...cell.split(/[\s]+/).map(displayWidth)));
  if (lineWidth(narrowest) <= width) {
    const widths = [...natural];
    // Take a column at a time from the widest that can still give some, so short columns keep their text on one line.
    while (lineWidth(widths) > width) {
      let widest = -1;
      for (let i = 0; i < widths.length; i++) {
        if (widths[i] > narrowest[i] && (widest < 0 || widths[i] > widths[widest])) widest = i;
      }
      widths[widest] -= 1;
    }
    const lines = draw(spec, widths);
    // cli-table3 measures some characters otherwise than the terminal does: never hand back a wider line.
    if (lines.every((line) => displayWidth(line) <= width)) return lines;
  }
  return stack(spec, width);
}

/** Per column: the widest of its cells by `measure`, plus the padding. */
function columnWidths(spec: TableSpec, measure: (cell: string) => number): number[] {
  return spec.head.map((title, column) => Math.max(measure(title), ...spec.rows.map((row) => measure(row[column] ?? ''))) + CELL_PADDING);
}

function lineWidth(widths: readonly number[]): number {
  return widths.reduce((sum, w) => sum + w, 0) + widths.length + 1;
}

function draw(spec: TableSpec, colWidths?: number[]): string[] {
  // Colours come only from the caller's chalk instance: cli-table3's own styling is off.
  const table = new Table({
    head: spec.head,
    style: { head: [], border: [], compact: true },
    ...(colWidths ? { colWidths, wordWrap: true, wrapOnWordBoundary: true } : {}),
  });
  for (const row of spec.rows) table.push(row);
  return table.toString().split('\n');
}

/**
 * One block per row: the first column's title and value, then every other column indented under
 * it, values aligned and wrapped under themselves; a value starts on the next line when the titles
 * leave it too little room. Blocks are separated by a blank line.
 */
function stack(spec: TableSpec, width: number): string[] {
  const keyWidth = Math.max(...spec.head.slice(1).map(displayWidth), 0);
  const valueColumn = 2 + keyWidth + 2;
  const below = width - valueColumn < 20;
  const lines: string[] = [];
  spec.rows.forEach((row, index) => {
    if (index > 0) lines.push('');
    spec.head.forEach((title, column) => {
      const [first, ...more] = (row[column] ?? '').split('\n');
      if (column === 0) {
        lines.push(...wrap(`${title}: ${first}`, width, { rest: '  ' }));
        for (const text of more) lines.push(...wrap(text, width, { first: '  ', rest: '  ' }));
        return;
      }
      const key = `  ${title}:`;
      const indent = below ? '    ' : ' '.repeat(valueColumn);
      if (below) lines.push(key);
      lines.push(...wrap(first, width, { first: below ? indent : key + ' '.repeat(valueColumn - displayWidth(key)), rest: indent }));
      for (const text of more) lines.push(...wrap(text, width, { first: indent, rest: indent }));
    });
  });
  return lines;
}
