// meshdoctor's own version, for `--version`, reports and the User-Agent of every request it makes.
import { readFileSync } from 'node:fs';

// The bundles (npm package and single executable) have no package.json beside them: their bundler
// defines the version instead (scripts/build.ts, scripts/build-binary.ts).
declare const MESHDOCTOR_BUILD_VERSION: string | undefined;

export const MESHDOCTOR_VERSION: string = typeof MESHDOCTOR_BUILD_VERSION === 'string'
  ? MESHDOCTOR_BUILD_VERSION
  : (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * The User-Agent meshdoctor sends to API servers (and Prometheus), shaped like kubectl's
 * `kubectl/v1.32.0 (linux/amd64) kubernetes/<commit>`: an operator reading the apiserver's audit log
 * (`userAgent` of each event) can tell meshdoctor's read-only requests from everything else.
 */
export const USER_AGENT = `meshdoctor/${MESHDOCTOR_VERSION} (${process.platform}/${process.arch})`;
