// The connectivity/cross-cluster matrix in the human report: per target, a table source cluster x
// serving cluster with success/error counts (the `matrix` data the check attaches).
import { fitTable } from '../table.ts';
import type { DetailRenderer } from './renderer.ts';

interface Cell {
  success: number;
  errors: number;
}

interface TargetMatrix {
  target: string;
  serving: string[];
  expected?: string[];
  rows: { source: string; cells: Record<string, Cell> }[];
  unmeasured?: { source: string; reason: string; probeFailed?: boolean }[];
}

function isMatrixList(value: unknown): value is TargetMatrix[] {
  return (
    Array.isArray(value) &&
    value.every((m) => m && typeof m === 'object' && typeof m.target === 'string' && Array.isArray(m.serving) && Array.isArray(m.rows))
  );
}

/**
 * One table per target: rows are source clusters, columns the clusters that served. A cell reads
 * `5 ok`, `3 ok 2 err` or `0` (an expected cluster with endpoints that got nothing); `-` when that
 * cluster has no endpoint in the source's proxy and none was expected. Source clusters without a row
 * (`unmeasured`) are listed under the table with the reason.
 */
const renderMatrix: DetailRenderer = (value, { chalk, width }) => {
  if (!isMatrixList(value)) return [];
  const lines: string[] = [];
  for (const matrix of value) {
    if (matrix.rows.length === 0) continue;
    const head = [chalk.bold('from \\ served by'), ...matrix.serving.map((s) => chalk.bold(s))];
    const rows = matrix.rows.map((row) => [
      row.source,
      ...matrix.serving.map((serving) => {
        const cell = row.cells[serving];
        if (!cell || cell.success + cell.errors === 0) {
          return (matrix.expected ?? []).includes(serving) || cell ? chalk.red('0') : chalk.dim('-');
        }
        const ok = cell.success ? chalk.green(`${cell.success} ok`) : '';
        const err = cell.errors ? chalk.red(`${cell.errors} err`) : '';
        return [ok, err].filter(Boolean).join(' ');
      }),
    ]);
    lines.push(`${matrix.target}:`, ...fitTable({ head, rows }, width));
    // Sources without a row are named under the table, so a short matrix is not read as complete.
    for (const u of matrix.unmeasured ?? []) {
      lines.push(chalk.dim(`no row from ${u.source}: ${u.probeFailed ? 'probe failed' : 'not measured'} (${u.reason})`));
    }
  }
  return lines;
};

export default renderMatrix;
