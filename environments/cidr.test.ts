import { describe, expect, it } from 'vitest';
import { cidrsOverlap, parseIpv4Cidr, planSubnets, type Ipv4Cidr } from './cidr';

const parsed = (text: string): Ipv4Cidr => {
  const result = parseIpv4Cidr(text);
  if ('error' in result) throw new Error(result.error);
  return result;
};

describe('parseIpv4Cidr', () => {
  it('parses network and prefix', () => {
    expect(parseIpv4Cidr('10.120.0.0/16')).toEqual({ network: 10 * 2 ** 24 + 120 * 2 ** 16, prefixLength: 16 });
    expect(parseIpv4Cidr('0.0.0.0/0')).toEqual({ network: 0, prefixLength: 0 });
    expect(parseIpv4Cidr('255.255.255.255/32')).toEqual({ network: 2 ** 32 - 1, prefixLength: 32 });
  });

  it.each([
    ['10.0.0/16', 'must be an IPv4 CIDR'],
    ['10.0.0.0', 'must be an IPv4 CIDR'],
    [' 10.0.0.0/16', 'must be an IPv4 CIDR'],
    ['10.0.0.256/32', 'octets between 0 and 255'],
    ['10.0.0.0/33', 'prefix length between 0 and 32'],
    ['10.0.1.0/16', 'did you mean 10.0.0.0/16'],
  ])('rejects %s', (text, error) => {
    expect(parseIpv4Cidr(text)).toEqual({ error: expect.stringContaining(error) });
  });
});

describe('cidrsOverlap', () => {
  it('detects containment and separation', () => {
    expect(cidrsOverlap(parsed('10.0.0.0/16'), parsed('10.0.128.0/17'))).toBe(true);
    expect(cidrsOverlap(parsed('10.0.128.0/17'), parsed('10.0.0.0/16'))).toBe(true);
    expect(cidrsOverlap(parsed('10.0.0.0/16'), parsed('10.1.0.0/16'))).toBe(false);
    expect(cidrsOverlap(parsed('0.0.0.0/0'), parsed('192.168.0.0/24'))).toBe(true);
  });
});

describe('planSubnets', () => {
  it('puts private subnets in the first half and smaller public ones in the second', () => {
    expect(planSubnets(parsed('10.130.0.0/16'), 3)).toEqual([
      { private: '10.130.0.0/19', public: '10.130.128.0/21' },
      { private: '10.130.32.0/19', public: '10.130.136.0/21' },
      { private: '10.130.64.0/19', public: '10.130.144.0/21' },
    ]);
    expect(planSubnets(parsed('10.110.0.0/16'), 2)).toEqual([
      { private: '10.110.0.0/18', public: '10.110.128.0/20' },
      { private: '10.110.64.0/18', public: '10.110.144.0/20' },
    ]);
  });

  it('refuses a VPC too small for subnets of at least /28', () => {
    expect(planSubnets(parsed('10.0.0.0/23'), 3)).toHaveLength(3);
    expect(planSubnets(parsed('10.0.0.0/24'), 3)).toEqual({ error: expect.stringContaining('use /23 or larger') });
  });
});
