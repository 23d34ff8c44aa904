import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { AppError } from '../errors.js';

/**
 * Where webhooks may go. A webhook URL is chosen by an API caller but requested by our servers,
 * so without a rule it reaches what they reach (cloud metadata at 169.254.169.254, the database,
 * admin ports on loopback): server-side request forgery. Addresses are checked when a webhook is
 * saved and again at every delivery, on the address actually connected to (DNS can change).
 */
export interface WebhookUrlPolicy {
  /** WEBHOOK_ALLOW_PRIVATE_NETWORKS: private, loopback and link-local allowed, and plain http. */
  allowPrivateNetworks: boolean;
  /** The embedded default (`npm start`): loopback allowed, over http too. */
  allowLoopback?: boolean;
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

const internal = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const)
  internal.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const)
  internal.addSubnet(net, bits, 'ipv6');

/** An IPv4 address written as IPv6 (`::ffff:10.0.0.1`) is judged as the IPv4 address. */
function unmapped(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return { address: mapped[1], family: 'ipv4' };
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

export type AddressKind = 'public' | 'loopback' | 'private';

export function classifyAddress(raw: string): AddressKind {
  const { address, family } = unmapped(raw);
  if (loopback.check(address, family)) return 'loopback';
  if (internal.check(address, family)) return 'private';
  return 'public';
}

function allowed(kind: AddressKind, policy: WebhookUrlPolicy): boolean {
  return kind === 'public' || policy.allowPrivateNetworks || (kind === 'loopback' && !!policy.allowLoopback);
}

export class WebhookUrlRefused extends AppError {
  constructor(message: string) {
    super('webhook_url_refused', message);
  }
}

/** Syntax and scheme: http(s) only, no credentials in the URL. */
export function parseWebhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookUrlRefused('The webhook URL is not a valid URL.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new WebhookUrlRefused('The webhook URL must use https.');
  if (url.username || url.password)
    throw new WebhookUrlRefused('The webhook URL must not carry a user name or password.');
  return url;
}

const resolveAll = (host: string): Promise<LookupAddress[]> =>
  new Promise((resolve, reject) =>
    dnsLookup(host, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
  );

/**
 * Checks a URL against the policy: every address its host resolves to must be allowed (a name
 * with one public and one private address is refused), and https is required unless private
 * networks are allowed (or the host is loopback where loopback is allowed).
 */
export async function checkWebhookUrl(raw: string, policy: WebhookUrlPolicy): Promise<URL> {
  const url = parseWebhookUrl(raw);
  // Everything is allowed: nothing to resolve (a name that resolves later is fine).
  if (policy.allowPrivateNetworks) return url;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await resolveAll(host)).map((a) => a.address);
  } catch {
    throw new WebhookUrlRefused(`The webhook host "${host}" does not resolve.`);
  }
  const kinds = addresses.map(classifyAddress);
  const refused = kinds.find((k) => !allowed(k, policy));
  if (refused)
    throw new WebhookUrlRefused(
      `The webhook URL resolves to a ${refused} address; set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow private, loopback and link-local addresses.`,
    );
  const localOnly = kinds.every((k) => k === 'loopback') && !!policy.allowLoopback;
  if (url.protocol !== 'https:' && !policy.allowPrivateNetworks && !localOnly)
    throw new WebhookUrlRefused(
      'The webhook URL must use https (http only with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true).',
    );
  return url;
}

/**
 * A `lookup` for http.request that refuses disallowed addresses: the connection goes to the
 * address that was checked, so a name re-resolving to a private address between the check and
 * the connection (DNS rebinding) gains nothing.
 */
export function guardedLookup(policy: WebhookUrlPolicy) {
  return (
    hostname: string,
    options: { all?: boolean; family?: number | string },
    callback: (
      error: NodeJS.ErrnoException | null,
      address: string | LookupAddress[],
      family?: number,
    ) => void,
  ) => {
    dnsLookup(hostname, { all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const bad = addresses.find((a) => !allowed(classifyAddress(a.address), policy));
      if (bad)
        return callback(
          new WebhookUrlRefused(
            `The webhook host now resolves to a ${classifyAddress(bad.address)} address.`,
          ),
          '',
          0,
        );
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new WebhookUrlRefused('The webhook host resolved to no address.'), '', 0);
      callback(null, first.address, first.family);
    });
  };
}
