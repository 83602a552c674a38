import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';

/**
 * The client's address: the direct peer, or the address it forwarded for when
 * the peer is one of `trustedProxies` (walking `X-Forwarded-For` from the right
 * for as long as the hops are trusted). proxy-addr is what Express uses for
 * `req.ip`; anyone else's `X-Forwarded-For` is ignored, so a client cannot pick
 * the address it is counted under.
 */
export function createClientAddress(
  trustedProxies: readonly string[],
): (req: IncomingMessage) => string {
  const trust = proxyAddr.compile([...trustedProxies]);
  return (req) => proxyAddr(req, trust);
}
