// docs/reliability.md names the test that pins each claim as `file` `test name`: every citation
// must name a test file that exists and holds that test name, so the doc cannot outlive its tests.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const doc = readFileSync(new URL('docs/reliability.md', root), 'utf8');
const CITATION = /`(test\/[\w/.-]+\.test\.ts)` `([^`]+)`/g;
const citations = [...doc.matchAll(CITATION)].map(([, file, name]) => [file, name] as const);

describe('docs/reliability.md', () => {
  it('cites tests (the format this test reads)', () => {
    expect(citations.length).toBeGreaterThanOrEqual(30);
  });

  it.each(citations)('%s holds a test named "%s"', (file, name) => {
    const url = new URL(file, root);
    expect(existsSync(url)).toBe(true);
    // Titles as string literals of it/test/describe, with their escapes undone.
    const source = readFileSync(url, 'utf8');
    const titles = [...source.matchAll(/\b(?:it|test|describe)(?:\.each\([\s\S]*?\))?\(\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1/g)].map((m) => m[2].replace(/\\(.)/g, '$1'));
    expect(titles.some((title) => title.includes(name))).toBe(true);
  });
});
