// Every messageId a built-in check declares is what some user will see one day: a test must produce
// it. This test fails when a messageId is named by no test.
//
// The rule (a static search, so it can miss a test that builds a messageId at run time; none does):
// a messageId of check `category/name` is covered when a test file (test/**/*.test.ts) that is about
// that check names it. A file is about the check when it lives in test/checks/<category>/ or names the
// check id. It names the messageId when the id stands as a whole token in code, delimited by a quote,
// a colon or whitespace on both sides: 'accessUnknown', "accessUnknown", `cluster1:accessUnknown`,
// 'control-plane/remote-api-access cluster1 accessUnknown info' (the shapes of findingKeys and
// findingRows). Comments and the titles of it()/describe()/test() are removed first: a title that
// mentions a messageId proves nothing.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_CHECKS } from '../../src/checks/index.ts';
import type { Check } from '../../src/engine/types.ts';

const TEST_ROOT = path.resolve(import.meta.dirname, '..');

interface TestSource {
  /** Path relative to test/, with forward slashes. */
  file: string;
  /** The source without comments and test titles. */
  code: string;
}

/** The source with comments and the titles of it/describe/test removed. */
function codeOf(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|\s)\/\/.*$/gm, '$1')
    .replace(/\b(?:it|describe|test)(?:\.\w+)*\(\s*(['"`])(?:\\.|(?!\1)[^\\])*\1/g, '');
}

function readTestSources(): TestSource[] {
  return (fs.readdirSync(TEST_ROOT, { recursive: true }) as string[])
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => ({ file: file.split(path.sep).join('/'), code: codeOf(fs.readFileSync(path.join(TEST_ROOT, file), 'utf8')) }));
}

function namesToken(code: string, token: string): boolean {
  return new RegExp(`(?<=['"\`:\\s])${token}(?=['"\`:\\s])`).test(code);
}

/** `checkId messageId` of every declared messageId no test names, by the rule above. */
function uncoveredMessages(checks: Check[], sources: TestSource[]): string[] {
  const missing: string[] = [];
  for (const check of checks) {
    const about = sources.filter((s) => s.file.startsWith(`checks/${check.category}/`) || s.code.includes(check.id));
    for (const messageId of Object.keys(check.meta.messages)) {
      if (!about.some((s) => namesToken(s.code, messageId))) missing.push(`${check.id} ${messageId}`);
    }
  }
  return missing;
}

describe('messageId coverage', () => {
  it('every messageId of every built-in check is named by a test of that check', () => {
    expect(BUILTIN_CHECKS.length).toBeGreaterThan(0);
    expect(uncoveredMessages(BUILTIN_CHECKS, readTestSources())).toEqual([]);
  });

  it('the rule: a messageId only in a comment, a title or another check\'s tests is uncovered', () => {
    const [check] = BUILTIN_CHECKS;
    const probe = { ...check, meta: { ...check.meta, messages: { shownOnce: { template: 't', severity: 'info', hint: 'h' } } } } as Check;
    const other = `checks/${check.category === 'network' ? 'services' : 'network'}/x.test.ts`;
    const sources = (files: Record<string, string>) => Object.entries(files).map(([file, text]) => ({ file, code: codeOf(text) }));
    expect(uncoveredMessages([probe], sources({ [`checks/${check.category}/x.test.ts`]: "// shownOnce\nit('shownOnce is shown', () => {});" }))).toEqual([`${check.id} shownOnce`]);
    expect(uncoveredMessages([probe], sources({ [other]: "expect(keys).toEqual(['cluster1:shownOnce']);" }))).toEqual([`${check.id} shownOnce`]);
    expect(uncoveredMessages([probe], sources({ [other]: `expect(rows).toEqual(['${check.id} cluster1 shownOnce info']);` }))).toEqual([]);
    expect(uncoveredMessages([probe], sources({ [`checks/${check.category}/x.test.ts`]: "expect(keys).toEqual(['cluster1:shownOnce']);" }))).toEqual([]);
    expect(uncoveredMessages([probe], sources({ [`checks/${check.category}/x.test.ts`]: "expect(keys).toEqual(['cluster1:shownOnceMore']);" }))).toEqual([`${check.id} shownOnce`]);
  });
});
