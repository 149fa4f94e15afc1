import net from 'node:net';
import ipaddr from 'ipaddr.js';

export interface NormalisedIp {
  address: string;
  version: 4 | 6;
}

/**
 * Validates an IP address and returns its canonical text: dotted quad for IPv4
 * (leading zeros and shorthand such as "1.2.3" refused, since they are read
 * differently by different parsers), RFC 5952 compressed lower case for IPv6, and
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) folded to IPv4. Zone ids are refused.
 */
export function normaliseIp(input: string): NormalisedIp | null {
  if (input.length > 64 || input.includes('%')) return null;
  // Node's check is strict dotted-quad (no leading zeros, no shorthand) and far
  // cheaper than ipaddr.js, which throws and catches internally on a miss.
  if (!input.includes(':')) return net.isIPv4(input) ? { address: input, version: 4 } : null;
  if (!net.isIPv6(input)) return null;
  const v6 = ipaddr.IPv6.parse(input);
  if (v6.isIPv4MappedAddress()) return { address: v6.toIPv4Address().toString(), version: 4 };
  return { address: v6.toString(), version: 6 };
}
