// The lab's simulated istiod against the goldens written by the real istiod (npm run
// conformance:regen; no Go needed here): every field a check reads agrees, or the difference is one
// of KNOWN_DIFFERENCES with its reason, and docs/lab-fidelity.md shows the current counts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { explains, fidelityOfGoldens, KNOWN_DIFFERENCES, realStackPart, renderFidelityMarkdown } from '../../src/lab/fidelity.ts';
import { ISTIO_PSEUDO_VERSION } from '../../src/lab/conformance-version.ts';

const goldenDir = new URL('../../conformance/golden', import.meta.url).pathname;

describe('lab fidelity against the real istiod', async () => {
  const { cases, result, missing } = await fidelityOfGoldens(goldenDir);

  it('has a golden for every conformance case', () => {
    expect(missing).toEqual([]);
    expect(result.compared).toBeGreaterThan(0);
  });

  it('agrees on every field a check reads, but for the known differences', () => {
    const unexplained = result.differences.filter((d) => !KNOWN_DIFFERENCES.some((k) => explains(k, d)));
    expect(unexplained).toEqual([]);
  });

  it('lists no known difference that no longer happens', () => {
    const stale = KNOWN_DIFFERENCES.filter((k) => !result.differences.some((d) => explains(k, d)));
    expect(stale).toEqual([]);
  });

  it('names the istio.io/istio version conformance/istiod pins', () => {
    const goMod = readFileSync(new URL('../../conformance/istiod/go.mod', import.meta.url), 'utf8');
    expect(goMod).toMatch(new RegExp(`^\\s*istio\\.io/istio ${ISTIO_PSEUDO_VERSION}$`, 'm'));
  });

  it('docs/lab-fidelity.md shows the current counts and differences', () => {
    const doc = readFileSync(new URL('../../docs/lab-fidelity.md', import.meta.url), 'utf8');
    // The real stack's part after REAL_STACK_MARKER is written by hand (realstack/).
    const real = realStackPart(doc);
    expect(doc.slice(0, doc.length - real.length)).toBe(renderFidelityMarkdown(result, cases, ISTIO_PSEUDO_VERSION) + (real ? '\n' : ''));
  });
});
