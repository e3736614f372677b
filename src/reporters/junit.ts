// The JUnit XML report, in the shape the Jenkins JUnit XSD accepts (the strictest of the common
// consumers: Jenkins, GitLab, the usual GitHub actions), so every pipeline shows the same thing.
import { mostSevere } from '../engine/severity.ts';
import type { CheckResult, Finding, Report } from '../engine/types.ts';
import { describeFinding } from './format.ts';
import { countOutcomes, groupByCategory } from './outcomes.ts';
import { rootCauseNotes } from './root-cause-section.ts';
import { redactReport, stripControlChars } from './sanitize.ts';

// Characters XML 1.0 forbids even when escaped, besides the C0/C1 controls stripControlChars
// removes: unpaired UTF-16 surrogates and the non-characters U+FFFE/U+FFFF.
const NOT_XML_CHARS = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|[\uFFFE\uFFFF]/g;
const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * The one XML escaper of the JUnit reporter, for attribute values and text alike: strips ANSI
 * escape sequences and control characters (keeping \t \n \r), drops characters XML cannot carry,
 * and escapes & < > " '.
 */
export function escapeXml(text: string): string {
  return stripControlChars(text)
    .replace(NOT_XML_CHARS, '')
    .replace(/[&<>"']/g, (char) => XML_ENTITIES[char]);
}

/** Render `report` as a JUnit XML document: one testsuite per category, one testcase per check and cluster. */
export function renderJunit(report: Report): string {
  const safe = redactReport(report);
  const { summary } = safe;
  const warningsFail = safe.failOn === 'warning';
  const timestamp = junitTimestamp(safe.startedAt);
  const properties = meshProperties(safe);
  const note = rootCauseNotes(safe);

  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  // The Jenkins XSD allows neither `skipped` nor `timestamp` on <testsuites>: they live on each suite.
  lines.push(`<testsuites${attributes({
    name: 'meshdoctor',
    tests: summary.pass + summary.fail + summary.warn + summary.skip + summary.error + (safe.aborted ? 1 : 0),
    failures: summary.fail + (warningsFail ? summary.warn : 0),
    errors: summary.error + (safe.aborted ? 1 : 0),
    time: seconds(safe.durationMs),
  })}>`);
  for (const [category, results] of groupByCategory(safe.results)) {
    const counts = countOutcomes(results);
    lines.push(`  <testsuite${attributes({
      name: category,
      tests: results.length,
      failures: counts.fail + (warningsFail ? counts.warn : 0),
      errors: counts.error,
      skipped: counts.skip,
      // Checks run concurrently: the suite's time is the sum of its checks' times, not wall time.
      time: seconds(results.reduce((total, result) => total + result.durationMs, 0)),
      timestamp,
    })}>`);
    if (properties.length > 0) {
      lines.push('    <properties>');
      for (const [name, value] of properties) lines.push(`      <property${attributes({ name, value })}/>`);
      lines.push('    </properties>');
    }
    for (const result of results) lines.push(...testcase(result, warningsFail, note));
    lines.push('  </testsuite>');
  }
  if (safe.aborted) lines.push(...abortedSuite(safe.aborted, timestamp, safe.durationMs));
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}

/**
 * A run that stopped early still tells CI why, as an errored test case of its own (the checks that
 * finished are reported above it), rather than a file CI would read as "no tests".
 */
function abortedSuite(reason: string, timestamp: string | undefined, durationMs: number): string[] {
  return [
    `  <testsuite${attributes({ name: 'meshdoctor', tests: 1, failures: 0, errors: 1, skipped: 0, time: seconds(durationMs), timestamp })}>`,
    `    <testcase${attributes({ name: 'meshdoctor run', classname: 'meshdoctor.run', time: seconds(durationMs) })}>`,
    `      <error${attributes({ message: oneLine(`run aborted: ${reason}`) })}>${escapeXml(`run aborted: ${reason}`)}</error>`,
    '    </testcase>',
    '  </testsuite>',
  ];
}

/**
 * One <testcase>; children in the order the XSD requires: skipped, error, failure, system-out.
 * `note` says whether a finding is a root cause or a consequence (and of what): in the failure
 * message and after each finding of the text, so CI shows what to fix first.
 */
function testcase(result: CheckResult, warningsFail: boolean, note: (finding: Finding) => string | undefined): string[] {
  const open = `    <testcase${attributes({
    name: `${result.checkId} [${result.cluster}]`,
    classname: `meshdoctor.${result.category}`,
    time: seconds(result.durationMs),
  })}`;
  const children: string[] = [];
  const findingsText = result.findings
    .map((finding) => {
      const marked = note(finding);
      return `${describeFinding(finding)}${marked ? `\n  ${marked}` : ''}`;
    })
    .join('\n\n');
  const failed = result.outcome === 'fail' || (result.outcome === 'warn' && warningsFail);

  if (result.outcome === 'skip') {
    // The XSD types <skipped> as plain text: the reason is its content, no message attribute.
    children.push(`<skipped>${escapeXml(result.skipReason ?? 'skipped')}</skipped>`);
  } else if (result.outcome === 'error') {
    const reason = result.error ?? 'the check could not run';
    children.push(`<error${attributes({ message: oneLine(reason) })}>${escapeXml(reason)}</error>`);
  } else if (failed) {
    // The message CI shows is the worst finding (a latency `info` must not stand for a TLS error).
    const worst = mostSevere(result.findings);
    const marked = worst && note(worst);
    children.push(`<failure${attributes({
      message: oneLine(worst ? `${worst.message}${marked ? ` (${marked})` : ''}` : `${result.checkId} ${result.outcome === 'warn' ? 'warned' : 'failed'}`),
      type: worst?.messageId,
    })}>${escapeXml(findingsText)}</failure>`);
  }
  // Findings not already in a <failure> (warnings below --fail-on, info, findings before an error).
  if (!failed && findingsText !== '') children.push(`<system-out>${escapeXml(findingsText)}</system-out>`);

  if (children.length === 0) return [`${open}/>`];
  return [`${open}>`, ...children.map((child) => `      ${child}`), '    </testcase>'];
}

/** Mesh facts as <property> pairs; unknown values are left out, so the list may be empty. */
function meshProperties(report: Report): [string, string][] {
  const candidates: [string, string | undefined][] = [
    ['meshdoctor.version', report.meshdoctorVersion],
    ['mesh.model', report.mesh.model === 'unknown' ? undefined : report.mesh.model],
    ['mesh.meshId', report.mesh.meshId],
    ['mesh.trustDomain', report.mesh.trustDomain],
    ['snapshot.capturedAt', report.capturedAt],
  ];
  return candidates.filter((pair): pair is [string, string] => pair[1] !== undefined && pair[1] !== '');
}

/** ` name="value"` pairs, escaped; undefined values are left out. */
function attributes(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => ` ${name}="${escapeXml(String(value))}"`)
    .join('');
}

/** Seconds with three decimals, as JUnit consumers expect. */
function seconds(durationMs: number): string {
  return (Math.max(0, durationMs) / 1000).toFixed(3);
}

/**
 * ISO-8601 local-style date-time without milliseconds or zone (`2026-05-01T10:00:00`, in UTC), the
 * form the Ant/Jenkins JUnit schemas define; undefined when `iso` is not a date.
 */
export function junitTimestamp(iso: string): string | undefined {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().slice(0, 19);
}

/** Attribute values are normalised to one line by XML parsers anyway; do it predictably. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
