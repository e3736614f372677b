// Every finding links its documentation (issue 13): a built-in check's messageId row in
// docs/checks.md, by an anchor that exists there; a plugin's findings its meta.docs.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUILTIN_CHECKS } from '../../src/checks/index.ts';
import { CHECKS_DOCS_URL, docsAnchor, findingDocsUrl } from '../../src/engine/docs-url.ts';
import type { Report } from '../../src/engine/types.ts';
import { stripAnsi } from '../../src/reporters/sanitize.ts';
import { runCliInProcess } from '../cli/run-cli.ts';

const CATALOG = readFileSync(new URL('../../docs/checks.md', import.meta.url), 'utf8');
const ANCHORS = new Set([...CATALOG.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]));

describe('docs URLs', () => {
  it('docs/checks.md has one anchor per built-in check and per messageId, each distinct', () => {
    const wanted = BUILTIN_CHECKS.flatMap((check) => [docsAnchor(check.id), ...Object.keys(check.meta.messages).map((id) => docsAnchor(check.id, id))]);
    expect(new Set(wanted).size).toBe(wanted.length);
    expect(wanted.filter((anchor) => !ANCHORS.has(anchor))).toEqual([]);
  });

  it('a plugin check (not in the catalog) links its own docs', () => {
    const plugin = { id: 'acme/widgets', meta: { description: 'd', messages: {}, docs: 'https://acme.example/widgets' } };
    expect(findingDocsUrl(plugin, 'broken')).toBe('https://acme.example/widgets');
  });

  it('JSON, human and JUnit carry each finding\'s URL on the demo', async () => {
    const run = await runCliInProcess(['all', '--lab', '-o', 'json']);
    const report = JSON.parse(run.stdout) as Report;
    const findings = report.results.flatMap((r) => r.findings);
    expect(findings.length).toBeGreaterThan(0);
    for (const finding of findings) {
      expect(finding.docsUrl).toBe(`${CHECKS_DOCS_URL}#${docsAnchor(finding.checkId, finding.messageId)}`);
      expect(ANCHORS.has(docsAnchor(finding.checkId, finding.messageId))).toBe(true);
    }
    const human = stripAnsi((await runCliInProcess(['all', '--lab'])).stdout);
    const junit = (await runCliInProcess(['all', '--lab', '-o', 'junit'])).stdout;
    for (const url of new Set(findings.map((f) => f.docsUrl!))) {
      expect(human).toContain(`docs: ${url}`);
      expect(junit).toContain(`docs: ${url}`);
    }
  });
});

it('the docs URL is the package\'s own repository', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { homepage: string };
  expect(CHECKS_DOCS_URL.startsWith(pkg.homepage.replace(/#readme$/, ''))).toBe(true);
});
