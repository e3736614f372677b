import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { xml2js as xmlJsParse, type ElementCompact } from 'xml-js';
import { parseStringPromise } from 'xml2js';
import { validateXML } from 'xmllint-wasm';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/engine/types.ts';
import { escapeXml, junitTimestamp, renderJunit } from '../../src/reporters/junit.ts';
import { HOSTILE_TEXT, healthyReport, realisticReport, withResults } from './helpers.ts';

// The shared reference copy, next to the repository (never copied into it).
const XSD_PATH = process.env.MESHDOCTOR_JUNIT_XSD ?? fileURLToPath(new URL('../../../shared/reference/junit/jenkins-junit.xsd', import.meta.url));
const xsd = existsSync(XSD_PATH) ? readFileSync(XSD_PATH, 'utf8') : undefined;
// Locally the XSD may be missing; in CI a missing XSD is a failure, never a silent skip.
const xsdIt = xsd !== undefined || process.env.CI ? it : it.skip;

/** A report whose texts carry XML metacharacters, control characters and ANSI colours. */
function hostileReport(): Report {
  const report = realisticReport();
  const results = report.results.map((result) => ({
    ...result,
    skipReason: result.skipReason && `${result.skipReason} ${HOSTILE_TEXT}`,
    error: result.error && `${result.error} ${HOSTILE_TEXT}`,
    findings: result.findings.map((finding) => ({ ...finding, message: `${finding.message} ${HOSTILE_TEXT}`, hint: HOSTILE_TEXT })),
  }));
  return withResults({ ...report, mesh: { ...report.mesh, meshId: `mesh <1> & "2"` } }, results);
}

/**
 * The realistic report with one consequence linked by hand: the west gateway's missing address
 * explained by the mesh-scope shared-root finding about west (no check declares that; the marks
 * only follow the links).
 */
function consequenceReport(): Report {
  const report = realisticReport();
  const root = report.results.find((r) => r.checkId === 'certificates/shared-root')!;
  const index = root.findings.findIndex((f) => f.messageId === 'rootMismatch');
  const gateway = report.results.find((r) => r.checkId === 'network/eastwest-gateway' && r.cluster === 'west')!;
  gateway.findings[0].explainedBy = [{ checkId: root.checkId, cluster: root.cluster, index, messageId: 'rootMismatch' }];
  report.rootCauses = report.rootCauses.filter((ref) => !(ref.checkId === gateway.checkId && ref.cluster === gateway.cluster && ref.index === 0));
  return report;
}

async function validateAgainstXsd(xml: string) {
  return validateXML({ xml: [{ fileName: 'report.xml', contents: xml }], schema: [{ fileName: 'jenkins-junit.xsd', contents: xsd ?? '' }] });
}

describe('JUnit against the Jenkins XSD', () => {
  xsdIt.each([
    ['realistic', realisticReport()],
    ['realistic with --fail-on warning', withResults(realisticReport(), realisticReport().results, 'warning')],
    ['healthy', healthyReport()],
    ['hostile texts', hostileReport()],
    ['root cause and consequence', consequenceReport()],
    ['no results and an unknown mesh', withResults({ ...realisticReport(), mesh: { model: 'unknown', multiNetwork: false }, meshdoctorVersion: '' }, [])],
    ['aborted run', { ...withResults(realisticReport(), realisticReport().results.slice(0, 2)), aborted: 'interrupted <&>' }],
  ])('a %s report is valid', async (_name, report: Report) => {
    expect(xsd, `Jenkins JUnit XSD not found at ${XSD_PATH}`).toBeDefined();
    const result = await validateAgainstXsd(renderJunit(report));
    expect(result.errors.map((error) => error.message)).toEqual([]);
    expect(result.valid).toBe(true);
  });

  xsdIt('the validator rejects what the XSD forbids (so the checks above mean something)', async () => {
    expect(xsd, `Jenkins JUnit XSD not found at ${XSD_PATH}`).toBeDefined();
    const invalid = renderJunit(realisticReport()).replace('<skipped>', '<skipped message="x">');
    expect((await validateAgainstXsd(invalid)).valid).toBe(false);
  });
});

// What xml2js (explicitArray) and xml-js (compact) hand to the JUnit consumers built on them.
interface Xml2jsCase {
  $: Record<string, string>;
  failure?: { _: string; $: Record<string, string> }[];
  error?: { _: string; $: Record<string, string> }[];
  skipped?: string[];
  'system-out'?: string[];
}
interface Xml2jsSuite {
  $: Record<string, string>;
  properties?: { property: { $: { name: string; value: string } }[] }[];
  testcase: Xml2jsCase[];
}
interface Xml2jsDocument {
  testsuites: { $: Record<string, string>; testsuite: Xml2jsSuite[] };
}

