// The CA chain of a cluster as a small tree, root at the top, so two clusters' trees side by side
// show at a glance where they diverge (fingerprint prefixes differ from that certificate down).
import type { DetailRenderer } from './renderer.ts';
import type { ChainCertificate, ChainDetail } from '../../engine/details.ts';

/** Renders `data.chain` of certificates/chain (a ChainDetail). Unknown shapes render nothing. */
const renderChain: DetailRenderer = (value, { chalk }) => {
  if (!isChainDetail(value) || value.path.length === 0) return [];
  const topDown = [...value.path].reverse();
  const lines = [`CA chain (${value.secret}, ${value.form} form)${value.trusted ? '' : chalk.red(' - does not reach root-cert.pem')}`];
  if (!value.trusted) {
    for (const root of value.roots) lines.push(`  ${line(root, chalk.dim('root-cert.pem: '))}`);
    lines.push(`  ${chalk.red('✖')} ${chalk.dim(`missing link: issuer of ${topDown[0].subject}`)}`);
  }
  topDown.forEach((cert, depth) => {
    const indent = value.trusted ? depth : depth + 1;
    const branch = indent === 0 ? '' : `${'   '.repeat(indent - 1)}└─ `;
    lines.push(`  ${branch}${line(cert, '')}`);
  });
  return lines;

  function line(cert: ChainCertificate, prefix: string): string {
    const fingerprint = (cert.fingerprint.slice(0, 16).match(/../g) ?? []).join(':');
    return `${prefix}${chalk.bold(cert.role)} ${cert.subject}  ${chalk.dim(`issuer ${cert.issuer}  sha256 ${fingerprint}  not after ${cert.notAfter.slice(0, 10)}`)}`;
  }
};

function isChainDetail(value: unknown): value is ChainDetail {
  const v = value as ChainDetail | undefined;
  return typeof v === 'object' && v !== null && Array.isArray(v.path) && Array.isArray(v.roots) && typeof v.secret === 'string';
}

export default renderChain;
