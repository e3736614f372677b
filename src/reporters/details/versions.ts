// The Istio versions control-plane/version-skew saw: istiod per cluster and revision, then the
// proxies per cluster, revision and version with the control plane that serves them, so a skew is
// visible at a glance during an upgrade.
import type { DetailRenderer } from './renderer.ts';
import type { VersionsData } from '../../engine/details.ts';

/** Renders `data.versions` of control-plane/version-skew (VersionsData). Unknown shapes render nothing. */
const renderVersions: DetailRenderer = (value, { chalk }) => {
  if (!isVersionsData(value) || (value.controlPlanes.length === 0 && value.proxies.length === 0)) return [];
  const lines = ['Istio versions seen'];
  for (const cp of value.controlPlanes) lines.push(`  istiod   ${cp.cluster} ${chalk.dim(`revision ${cp.revision}`)}  ${chalk.bold(cp.version)}`);
  for (const p of value.proxies) {
    const served = p.controlPlane ? chalk.dim(`  (control plane ${p.controlPlane} ${p.controlPlaneVersion ?? '?'})`) : chalk.dim('  (control plane unknown)');
    lines.push(`  proxies  ${p.cluster} ${chalk.dim(`revision ${p.revision}`)}  ${chalk.bold(p.version)} x${p.count}${served}`);
  }
  return lines;
};

function isVersionsData(value: unknown): value is VersionsData {
  const v = value as VersionsData | undefined;
  return typeof v === 'object' && v !== null && Array.isArray(v.controlPlanes) && Array.isArray(v.proxies);
}

export default renderVersions;
