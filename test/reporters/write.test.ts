import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutputSpecError, parseOutputSpec, writeFileAtomic } from '../../src/reporters/write.ts';

describe('parseOutputSpec', () => {
  it.each([
    ['human', { format: 'human' }],
    ['json', { format: 'json' }],
    ['junit=out/report.xml', { format: 'junit', file: 'out/report.xml' }],
    ['json=-', { format: 'json' }],
    ['json=a=b.json', { format: 'json', file: 'a=b.json' }],
  ])('%s', (spec, expected) => {
    expect(parseOutputSpec(spec)).toEqual(expected);
  });

  it.each(['xml', 'xml=report.xml', '', 'JSON', 'junit='])('rejects %j with an OutputSpecError', (spec) => {
    expect(() => parseOutputSpec(spec)).toThrow(OutputSpecError);
  });

  it('names the accepted formats when the format is unknown', () => {
    expect(() => parseOutputSpec('xml=report.xml')).toThrow(/human, json, junit/);
  });
});

describe('writeFileAtomic', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'meshdoctor-write-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates missing directories and writes the content', () => {
    const path = join(dir, 'out', 'nested', 'report.xml');
    writeFileAtomic(path, '<testsuites/>\n');
    expect(readFileSync(path, 'utf8')).toBe('<testsuites/>\n');
  });

  it('replaces an existing file and leaves no temporary file behind', () => {
    const path = join(dir, 'report.json');
    writeFileSync(path, 'old');
    writeFileAtomic(path, '{"new":true}\n');
    expect(readFileSync(path, 'utf8')).toBe('{"new":true}\n');
    expect(readdirSync(dir)).toEqual(['report.json']);
  });

  it('keeps the old file and cleans up when the write fails', () => {
    const path = join(dir, 'report.json');
    writeFileSync(path, 'old');
    // Renaming a file over a directory fails after the temporary file was written.
    const target = join(dir, 'is-a-directory');
    writeFileAtomic(join(target, 'x'), 'x');
    expect(() => writeFileAtomic(target, 'new')).toThrow();
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(dir).sort()).toEqual(['is-a-directory', 'report.json']);
  });
});
