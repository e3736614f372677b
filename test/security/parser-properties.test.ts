// Property-based tests of the parsers that read what clusters and snapshots hand us (issue 11):
// istiod debug JSON of every version, PEM bundles, and snapshot files, generated and mutated from the
// real samples in fixtures/. Whatever the input: no crash and no internal error (a TypeError from
// reading into a shape that is not there), only a clear error or a skip/error outcome with a reason.
// Fixed seeds keep a failure reproducible.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseClusterz } from '../../src/mesh/debug/clusterz.ts';
import { parseIstiodEndpoints } from '../../src/mesh/debug/endpoint-shardz.ts';
import { parseNetworkz } from '../../src/mesh/debug/networkz.ts';
import { parseRegistryz } from '../../src/mesh/debug/registryz.ts';
import { parseSyncz } from '../../src/mesh/debug/syncz.ts';
import { BundleTooLargeError, CertificateParseError, parsePemCertificates } from '../../src/mesh/certificates.ts';
import type { Report } from '../../src/engine/types.ts';
import { REPO_ROOT, runCliInProcess } from '../cli/run-cli.ts';

const FIXTURES = path.join(REPO_ROOT, 'fixtures');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

const fixtureFiles = filesUnder(FIXTURES);
const samplesOf = (name: string) => fixtureFiles.filter((file) => path.basename(file) === name).map((file) => readFileSync(file, 'utf8'));

/** A parser error is an Error of our own making, with words: never the runtime's TypeError/RangeError. */
function expectClearError(err: unknown): void {
  expect(err).toBeInstanceOf(Error);
  expect(err).not.toBeInstanceOf(TypeError);
  expect(err).not.toBeInstanceOf(RangeError);
  expect((err as Error).message.length).toBeGreaterThan(0);
}

/** JSON text: arbitrary values, or a real sample with one value swapped, one key dropped, or cut short. */
function mutatedJson(samples: string[]): fc.Arbitrary<string> {
  const mutateValue = (value: unknown, replacement: unknown, pick: number): unknown => {
    if (Array.isArray(value) && value.length > 0) {
      const copy = [...value];
      copy[pick % copy.length] = pick % 3 === 0 ? replacement : mutateValue(copy[pick % copy.length], replacement, Math.floor(pick / 3));
      return copy;
    }
    if (value && typeof value === 'object') {
      const keys = Object.keys(value);
      if (keys.length === 0) return replacement;
      const key = keys[pick % keys.length];
      const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
      if (pick % 5 === 0) delete copy[key];
      else copy[key] = pick % 3 === 0 ? replacement : mutateValue(copy[key], replacement, Math.floor(pick / 3));
      return copy;
    }
    return replacement;
  };
  return fc.oneof(
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.tuple(fc.constantFrom(...samples), fc.jsonValue(), fc.nat()).map(([sample, replacement, pick]) => JSON.stringify(mutateValue(JSON.parse(sample), replacement, pick))),
    fc.tuple(fc.constantFrom(...samples), fc.nat()).map(([sample, cut]) => sample.slice(0, cut % (sample.length + 1))),
    fc.string(),
  );
}

describe('istiod debug parsers of every version never crash on what istiod (or a proxy in front) returns', () => {
  const parsers: [string, (body: string) => unknown][] = [
    ['clusterz.json', parseClusterz],
    ['registryz.json', parseRegistryz],
    ['endpointShardz.json', (body) => parseIstiodEndpoints('endpointShardz', body)],
    ['endpointz.json', (body) => parseIstiodEndpoints('endpointz', body)],
    ['networkz.json', parseNetworkz],
    ['syncz.json', parseSyncz],
  ];

  it.each(parsers)('%s: a list, or an Error that says what is wrong', (file, parse) => {
    const samples = samplesOf(file);
    // The real samples parse: the generator starts from shapes istiod really sends.
    expect(samples.length).toBeGreaterThan(0);
    for (const sample of samples) expect(Array.isArray(parse(sample))).toBe(true);
    fc.assert(
      fc.property(mutatedJson(samples), (body) => {
        try {
          expect(Array.isArray(parse(body))).toBe(true);
        } catch (err) {
          expectClearError(err);
        }
      }),
      { seed: 11, numRuns: 400 },
    );
  });
});

