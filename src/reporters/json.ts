// The JSON report: the Report object itself, described by schema/report.schema.json.
import type { Report } from '../engine/types.ts';
import { redactReport, terminalSafeJson } from './sanitize.ts';

/**
 * Render `report` as one JSON document (2-space indent, trailing newline). The document is
 * exactly the Report object (schemaVersion 1), with secrets redacted; characters a terminal would
 * act on are \u-escaped (JSON.stringify leaves C1 and bidi controls raw), so printing it is safe.
 */
export function renderJson(report: Report): string {
  return `${terminalSafeJson(JSON.stringify(redactReport(report), null, 2))}\n`;
}
