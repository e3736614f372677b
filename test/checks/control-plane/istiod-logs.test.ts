import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/control-plane/istiod-logs.ts';
import { AccessError, type ClusterReader } from '../../../src/cluster/types.ts';
import { ISTIOD_LOG_SIGNATURES, logMessage } from '../../../src/mesh/istiod-log-signatures.ts';
import { findingKeys, fixtureObjects, memoryReaders, openFixture, runCheck, runErrors, runFor } from '../helpers.ts';

const T = '2026-11-20T09:59:00.000000Z';
/** A line in istiod's format: time, level, scope, message. */
const line = (level: string, scope: string, message: string) => `${T}\t${level}\t${scope}\t${message}`;

/** A reader whose first istiod pod logged `text`. */
function withLog(reader: ClusterReader, text: string): ClusterReader {
  return { ...reader, istiodLogs: async () => [{ pod: 'istiod-test-0', namespace: 'istio-system', revision: 'default', text }] };
}

async function findingsFor(text: string) {
  const readers = memoryReaders(await fixtureObjects('multi-primary-healthy'));
  readers[0] = withLog(readers[0], text);
  return (await runCheck(check, readers)).runs;
}

/** One real-looking line per messageId (the shapes istiod writes at the source lines of the table). */
const LINES: Record<string, string> = {
  kubeconfigRejected: line('error', 'kube', 'secret=istio-system/istio-remote-secret-cluster2 cluster_id=cluster2: create remote cluster failed: exec is not allowed'),
  clusterRegisteredTwice: line('warn', 'kube', 'cluster cluster2 from secret istio-system/istio-remote-secret-b has already been registered'),
  remoteSyncFailed: line('error', 'kube', 'remote cluster cluster2 failed to sync after 30s'),
  peerUnknownAuthority: line('error', 'klog', 'Failed to watch *v1.Pod: Get "https://10.0.0.2:6443/api/v1/pods": tls: failed to verify certificate: x509: certificate signed by unknown authority'),
  clientClaimsCluster: line('error', 'security', 'Failed to authenticate client from 10.1.2.3: client claims to be in cluster "cluster9", but we only know about local cluster "cluster1" and remote clusters []'),
  noNetworkGateway: line('warn', 'ambient', 'No network gateway found for network network2'),
};

