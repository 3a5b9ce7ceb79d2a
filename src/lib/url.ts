/** URL rules of the protocol, without loading any HTTP module (start-up matters for the agent). */

/**
 * Whether a URL's hostname (IPv6 in brackets or not) is this machine: localhost, ::1 or
 * 127.0.0.0/8.
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * HTTPS everywhere; plain HTTP only to loopback (docs/protocol.md "Client behaviour").
 * Returns one line saying why `url` is not acceptable, or null when it is. Never throws.
 */
export function transportProblem(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `"${url}" is not a URL`;
  }
  if (u.protocol === 'https:') return null;
  if (u.protocol === 'http:' && isLoopbackHost(u.hostname)) return null;
  if (u.protocol === 'http:')
    return `plain HTTP is only allowed to loopback addresses; use https:// for ${u.host}`;
  return `unsupported scheme ${u.protocol} in ${url}`;
}
