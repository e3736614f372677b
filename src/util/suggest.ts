// "Did you mean ...?" for mistyped names (commands, categories, check ids, flags), as git and
// kubectl suggest: the closest known name by edit distance, when it is close enough to be a typo.

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[rows - 1][cols - 1];
}

/**
 * The known name `input` most likely meant, or undefined: a name whose last segment is `input`
 * (`shared-root` → `certificates/shared-root`), else the nearest within a third of the input's
 * length (at least 1; ties: the first in `known`). Case is ignored.
 */
export function closestName(input: string, known: readonly string[]): string | undefined {
  const typed = input.toLowerCase();
  if (!typed) return undefined;
  const bySegment = known.find((name) => name.toLowerCase().endsWith(`/${typed}`));
  if (bySegment) return bySegment;
  const limit = Math.max(1, Math.floor(typed.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const lowered = name.toLowerCase();
    const distance = Math.min(editDistance(typed, lowered), lowered.includes('/') ? editDistance(typed, lowered.slice(lowered.lastIndexOf('/') + 1)) : Infinity);
    if (distance <= limit && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** ` (did you mean "x"?)` for the closest known name, or nothing. */
export function didYouMean(input: string, known: readonly string[]): string {
  const suggestion = closestName(input, known);
  return suggestion && suggestion !== input ? ` (did you mean "${suggestion}"?)` : '';
}
