// Encodes https://istio.io/latest/docs/ops/diagnostic-tools/multicluster/ ("verify istiod is running") and the istiod Deployment of manifests/charts/istio-control/istio-discovery.
import { defineCheck } from '../../engine/define-check.ts';
import {
  findIstiodDeployments,
  isPodReady,
  podNotReadyReason,
  podRestarts,
  podsOfWorkload,
  revisionOf,
} from '../../mesh/istio-objects.ts';
import { controlledElsewhere } from '../../mesh/roles.ts';

/** Restarts from which a Ready istiod is reported as unstable. */
const RESTART_WARNING_THRESHOLD = 3;

export default defineCheck({
  id: 'control-plane/istiod-ready',
  category: 'control-plane',
  scope: 'cluster',
  needs: ['deployments', 'pods'],
  meta: {
    description: 'istiod runs, is available and its pods are Ready and stable in every cluster that should run one',
    details:
      'A primary cluster (and any cluster whose role could not be told otherwise) must run istiod: without it, no ' +
      'proxy of the cluster gets configuration or certificates, and peers lose this cluster\'s discovery. The check ' +
      'reads the istiod Deployments of the istio namespace (every revision), their availability, and the pods they ' +
      'select: Ready condition, container state (CrashLoopBackOff, ImagePullBackOff, ...) and restart counts. A remote ' +
      'cluster of a primary-remote mesh, or a cluster run by an external control plane, has no istiod by design and passes.',
    docs: 'https://istio.io/latest/docs/ops/diagnostic-tools/multicluster/',
    messages: {
      istiodMissing: {
        template: 'No istiod Deployment in namespace {{namespace}}, but this cluster is not a remote of another control plane',
        severity: 'error',
        hint:
          'Install the control plane (istioctl --context=<{{cluster}} context> install -f <your IstioOperator file>, or helm --kube-context=<{{cluster}} context> install istiod istio/istiod -n {{namespace}}), ' +
          'or, if this cluster is meant to be a remote, annotate its namespace: ' +
          'kubectl --context=<{{cluster}} context> annotate namespace {{namespace}} topology.istio.io/controlPlaneClusters=<primary cluster id>',
      },
      istiodUnavailable: {
        template: 'istiod Deployment {{name}} (revision {{revision}}) is unavailable: {{available}} of {{replicas}} replicas available',
        severity: 'error',
        hint:
          'Look at why its pods do not come up: kubectl -n {{namespace}} describe deployment {{name}}; ' +
          'kubectl -n {{namespace}} get pods -l app=istiod; kubectl -n {{namespace}} logs deploy/{{name}} -c discovery',
      },
      istiodPodNotReady: {
        template: 'istiod pod {{pod}} (revision {{revision}}) is not Ready: {{reason}} ({{restarts}} restarts)',
        severity: 'error',
        hint:
          'Read the crash reason: kubectl -n {{namespace}} logs {{pod}} -c discovery --previous; kubectl -n {{namespace}} describe pod {{pod}}. ' +
          'Common causes: an invalid cacerts Secret, a mesh config that does not parse, or too little memory.',
      },
      istiodRestarting: {
        template: 'istiod pod {{pod}} (revision {{revision}}) has restarted {{restarts}} times (last: {{lastReason}})',
        severity: 'warning',
        hint:
          'Check why it restarts: kubectl -n {{namespace}} logs {{pod}} -c discovery --previous; an OOMKilled reason means ' +
          'raising resources.limits.memory of istiod (values pilot.resources).',
      },
    },
  },
  async run(ctx) {
    const info = ctx.clusterInfo;
    // Remotes and externally controlled clusters get istiod from elsewhere: nothing to run here.
    if (controlledElsewhere(info)) return;
    const namespace = ctx.options.istioNamespace;
    const deployments = (await ctx.cluster.list('deployments')).filter((d) => d.metadata.namespace === namespace);
    const istiods = findIstiodDeployments(deployments);
    if (istiods.length === 0) {
      ctx.report({ messageId: 'istiodMissing', resource: { kind: 'Namespace', name: namespace }, data: { namespace } });
      return;
    }
    const pods = (await ctx.cluster.list('pods')).filter((p) => p.metadata.namespace === namespace);
    for (const deployment of istiods) {
      const name = deployment.metadata.name;
      const revision = revisionOf(deployment);
      const replicas = Number(deployment.spec?.replicas ?? 1);
      const available = Number(deployment.status?.availableReplicas ?? 0);
      const availableCondition = ((deployment.status?.conditions ?? []) as { type: string; status: string }[]).find((c) => c.type === 'Available');
      if (replicas === 0 || available < replicas || availableCondition?.status === 'False') {
        ctx.report({
          messageId: 'istiodUnavailable',
          resource: { kind: 'Deployment', namespace, name },
          data: { namespace, name, revision, available, replicas },
        });
      }
      for (const pod of podsOfWorkload(deployment, pods)) {
        // Pods on their way out of a rollout do not count against the Deployment.
        if (pod.metadata.deletionTimestamp || pod.status?.phase === 'Succeeded') continue;
        const restarts = podRestarts(pod);
        const podData = { namespace, pod: pod.metadata.name, revision: revisionOf(pod), restarts: restarts.count };
        const resource = { kind: 'Pod', namespace, name: pod.metadata.name };
        if (!isPodReady(pod)) {
          ctx.report({ messageId: 'istiodPodNotReady', resource, data: { ...podData, reason: podNotReadyReason(pod) } });
        } else if (restarts.count >= RESTART_WARNING_THRESHOLD) {
          ctx.report({ messageId: 'istiodRestarting', resource, data: { ...podData, lastReason: restarts.lastReason ?? 'unknown' } });
        }
      }
    }
  },
});
