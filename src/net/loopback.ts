import { isIP } from 'node:net';

/**
 * True for a host that can only mean this machine: `localhost`, an IPv4 address in 127.0.0.0/8, `::1` (with or
 * without brackets) and the IPv4-mapped form of 127.0.0.0/8. Any other name may resolve anywhere, so it is not.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) !== 6) return false;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const mapped = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  return mapped !== null && mapped[1]!.startsWith('127.');
}

/** The host of a `host:port` or `[v6]:port` address (the port is optional). */
export function hostOfAddress(address: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (v6) return v6[1]!;
  return address.replace(/:\d+$/, '');
}
