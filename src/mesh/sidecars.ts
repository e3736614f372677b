// Which pods run Istio's proxy, and which of them meshdoctor samples. A pod has a sidecar when the
// injector stamped it with `sidecar.istio.io/status`; the `istio-proxy` container may be a native
// sidecar (an init container with restartPolicy Always, Istio's default on recent Kubernetes).
import type { KubeObject } from '../cluster/types.ts';
import { annotationsOf, type ContainerSpec } from './istio-objects.ts';

/** Pod annotation the injector sets on every pod it injected. */
export const SIDECAR_STATUS_ANNOTATION = 'sidecar.istio.io/status';
/** The container Envoy and pilot-agent run in. */
export const PROXY_CONTAINER = 'istio-proxy';

/** A pod has a sidecar when Istio's injector stamped it. */
export function hasSidecar(pod: KubeObject): boolean {
  return annotationsOf(pod)[SIDECAR_STATUS_ANNOTATION] !== undefined;
}

/** The `istio-proxy` container: a regular container, or a native sidecar (init container with restartPolicy Always). */
export function proxyContainer(pod: KubeObject): ContainerSpec | undefined {
  const spec = pod.spec ?? {};
  const all = [...((spec.containers ?? []) as ContainerSpec[]), ...((spec.initContainers ?? []) as (ContainerSpec & { restartPolicy?: string })[]).filter((c) => c.restartPolicy === 'Always')];
  return all.find((c) => c.name === PROXY_CONTAINER);
}

/** The application container: the default-container annotation, else the first container that is not istio-proxy. */
export function applicationContainer(pod: KubeObject): string | undefined {
  const names = ((pod.spec?.containers ?? []) as { name: string }[]).map((c) => c.name).filter((n) => n !== PROXY_CONTAINER);
  const preferred = annotationsOf(pod)['kubectl.kubernetes.io/default-container'];
  return preferred && names.includes(preferred) ? preferred : names[0];
}
