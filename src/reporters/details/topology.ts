// The topology picture of network/topology: networks, their clusters and east-west gateways with
// addresses, then which control plane sees which cluster. Renders `CheckResult.data.topology`
// (TopologyPicture of src/checks/network/topology.ts); anything else renders nothing.
import type { DetailRenderer } from './renderer.ts';
import type { TopologyPicture } from '../../engine/details.ts';

function isPicture(value: unknown): value is TopologyPicture {
  const v = value as TopologyPicture | undefined;
  return !!v && Array.isArray(v.networks) && Array.isArray(v.controlPlanes);
}

/** Tree branches: `├─`/`└─` for an item, `│ `/`  ` to continue under it. */
function branch(last: boolean): { item: string; under: string } {
  return last ? { item: '└─ ', under: '   ' } : { item: '├─ ', under: '│  ' };
}

const renderTopology: DetailRenderer = (value, { chalk }) => {
  if (!isPicture(value)) return [];
  const lines: string[] = [];
  for (const network of value.networks) {
    lines.push(chalk.bold(`network ${network.name}`));
    network.clusters.forEach((cluster, ci) => {
      const c = branch(ci === network.clusters.length - 1);
      const id = cluster.clusterId && cluster.clusterId !== cluster.name ? `, id ${cluster.clusterId}` : '';
      lines.push(`${c.item}${chalk.cyan(cluster.name)} (${cluster.role}${id})`);
      if (cluster.gateways.length === 0) lines.push(`${c.under}└─ ${chalk.dim('no east-west gateway')}`);
      cluster.gateways.forEach((gw, gi) => {
        const g = branch(gi === cluster.gateways.length - 1);
        const addresses = gw.addresses.length > 0 ? gw.addresses.join(', ') : chalk.red('no address');
        const ignored = gw.recognised ? '' : chalk.yellow(' (ignored by istiod: no network label)');
        lines.push(`${c.under}${g.item}gateway ${gw.namespace}/${gw.name} ${chalk.dim('→')} ${addresses}${ignored}`);
      });
    });
  }
  if (value.controlPlanes.length > 0) {
    lines.push(chalk.bold('control planes'));
    value.controlPlanes.forEach((cp, i) => {
      const b = branch(i === value.controlPlanes.length - 1);
      const sees = cp.error
        ? chalk.yellow(`unknown (${cp.error})`)
        : cp.sees.map((s) => (['local', 'synced', 'known'].includes(s.status) ? `${s.clusterId} (${s.status})` : chalk.red(`${s.clusterId} (${s.status})`))).join(', ') || chalk.red('nothing');
      lines.push(`${b.item}istiod in ${chalk.cyan(cp.cluster)} sees ${sees}`);
    });
  }
  return lines;
};

export default renderTopology;
