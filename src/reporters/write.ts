// Writing reports to files: atomically, so a CI job never picks up half a JUnit file.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The report formats `-o/--output` accepts. */
export const OUTPUT_FORMATS = ['human', 'json', 'junit'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** A parsed `-o FMT[=FILE]`: no file means stdout. */
export interface OutputSpec {
  format: OutputFormat;
  file?: string;
}

/** An `-o` value the CLI cannot use; its message is the one line to print (exit code 2). */
export class OutputSpecError extends Error {
  override name = 'OutputSpecError';
}

/**
 * Parse `FMT[=FILE]` (`junit=out/report.xml`, `json`, `json=-` for stdout).
 * @throws OutputSpecError for an unknown format or an empty file name.
 */
export function parseOutputSpec(spec: string): OutputSpec {
  const separator = spec.indexOf('=');
  const format = (separator === -1 ? spec : spec.slice(0, separator)).trim();
  const file = separator === -1 ? undefined : spec.slice(separator + 1).trim();
  if (!isOutputFormat(format)) {
    throw new OutputSpecError(`unknown output format "${format}" in "--output ${spec}": use one of ${OUTPUT_FORMATS.join(', ')}, optionally with =FILE`);
  }
  if (file === '') throw new OutputSpecError(`missing file name in "--output ${spec}": use ${format}=FILE, or ${format} for stdout`);
  return file === undefined || file === '-' ? { format } : { format, file };
}

function isOutputFormat(value: string): value is OutputFormat {
  return (OUTPUT_FORMATS as readonly string[]).includes(value);
}

/**
 * Write `content` to `path` atomically: write a temporary file in the same directory, fsync it,
 * then rename it over `path`. Readers see the old file or the whole new one, never a partial one.
 * Creates the parent directory when missing. Synchronous on purpose: it also runs from a SIGINT
 * handler, to leave a JUnit file behind when a run is aborted, where nothing asynchronous finishes.
 */
export function writeFileAtomic(path: string, content: string): void {
  const directory = dirname(path);
  mkdirSync(directory, { recursive: true });
  // Same directory, so the rename stays on one file system and is atomic.
  const temporary = join(directory, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(temporary, 'wx');
    try {
      writeFileSync(fd, content, 'utf8');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
