// The README's example output is the demo's real report (`meshdoctor all --lab`, as `npm start`
// prints it into a pipe), abridged to its start (header, clusters, root causes) and its end (summary,
// verdict). `npm run docs` writes it; test/cli/cli.test.ts checks it is current.

/** The README lines around the generated block. */
export const EXAMPLE_START = '<!-- demo output: written by `npm run docs` from `meshdoctor all --lab`; do not edit by hand -->';
export const EXAMPLE_END = '<!-- end of demo output -->';

/**
 * The demo's output without its check-by-check listing: everything before the first category
 * heading, a line saying how many lines were left out, and the summary table and totals (the last
 * table that starts a line).
 */
export function abridgeDemoOutput(stdout: string): string {
  const lines = stdout.trimEnd().split('\n');
  const listing = lines.indexOf('control-plane');
  const summary = lines.findLastIndex((line) => line.startsWith('┌'));
  if (listing < 0 || summary < listing) throw new Error('the demo output has no listing followed by a summary table');
  const left = summary - listing - 1;
  return [...lines.slice(0, listing), `[... the check-by-check listing: ${left} lines ...]`, '', ...lines.slice(summary)].join('\n');
}

/** The example block as it stands in the README, fences included. */
export function exampleBlock(example: string): string {
  return [EXAMPLE_START, '```text', example, '```', EXAMPLE_END].join('\n');
}

/** The generated block of `readme` (markers included), or undefined when it has none. */
export function exampleIn(readme: string): string | undefined {
  const start = readme.indexOf(EXAMPLE_START);
  const end = readme.indexOf(EXAMPLE_END);
  return start < 0 || end < start ? undefined : readme.slice(start, end + EXAMPLE_END.length);
}

/** `readme` with its generated block replaced by `example`'s. */
export function withExample(readme: string, example: string): string {
  const current = exampleIn(readme);
  if (current === undefined) throw new Error(`README.md has no "${EXAMPLE_START}" ... "${EXAMPLE_END}" block`);
  return readme.replace(current, () => exampleBlock(example));
}