describe('control-plane/istiod-logs', () => {
  it('passes on cp-multi-primary, whose istiod logs hold no signature', async () => {
    const { runs } = await runCheck(check, (await openFixture('cp-multi-primary')).clusters);
    expect(findingKeys(runs)).toEqual([]);
    expect(runs.every((r) => !r.skipped && !r.error)).toBe(true);
  });

  it('skips a snapshot without discovery.log, and remotes', async () => {
    const { runs } = await runCheck(check, (await openFixture('primary-remote-healthy')).clusters);
    expect(runFor(runs, 'cluster1').skipped).toMatch(/no istiod discovery\.log/);
    expect(runFor(runs, 'cluster2').skipped).toMatch(/no istiod/);
  });

  it('an unreadable log (403) is a skip with the reason, never a pass', async () => {
    const readers = memoryReaders(await fixtureObjects('multi-primary-healthy'));
    readers[0] = {
      ...readers[0],
      istiodLogs: async () => {
        throw new AccessError('forbidden', 'cluster1', 'forbidden: cannot get pods/log of istio-system/istiod-test-0');
      },
    };
    const { runs } = await runCheck(check, readers);
    expect(runFor(runs, 'cluster1').skipped).toMatch(/pods\/log/);
    expect(runFor(runs, 'cluster1').findings).toEqual([]);
  });

  it('a log that cannot be fetched (500) is an error of the check', async () => {
    const readers = memoryReaders(await fixtureObjects('multi-primary-healthy'));
    readers[0] = {
      ...readers[0],
      istiodLogs: async () => {
        throw new AccessError('bad-response', 'cluster1', 'bad response: HTTP 500 from GET pods/log');
      },
    };
    expect(runErrors((await runCheck(check, readers)).runs)).toEqual([expect.stringMatching(/^cluster1: .*HTTP 500/)]);
  });

  it.each(Object.keys(LINES))('%s: counted, first line reported, severity from the table', async (messageId) => {
    const runs = await findingsFor([line('info', 'ads', 'Push debounce stable'), LINES[messageId], LINES[messageId]].join('\n'));
    const findings = runFor(runs, 'cluster1').findings;
    const severity = ISTIOD_LOG_SIGNATURES.find((s) => s.messageId === messageId)!.severity;
    expect(findings.map((f) => `${f.messageId} ${f.data?.count} ${f.severity}`)).toEqual([`${messageId} 2 ${severity}`]);
    expect(findings[0].data?.first).toBe(LINES[messageId]);
    expect(findings[0].resource).toMatchObject({ kind: 'Pod', name: 'istiod-test-0' });
  });

  it('kubeconfigRejected also in the wording of older releases (no "create remote cluster failed")', async () => {
    const runs = await findingsFor(line('error', 'kube', 'Adding cluster_id=cluster2 from secret=istio-system/istio-remote-secret-cluster2: exec is not allowed'));
    expect(findingKeys(runs)).toEqual(['cluster1:kubeconfigRejected']);
  });

  it('matches the message, not the time, level or scope', () => {
    expect(logMessage(`${T}\terror\tkube\tfailed to sync after 30s`)).toBe('failed to sync after 30s');
    expect(logMessage('no tabs: failed to sync after')).toBe('no tabs: failed to sync after');
  });

  it('reads default-scope lines, which have no scope column (pkg/log/scope.go:103), with their labels', () => {
    expect(logMessage(`${T}\terror\tremote cluster cluster2 failed to sync after 30s`)).toBe('remote cluster cluster2 failed to sync after 30s');
    expect(logMessage(`${T}\twarn\tcluster has already been registered\tcluster=cluster2 config=istio-system/b`)).toBe('cluster has already been registered\tcluster=cluster2 config=istio-system/b');
  });

  // Lines as the real pilot-discovery (istio.io/istio eed52ebb66ad) of realstack/ wrote them, in its
  // default scope: no scope column, the secret controller's labels after the message.
  it.each([
    ['kubeconfigRejected', `${T}\terror\tAdd cluster: create remote cluster failed: kubeconfig is not allowed: exec is not allowed\tcluster=cluster2 config=istio-system/istio-remote-secret-cluster2`],
    ['clusterRegisteredTwice', `${T}\twarn\tcluster has already been registered\tcluster=cluster2 config=istio-system/istio-remote-secret-b`],
    ['remoteSyncFailed', `${T}\terror\tremote cluster cluster2 failed to sync after 30s`],
  ])('%s in real istiod\'s default-scope line', async (messageId, text) => {
    const runs = await findingsFor([`${T}\tinfo\tprocessing remote config event for istio-system/istio-remote-secret-cluster2`, text].join('\n'));
    expect(findingKeys(runs)).toEqual([`cluster1:${messageId}`]);
  });

  it('redacts tokens and certificates of the first line and strips terminal escapes', async () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    const runs = await findingsFor(line('error', 'kube', `remote cluster c2 failed to sync after 30s: Authorization: Bearer ${token} \u001b[31m-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----`));
    const first = String(runFor(runs, 'cluster1').findings[0].data?.first);
    expect(first).not.toContain(token);
    expect(first).not.toContain('\u001b');
    expect(first).toContain('REDACTED');
  });

  it('no signature in an ordinary log', async () => {
    expect(findingKeys(await findingsFor([line('info', 'ads', 'XDS: Pushing Services:12'), line('warn', 'kube', 'cluster2 synced after 2s')].join('\n')))).toEqual([]);
  });
});