async function parseWithXml2js(xml: string): Promise<Xml2jsDocument> {
  return (await parseStringPromise(xml)) as Xml2jsDocument;
}

function testcaseByName(document: Xml2jsDocument, name: string): Xml2jsCase {
  const found = document.testsuites.testsuite.flatMap((suite) => suite.testcase).find((testcase) => testcase.$.name === name);
  if (!found) throw new Error(`no testcase ${name}`);
  return found;
}

describe('renderJunit, parsed with xml2js', () => {
  it('has a testsuites root with the totals of report.summary', async () => {
    const report = realisticReport();
    const { testsuites } = await parseWithXml2js(renderJunit(report));
    expect(testsuites.$).toEqual({ name: 'meshdoctor', tests: '10', failures: String(report.summary.fail), errors: '1', time: '21.437' });
  });

  it('has one suite per category, in category order, with counts, time and timestamp', async () => {
    const { testsuites } = await parseWithXml2js(renderJunit(realisticReport()));
    expect(testsuites.testsuite.map((suite) => suite.$)).toEqual([
      { name: 'control-plane', tests: '4', failures: '1', errors: '0', skipped: '1', time: '0.284', timestamp: '2026-05-04T09:30:12' },
      { name: 'network', tests: '3', failures: '1', errors: '0', skipped: '0', time: '77.118', timestamp: '2026-05-04T09:30:12' },
      { name: 'certificates', tests: '2', failures: '1', errors: '1', skipped: '0', time: '20.310', timestamp: '2026-05-04T09:30:12' },
      { name: 'connectivity', tests: '1', failures: '0', errors: '0', skipped: '1', time: '0.000', timestamp: '2026-05-04T09:30:12' },
    ]);
  });

  it('names testcases `<checkId> [<cluster>]` with classname meshdoctor.<category> and 3-decimal times', async () => {
    const { testsuites } = await parseWithXml2js(renderJunit(realisticReport()));
    expect(testsuites.testsuite[0].testcase.map((testcase) => testcase.$)).toEqual([
      { name: 'control-plane/istiod-ready [east]', classname: 'meshdoctor.control-plane', time: '0.012' },
      { name: 'control-plane/istiod-ready [west]', classname: 'meshdoctor.control-plane', time: '0.042' },
      { name: 'control-plane/istiod-ready [edge]', classname: 'meshdoctor.control-plane', time: '0.000' },
      { name: 'control-plane/remote-secrets [*]', classname: 'meshdoctor.control-plane', time: '0.230' },
    ]);
  });

  it('reports a fail as <failure> with the first finding as message/type and every finding in the text', async () => {
    const document = await parseWithXml2js(renderJunit(realisticReport()));
    const testcase = testcaseByName(document, 'network/eastwest-gateway [west]');
    expect(testcase.failure).toHaveLength(1);
    const [failure] = testcase.failure ?? [];
    expect(failure.$).toEqual({ message: 'east-west gateway Service has no external address (LoadBalancer pending) (root cause)', type: 'gatewayNoAddress' });
    expect(failure._).toContain('error [west] Service istio-system/istio-eastwestgateway: east-west gateway Service has no external address');
    expect(failure._).toContain('hint: check the cloud load balancer controller');
    expect(failure._).toContain('warning [west] Service istio-system/istio-eastwestgateway: port 15443 (tls) is not exposed');
    expect(failure._).toContain('see: meshdoctor explain network/eastwest-gateway');
    expect(testcase['system-out']).toBeUndefined();
  });

  it('the <failure> message is the most severe finding, not the first (an info line never stands for an error)', async () => {
    const report = realisticReport();
    const failing = report.results.find((r) => r.checkId === 'certificates/shared-root')!;
    const info = { ...failing.findings.find((f) => f.severity === 'info')!, cluster: 'aaa-first' };
    const results = report.results.map((r) => (r === failing ? { ...r, findings: [info, ...r.findings.filter((f) => f.severity !== 'info')] } : r));
    const document = await parseWithXml2js(renderJunit(withResults(report, results)));
    const [failure] = testcaseByName(document, 'certificates/shared-root [*]').failure ?? [];
    expect(failure.$.type).toBe('rootMismatch');
  });

  it('marks root causes, and consequences with what explains them (check, the cluster it concerns, messageId)', async () => {
    const document = await parseWithXml2js(renderJunit(consequenceReport()));
    const [consequence] = testcaseByName(document, 'network/eastwest-gateway [west]').failure ?? [];
    expect(consequence.$.message).toMatch(/ \(consequence of certificates\/shared-root on west: rootMismatch\)$/);
    expect(consequence._).toContain('\n  consequence of certificates/shared-root on west: rootMismatch');
    // The gateway's other finding (a warning) is still a root cause.
    expect(consequence._.match(/\n {2}root cause(\n|$)/g)).toHaveLength(1);
    const [root] = testcaseByName(document, 'certificates/shared-root [*]').failure ?? [];
    expect(root.$.message).toMatch(/ \(root cause\)$/);
    // An info finding is neither.
    expect(root._).toMatch(/info \[\*\]: 2 distinct roots across 3 clusters\n {2}see: meshdoctor explain certificates\/shared-root(\n\n|$)/);
  });

  it('names the cluster each finding of a mesh-scope result concerns', async () => {
    const document = await parseWithXml2js(renderJunit(realisticReport()));
    const [failure] = testcaseByName(document, 'certificates/shared-root [*]').failure ?? [];
    expect(failure.$.type).toBe('rootMismatch');
    expect(failure._).toContain('error [west] Secret istio-system/cacerts: root certificate of west');
    expect(failure._).toContain('info [*]: 2 distinct roots across 3 clusters');
  });

  it('reports skip as <skipped> with the reason and error as <error> with the reason', async () => {
    const document = await parseWithXml2js(renderJunit(realisticReport()));
    expect(testcaseByName(document, 'control-plane/istiod-ready [edge]').skipped).toEqual(['not a primary cluster (role remote)']);
    const errored = testcaseByName(document, 'certificates/workload-cert-expiry [east]');
    expect(errored.error).toEqual([{ _: 'timed out after 20s', $: { message: 'timed out after 20s' } }]);
    expect(errored.failure).toBeUndefined();
  });

  it('keeps a warning passing with its findings in <system-out>', async () => {
    const document = await parseWithXml2js(renderJunit(realisticReport()));
    const testcase = testcaseByName(document, 'control-plane/remote-secrets [*]');
    expect(testcase.failure).toBeUndefined();
    expect(testcase['system-out']?.[0]).toContain('warning [east] Secret istio-system/istio-remote-secret-edge:');
  });

  it('turns a warning into <failure> with --fail-on warning', async () => {
    const report = withResults(realisticReport(), realisticReport().results, 'warning');
    const document = await parseWithXml2js(renderJunit(report));
    const testcase = testcaseByName(document, 'control-plane/remote-secrets [*]');
    expect(testcase.failure?.[0].$.type).toBe('remoteSecretServerMismatch');
    expect(testcase['system-out']).toBeUndefined();
    expect(document.testsuites.$.failures).toBe(String(report.summary.fail + report.summary.warn));
    expect(document.testsuites.testsuite[0].$.failures).toBe('2');
  });

  it('adds mesh properties to each suite, and no <properties> when there are none', async () => {
    const { testsuites } = await parseWithXml2js(renderJunit(realisticReport()));
    expect(testsuites.testsuite[0].properties?.[0].property.map((property) => property.$)).toEqual([
      { name: 'meshdoctor.version', value: '0.1.0' },
      { name: 'mesh.model', value: 'multi-primary' },
      { name: 'mesh.meshId', value: 'mesh1' },
      { name: 'mesh.trustDomain', value: 'cluster.local' },
    ]);
    const bare = withResults({ ...healthyReport(), meshdoctorVersion: '', mesh: { model: 'unknown', multiNetwork: false } }, healthyReport().results);
    const xml = renderJunit(bare);
    expect(xml).not.toContain('<properties');
    expect((await parseWithXml2js(xml)).testsuites.testsuite[0].properties).toBeUndefined();
  });

  it('escapes XML metacharacters and strips control characters and ANSI escapes', async () => {
    const xml = renderJunit(hostileReport());
    // eslint-disable-next-line no-control-regex -- looking for exactly these
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/);
    const document = await parseWithXml2js(xml);
    const expected = 'bad <tag> & "quotes" \'apos\' nulbell red link tab\there';
    const [failure] = testcaseByName(document, 'control-plane/istiod-ready [west]').failure ?? [];
    expect(failure.$.message).toBe(`istiod has 0 of 1 replicas ready ${expected.replace('\t', ' ')} (root cause)`);
    expect(failure._).toContain(`hint: ${expected}`);
    expect(testcaseByName(document, 'control-plane/istiod-ready [edge]').skipped?.[0]).toBe(`not a primary cluster (role remote) ${expected}`);
    expect(testcaseByName(document, 'certificates/workload-cert-expiry [east]').error?.[0]._).toBe(`timed out after 20s ${expected}`);
    expect(document.testsuites.testsuite[0].properties?.[0].property[2].$).toEqual({ name: 'mesh.meshId', value: 'mesh <1> & "2"' });
  });
});

