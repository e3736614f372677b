// Where a finding's documentation lives. Built-in checks are documented per messageId in meshdoctor's
// own docs/checks.md (generated from their meta, anchored by docsAnchor); a plugin's findings link the
// page its meta.docs names, the only documentation meshdoctor knows of for it.
import type { Check } from './types.ts';

/** docs/checks.md as published with the source; the same file ships in the npm package. */
export const CHECKS_DOCS_URL = 'https://github.com/meshdoctor/meshdoctor/blob/main/docs/checks.md';

/** The anchor of a check's section, or of one messageId's row, in docs/checks.md. */
export function docsAnchor(checkId: string, messageId?: string): string {
  return [checkId.replaceAll('/', '-'), messageId].filter(Boolean).join('-').toLowerCase();
}

/** The documentation of one finding: its messageId's row for a check documented in docs/checks.md, else the check's own page. */
export function findingDocsUrl(check: Pick<Check, 'id' | 'meta'>, messageId: string): string {
  return check.meta.documentedIn === 'catalog' ? `${CHECKS_DOCS_URL}#${docsAnchor(check.id, messageId)}` : check.meta.docs;
}
