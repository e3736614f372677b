// Encodes https://istio.io/latest/docs/ops/diagnostic-tools/multicluster/ ("Remote secrets": istiod must reach each peer API with the secret's credentials and list/watch what its informers read).
import { defineCheck } from '../../engine/define-check.ts';
import { findRemoteSecrets, isLoopbackServer, readIstiodSecrets, sameServer } from '../../mesh/remote-secrets.ts';
import { loadUntrustedKubeconfig } from '../../cluster/untrusted-kubeconfig.ts';
import { controlledElsewhere } from '../../mesh/roles.ts';

/** Per-request deadline of a probe: a peer that does not answer within it is as good as down for istiod. */
const PROBE_TIMEOUT_MS = 5000;

export default defineCheck({
  id: 'control-plane/remote-api-access',
  category: 'control-plane',
  scope: 'cluster',
  needs: ['secrets', 'deployments', 'live'],
  meta: {
    description: "Each remote secret's credentials reach the peer API server and may list and watch what istiod reads (as seen from where meshdoctor runs)",
    details:
      "For every kubeconfig in this cluster's remote secrets (and an external control plane's istio-kubeconfig), meshdoctor " +
      'uses those very credentials, read-only: GET /version, then SelfSubjectAccessReviews for list and watch of pods, services, ' +
      'endpointslices and namespaces (a `limit=1` list when reviews are refused), each with a short timeout. The result is what ' +
      "meshdoctor sees from the machine it runs on: istiod's pod may see the network differently (an unreachable verdict can be " +
      "meshdoctor's own firewall; a reachable loopback address says nothing about istiod). Only inline credentials are used: kubeconfigs that would run " +
      'a program (exec, auth-provider), read a local file (token or certificate files) or use a proxy (proxy-url) are never used, ' +
      'even when istiod\'s allowlist permits them, nor unusable ones: those are noted as not probed (info; ' +
      'control-plane/remote-secrets judges them). Nor are a secret\'s credentials sent to the machine meshdoctor runs on or its ' +
      'link-local network: a server on a loopback, unspecified or link-local address (169.254.169.254 is the cloud metadata service), ' +
      'or a name resolving to one when meshdoctor connects, is not probed either, unless the operator\'s kubeconfig has a context for ' +
      'that URL, the run is the lab\'s, or --allow-loopback-remote-secrets allows loopback. A server that does not answer although it is the API server of a ' +
      'cluster in the operator\'s kubeconfig (or one reached earlier in the run) is an outage of that peer (outcome error), not a finding. Needs a live cluster.',
    docs: 'https://istio.io/latest/docs/ops/diagnostic-tools/multicluster/',
    messages: {
      peerUnreachable: {
        template: 'From where meshdoctor runs, {{server}} (secret {{secret}} key {{key}}) cannot be reached: {{reason}}',
        severity: 'error',
        hint:
          'Check the address from inside this cluster too: kubectl --context=<{{cluster}} context> run -it --rm probe --restart=Never --image=curlimages/curl -- curl -sk {{server}}/version. ' +
          'If it fails there as well, fix the server in the secret (istioctl create-remote-secret --server=...) or the firewall ' +
          'between the clusters; if it works there, only meshdoctor\'s own network path is blocked.',
      },
      credentialsRejected: {
        template: '{{server}} rejects the credentials of secret {{secret}} key {{key}} (HTTP 401): {{reason}}',
        severity: 'error',
        explainedBy: [{ check: 'control-plane/remote-secrets', messages: ['tokenExpired'], when: 'cluster' }],
        hint:
          'The token expired or its service account or Secret was deleted. Recreate the secret: istioctl create-remote-secret ' +
          '--context=<{{key}} context> --name={{key}} | kubectl --context=<{{cluster}} context> apply -f -',
      },
      accessDenied: {
        template: 'The credentials of secret {{secret}} key {{key}} may not list/watch {{resources}} on {{server}} (403)',
        severity: 'error',
        hint:
          'Restore the reader role istiod needs on the peer: re-running istioctl --context=<{{key}} context> install (or helm --kube-context=<{{key}} context> upgrade of the istiod chart) there recreates ' +
          'ClusterRole istio-reader-clusterrole[-<revision name>]-istio-system and its binding to istio-reader-service-account; check with ' +
          'kubectl auth can-i list pods --as=system:serviceaccount:istio-system:istio-reader-service-account --context=<{{key}} context>',
      },
      accessUnknown: {
        template: 'Could not tell whether the credentials of secret {{secret}} key {{key}} may read {{resources}}: {{reason}}',
        severity: 'info',
        hint: 'Verify on the peer: kubectl auth can-i list pods --as=system:serviceaccount:istio-system:istio-reader-service-account --context=<{{key}} context>',
      },
      notProbed: {
        template: '{{server}} (secret {{secret}} key {{key}}) was not probed: {{reason}}',
        severity: 'info',
        hint: 'control-plane/remote-secrets judges this kubeconfig; control-plane/remote-sync shows whether istiod itself reaches the peer with it.',
      },
      loopbackReachable: {
        template: '{{server}} (secret {{secret}} key {{key}}) answered meshdoctor, but it is a loopback address: that says nothing about what istiod can reach',
        severity: 'info',
        hint: 'See control-plane/remote-secrets and control-plane/remote-sync for what istiod itself reports about this peer.',
      },
    },
  },
  appliesTo(info) {
    if (controlledElsewhere(info)) return 'no istiod in this cluster: its control plane holds the remote secrets';
    return undefined;
  },
  async run(ctx) {
    const probe = ctx.probeRemoteApi;
    if (!probe) return ctx.skip('needs a live cluster: remote API servers are probed only live');
    const namespace = ctx.options.istioNamespace;
    const entries = findRemoteSecrets(await readIstiodSecrets(ctx.cluster, namespace), namespace);
    if (entries.length === 0) ctx.skip('no remote secrets in this cluster');

    const probes = entries.map(async (entry) => {
      const resource = { kind: 'Secret', namespace: entry.secret.metadata.namespace, name: entry.secret.metadata.name };
      const ref = { secret: entry.secretName, key: entry.key };
      // Never run a plugin, read a local file or use a proxy named by a Secret, even when istiod's
      // allowlist permits it; an unusable kubeconfig is remote-secrets' finding, here it is only not probed.
      const loaded = loadUntrustedKubeconfig(entry.kubeconfig);
      if (!loaded.ok) {
        ctx.report({ messageId: 'notProbed', resource, data: { ...ref, server: loaded.server ?? '(no server)', reason: loaded.reason } });
        return;
      }
      const server = loaded.credentials.server;
      const data = { ...ref, server };
      // The peer the secret is for (Finding.peer, for root causes): the cluster of its server, else the one whose cluster id is its key.
      const peerName = (ctx.clusters.find((r) => sameServer(r.server, server)) ?? ctx.clusterInfos.find((i) => i.clusterId === entry.key))?.name;
      const about = peerName && peerName !== ctx.cluster.name ? { peer: peerName } : {};
      const result = await probe(entry.kubeconfig!, { timeoutMs: PROBE_TIMEOUT_MS });
      if (result.notProbed !== undefined) {
        ctx.report({ messageId: 'notProbed', resource, data: { ...data, reason: result.notProbed } });
        return;
      }
      if (!result.reachable) {
        // The secret names a server meshdoctor knows from the operator's own kubeconfig, or reached
        // during discovery: the address is right and the peer is down now (an outage: no verdict), not
        // a secret pointing at the wrong place.
        const known = ctx.clusters.find((r, i) => sameServer(r.server, server) && (r.via === 'context' || ctx.clusterInfos[i].reachable));
        if (known) {
          ctx.notRead(known.name, `its API server ${server} (secret ${entry.secretName} key ${entry.key}) does not answer: ${result.error ?? 'no answer'}`, 'outage');
          return;
        }
        ctx.report({ messageId: 'peerUnreachable', resource, ...about, data: { ...data, reason: result.error ?? 'no answer' } });
        return;
      }
      if (result.status === 401) {
        ctx.report({ messageId: 'credentialsRejected', resource, ...about, data: { ...data, reason: result.error ?? '401 Unauthorized' } });
        return;
      }
      if (isLoopbackServer(server) && !ctx.options.sharedLoopback) ctx.report({ messageId: 'loopbackReachable', resource, data });
      const denied = result.access.filter((a) => a.allowed === false);
      const unknown = result.access.filter((a) => a.allowed === undefined);
      if (denied.length) {
        ctx.report({ messageId: 'accessDenied', resource, ...about, data: { ...data, resources: denied.map((a) => `${a.resource} (${a.reason ?? 'denied'})`).join(', ') } });
      }
      if (unknown.length) {
        ctx.report({ messageId: 'accessUnknown', resource, data: { ...data, resources: unknown.map((a) => a.resource).join(', '), reason: unknown[0].reason ?? 'no answer' } });
      }
    });
    await Promise.all(probes);
  },
});
