/** An IPv4 network in CIDR notation, parsed. */
export interface Ipv4Cidr {
  /** The network address as an unsigned 32-bit integer. */
  readonly network: number;
  /** The prefix length, 0 to 32. */
  readonly prefixLength: number;
}

const CIDR_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/**
 * Parses `a.b.c.d/n`, or explains why the text is not a usable network:
 * octets above 255, a prefix above 32 and host bits set (10.0.0.1/16) are all rejected,
 * because AWS and Kubernetes would either refuse them or silently mean something else.
 */
export function parseIpv4Cidr(text: string): Ipv4Cidr | { readonly error: string } {
  const match = CIDR_PATTERN.exec(text);
  if (!match) return { error: 'must be an IPv4 CIDR such as 10.20.0.0/16' };
  const octets = match.slice(1, 5).map(Number);
  if (octets.some((octet) => octet > 255)) return { error: 'must have octets between 0 and 255' };
  const prefixLength = Number(match[5]);
  if (prefixLength > 32) return { error: 'must have a prefix length between 0 and 32' };
  const address = octets.reduce((acc, octet) => acc * 256 + octet, 0);
  const size = 2 ** (32 - prefixLength);
  const network = address - (address % size);
  if (network !== address) {
    return { error: `must not set host bits (did you mean ${formatIpv4(network)}/${prefixLength}?)` };
  }
  return { network, prefixLength };
}

/** Whether two networks share at least one address. */
export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  const shorter = Math.min(a.prefixLength, b.prefixLength);
  const size = 2 ** (32 - shorter);
  return Math.floor(a.network / size) === Math.floor(b.network / size);
}

function formatIpv4(address: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join('.');
}