describe('renderJunit, parsed with xml-js (compact)', () => {
  type Node = ElementCompact & { _attributes: Record<string, string> };
  const asArray = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

  it('exposes the same structure', () => {
    const document = xmlJsParse(renderJunit(realisticReport()), { compact: true }) as ElementCompact;
    const suites = asArray<Node>(document.testsuites.testsuite);
    expect(suites.map((suite) => suite._attributes.name)).toEqual(['control-plane', 'network', 'certificates', 'connectivity']);
    const cases = suites.flatMap((suite) => asArray<Node>(suite.testcase));
    expect(cases).toHaveLength(10);
    const byName = new Map(cases.map((testcase) => [testcase._attributes.name, testcase]));
    expect(byName.get('control-plane/istiod-ready [west]')?.failure._attributes.type).toBe('istiodNotReady');
    expect(byName.get('control-plane/istiod-ready [edge]')?.skipped._text).toBe('not a primary cluster (role remote)');
    expect(byName.get('certificates/workload-cert-expiry [east]')?.error._attributes.message).toBe('timed out after 20s');
    expect(byName.get('control-plane/istiod-ready [east]')).toEqual({ _attributes: expect.any(Object) });
  });

  it('reads hostile texts back as plain text', () => {
    const document = xmlJsParse(renderJunit(hostileReport()), { compact: true }) as ElementCompact;
    const suites = asArray<Node>(document.testsuites.testsuite);
    const west = asArray<Node>(suites[0].testcase).find((testcase) => testcase._attributes.name === 'control-plane/istiod-ready [west]');
    expect(west?.failure._attributes.message).toContain('bad <tag> & "quotes" \'apos\' nulbell red link');
    expect(west?.failure._text).toContain('bad <tag> & "quotes"');
    expect(west?.failure._text).not.toContain('\u001b');
  });
});

