// Entry point of the reporters: pick a renderer by format name.
import type { Report } from '../engine/types.ts';
import { renderHuman, type HumanOptions } from './human.ts';
import { renderJson } from './json.ts';
import { renderJunit } from './junit.ts';
import type { OutputFormat } from './write.ts';

/** Options for render(); only the human format reads them (default: no colour). */
export type RenderOptions = HumanOptions;

/** Render `report` in `format`. Pure; every format redacts secrets. */
export function render(format: OutputFormat, report: Report, options: RenderOptions = { color: false }): string {
  switch (format) {
    case 'human':
      return renderHuman(report, options);
    case 'json':
      return renderJson(report);
    case 'junit':
      return renderJunit(report);
  }
}

export { renderHuman, renderJson, renderJunit };
export type { HumanOptions } from './human.ts';
export type { DetailRenderer, DetailContext } from './details/renderer.ts';
export { DETAIL_RENDERERS, DURATION_PLACEHOLDER } from './human.ts';
export { escapeXml } from './junit.ts';
export { redactSecrets, redactReport, shellQuote, stripAnsi, stripControlChars, terminalText } from './sanitize.ts';
export { createProgress, shouldShowProgress, type Progress, type ProgressOptions, type ProgressStream } from './progress.ts';
export { OUTPUT_FORMATS, OutputSpecError, parseOutputSpec, writeFileAtomic, type OutputFormat, type OutputSpec } from './write.ts';
