// docs/checks.md is generated from the checks (ESLint-style): it must list every check and be current.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUILTIN_CHECKS } from '../../src/checks/index.ts';
import { renderChecksMarkdown } from '../../src/cli/docs.ts';
import { explainText } from '../../src/cli/catalog.ts';

describe('check documentation', () => {
  it('docs/checks.md is up to date (run `npm run docs`)', () => {
    const onDisk = readFileSync(new URL('../../docs/checks.md', import.meta.url), 'utf8');
    expect(onDisk).toBe(renderChecksMarkdown(BUILTIN_CHECKS));
  });

  it('explain documents every messageId of every check with its fix', () => {
    for (const check of BUILTIN_CHECKS) {
      const text = explainText(check);
      for (const [messageId, message] of Object.entries(check.meta.messages)) {
        expect(text).toContain(`${messageId} (${message.severity})`);
        expect(text).toContain(`fix: ${message.hint}`);
      }
    }
  });
});