describe('JUnit helpers', () => {
  it('escapeXml escapes the five metacharacters and drops what XML cannot carry', () => {
    expect(escapeXml(`<a href="x">&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;');
    expect(escapeXml('a\u0000b\u001b[1;31mc\u001b[0m\td\ne\rf\uFFFEg\uD800h')).toBe('abc\td\ne\rfgh');
    expect(escapeXml('emoji 🙂 stays')).toBe('emoji 🙂 stays');
  });

  it('formats timestamps the way the JUnit schemas define them: no milliseconds, no zone', () => {
    expect(junitTimestamp('2026-05-04T09:30:12.345Z')).toBe('2026-05-04T09:30:12');
    expect(junitTimestamp('2026-05-04T11:30:12+02:00')).toBe('2026-05-04T09:30:12');
    expect(junitTimestamp('not a date')).toBeUndefined();
  });
});

describe('an aborted run', () => {
  it('adds an errored `meshdoctor run` test case that says why, after what finished', async () => {
    const report = { ...withResults(realisticReport(), realisticReport().results.slice(0, 2)), aborted: 'kubeconfig /x: invalid kubeconfig' };
    const xml = renderJunit(report);
    const parsed = (await parseStringPromise(xml)) as { testsuites: { $: { errors: string }; testsuite: unknown[] } };
    const suites = parsed.testsuites.testsuite as { $: { name: string }; testcase: { $: { name: string; classname: string }; error?: { $: { message: string } }[] }[] }[];
    const run = suites.find((suite) => suite.$.name === 'meshdoctor')!;
    expect(run.testcase[0].$).toEqual({ name: 'meshdoctor run', classname: 'meshdoctor.run', time: expect.any(String) });
    expect(run.testcase[0].error![0].$.message).toBe('run aborted: kubeconfig /x: invalid kubeconfig');
    expect(Number(parsed.testsuites.$.errors)).toBe(report.summary.error + 1);
  });
});
