// Where credentials from cluster data may be sent (the security rule: data from a cluster is data).
// A remote secret names a server, and meshdoctor connects to it with the secret's own token. Its
// author must not be able to aim that connection at the machine meshdoctor runs on (a port of the
// operator's loopback: a local dev API server, a kubectl proxy, a daemon) or at its link-local
// network (the cloud metadata service at 169.254.169.254, fd00:ec2::254), by address or by a DNS
// name that resolves there. So a server from cluster data is refused when its host is, as text
// (after URL parsing, which normalises 0x7f.1, 2130706433 and ::ffff:127.0.0.1), such an address,
// and at connection time by the lookup the socket itself uses, so that a name re-resolved between a
// check and the connection (DNS rebinding) cannot slip through.
//
// Allowed only when the caller says so, never the kubeconfig: loopback in the embedded lab, whose
// API servers all live on 127.0.0.1, or with --allow-loopback-remote-secrets (a test stack on this
// machine); any address for a server of the operator's own kubeconfig (the operator already trusts it).
import dns from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import type { LookupFunction } from 'node:net';
import { AccessError } from './types.ts';

/** Which kind of local address a host is. */
export type LocalAddressKind = 'loopback' | 'unspecified' | 'link-local' | 'metadata';

/** Local addresses an endpoint of cluster data may reach, as its caller decided: none by default. */
export type LocalAddressAllowance = 'loopback' | 'any';

const KIND_TEXT: Record<LocalAddressKind, string> = {
  loopback: 'a loopback address of the machine meshdoctor runs on',
  unspecified: 'an unspecified address (it connects to the machine meshdoctor runs on)',
  'link-local': "a link-local address (the machine's own network segment, where cloud metadata services answer)",
  metadata: 'a cloud metadata service address',
};

const RANGES: [LocalAddressKind, string, number, 'ipv4' | 'ipv6'][] = [
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['loopback', '::1', 128, 'ipv6'],
  ['loopback', '::ffff:127.0.0.0', 104, 'ipv6'],
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['unspecified', '::', 128, 'ipv6'],
  ['unspecified', '::ffff:0.0.0.0', 104, 'ipv6'],
  ['link-local', '169.254.0.0', 16, 'ipv4'],
  ['link-local', '::ffff:169.254.0.0', 112, 'ipv6'],
  ['link-local', 'fe80::', 10, 'ipv6'],
  // AWS's instance metadata service over IPv6 (a unique local address, not link-local).
  ['metadata', 'fd00:ec2::254', 128, 'ipv6'],
];

const BLOCKS = new Map<LocalAddressKind, BlockList>();
for (const [kind, network, prefix, family] of RANGES) {
  let block = BLOCKS.get(kind);
  if (!block) BLOCKS.set(kind, (block = new BlockList()));
  block.addSubnet(network, prefix, family);
}

/**
 * The kind of local address `host` is: an IP address (IPv4, IPv6 with or without brackets, IPv4-mapped
 * IPv6) in one of the ranges above, or the name `localhost` (and `*.localhost`, RFC 6761 s6.3, with
 * or without the root's trailing dot). undefined for anything else, including other names: those
 * are judged by the lookup guard when they are resolved.
 */
export function localAddressKind(host: string): LocalAddressKind | undefined {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  const name = bare.replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return 'loopback';
  const family = isIP(bare);
  if (family === 0) return undefined;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const [kind, block] of BLOCKS) if (block.check(bare, type)) return kind;
  return undefined;
}

/**
 * Why meshdoctor will not connect to `server` with credentials from cluster data, judged on its text;
 * undefined when it may (not local, or local and allowed).
 */
export function localServerRefusal(server: string, allowed?: LocalAddressAllowance): string | undefined {
  let host: string;
  try {
    host = new URL(server).hostname;
  } catch {
    return undefined;
  }
  const kind = localAddressKind(host);
  if (!kind || allowed === 'any' || (allowed === 'loopback' && kind === 'loopback')) return undefined;
  return refusalText(server, kind, host.replace(/^\[|\]$/g, ''));
}

/** A connection refused by this rule: the server was not contacted with the credentials. */
export class LocalAddressRefused extends AccessError {
  /** Why, without the leading "not probed: " of the message. */
  readonly refusal: string;
  constructor(cluster: string, refusal: string) {
    super('unreachable', cluster, `not probed: ${refusal}`);
    this.name = 'LocalAddressRefused';
    this.refusal = refusal;
  }
}

/**
 * A `lookup` for the connections of one endpoint from cluster data: resolves as Node would (the
 * system resolver, dns.lookup) and fails the connection with LocalAddressRefused when any address
 * of the answer is local and not allowed. It is the lookup the socket connects with, so what was
 * judged is what is connected to.
 */
export function localAddressGuard(cluster: string, server: string, allowed?: LocalAddressAllowance): LookupFunction {
  return (hostname: string, options: LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, options.all ? [] : '');
      for (const { address } of addresses) {
        const kind = localAddressKind(address);
        if (kind && !(allowed === 'loopback' && kind === 'loopback')) {
          return callback(new LocalAddressRefused(cluster, refusalText(server, kind, address, hostname)), options.all ? [] : '');
        }
      }
      if (options.all) return callback(null, addresses);
      if (addresses.length === 0) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '');
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

function refusalText(server: string, kind: LocalAddressKind, address: string, resolvedFrom?: string): string {
  const where = resolvedFrom ? `its server ${server} resolves to ${address}` : `its server ${server} is ${address}`;
  const remedy =
    kind === 'loopback'
      ? 'if this API server is yours, add a kubeconfig context for that URL (or, for a test stack on this machine, pass --allow-loopback-remote-secrets)'
      : 'if this API server is yours, add a kubeconfig context for that URL';
  return `${where}, ${KIND_TEXT[kind]}: meshdoctor does not send a Secret's credentials there; ${remedy}`;
}