describe('PEM bundles', () => {
  const realPems = fixtureFiles
    .flatMap((file) => readFileSync(file, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [])
    .concat(
      fixtureFiles.flatMap((file) => {
        // Fixtures keep PEMs base64-encoded in Secret data too.
        const encoded = readFileSync(file, 'utf8').match(/LS0tLS1CRUdJTi[A-Za-z0-9+/=]+/g) ?? [];
        return encoded.map((b64) => Buffer.from(b64, 'base64').toString('utf8')).filter((text) => text.includes('BEGIN CERTIFICATE'));
      }),
    );

  it('a bundle parses to facts, or fails with CertificateParseError / BundleTooLargeError: random, bit-flipped, cut and concatenated', () => {
    expect(realPems.length).toBeGreaterThan(0);
    const flipped = fc.tuple(fc.constantFrom(...realPems), fc.nat(), fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-\n ')).map(([pem, at, char]) => {
      const i = at % pem.length;
      return pem.slice(0, i) + char + pem.slice(i + 1);
    });
    const wrapped = fc.base64String({ maxLength: 400 }).map((body) => `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`);
    const cut = fc.tuple(fc.constantFrom(...realPems), fc.nat()).map(([pem, at]) => pem.slice(0, at % (pem.length + 1)));
    const bundle = fc.array(fc.oneof(fc.constantFrom(...realPems), flipped, wrapped, cut, fc.string()), { maxLength: 6 }).map((parts) => parts.join('\n'));
    fc.assert(
      fc.property(bundle, (pem) => {
        try {
          const facts = parsePemCertificates(pem);
          expect(Array.isArray(facts)).toBe(true);
        } catch (err) {
          expect(err instanceof CertificateParseError || err instanceof BundleTooLargeError).toBe(true);
        }
      }),
      { seed: 11, numRuns: 300 },
    );
  });
});

describe('snapshot files, cut or rewritten, through the whole CLI', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'meshdoctor-snapshot-props-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const snapshots = readdirSync(FIXTURES).filter((name) => statSync(path.join(FIXTURES, name)).isDirectory());

  it('every mutation ends in a one-line usage error (exit 2) or a report whose problems are outcomes with reasons', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...snapshots),
        fc.nat(),
        fc.oneof(
          fc.constant(''),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.jsonValue().map((v) => `items:\n  - ${JSON.stringify(v)}\n`),
          fc.nat().map((n) => ({ cut: n })),
        ),
        async (name, pick, mutation) => {
          const dir = path.join(work, `run-${run++}`);
          cpSync(path.join(FIXTURES, name), dir, { recursive: true });
          const files = filesUnder(dir);
          const target = files[pick % files.length];
          const original = readFileSync(target, 'utf8');
          writeFileSync(target, typeof mutation === 'string' ? mutation : original.slice(0, mutation.cut % (original.length + 1)));
          const result = await runCliInProcess(['all', '--snapshot', dir, '-o', 'json']);
          expect(result.stderr).not.toMatch(/internal error|This is a bug|\n\s+at .+:\d+:\d+/);
          expect([0, 1, 2, 3]).toContain(result.exitCode);
          if (result.exitCode === 2) {
            expect(result.stderr.trim().split('\n')).toHaveLength(1);
            return;
          }
          const report = JSON.parse(result.stdout) as Report;
          for (const r of report.results) {
            if (r.outcome === 'error') expect(r.error).toBeTruthy();
            if (r.outcome === 'skip') expect(r.skipReason).toBeTruthy();
            // A parser that read into a missing shape would surface as the runtime's words.
            expect(r.error ?? '').not.toMatch(/Cannot read properties|is not a function|is not iterable|undefined is not/);
          }
        },
      ),
      { seed: 11, numRuns: 25 },
    );
  }, 120_000);
});
