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

/** An unsigned 32-bit address in dotted-quad notation. */
export function formatIpv4(address: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join('.');
}

/** The subnets of one availability zone. */
export interface AzSubnets {
  /** Where nodes and pods run: the larger range, because the VPC CNI gives every pod a VPC address. */
  readonly private: string;
  /** Where NAT gateways and internet-facing load balancers live. */
  readonly public: string;
}

/** The smallest subnet AWS allows. */
const MIN_SUBNET_PREFIX = 28;

/**
 * Splits a VPC into a private and a public subnet per AZ, the same way for every environment:
 * the first half of the VPC holds the private subnets (one equal slot per AZ, slots rounded up to a
 * power of two), the second half the public ones at a quarter of that size. Pure, so the layout is
 * reviewable in the synthesized JSON and checkable before synthesis.
 * @returns the layout, or why the VPC is too small for that many AZs.
 */
export function planSubnets(vpc: Ipv4Cidr, azCount: number): AzSubnets[] | { readonly error: string } {
  const slotBits = Math.ceil(Math.log2(Math.max(azCount, 1)));
  const privatePrefix = vpc.prefixLength + 1 + slotBits;
  const publicPrefix = privatePrefix + 2;
  if (publicPrefix > MIN_SUBNET_PREFIX) {
    const largest = MIN_SUBNET_PREFIX - 3 - slotBits;
    return { error: `is too small for ${azCount} AZs: public subnets would be /${publicPrefix}, below the AWS minimum /28 (use /${largest} or larger)` };
  }
  const half = 2 ** (32 - vpc.prefixLength - 1);
  return Array.from({ length: azCount }, (_, index) => ({
    private: `${formatIpv4(vpc.network + index * 2 ** (32 - privatePrefix))}/${privatePrefix}`,
    public: `${formatIpv4(vpc.network + half + index * 2 ** (32 - publicPrefix))}/${publicPrefix}`,
  }));
}
