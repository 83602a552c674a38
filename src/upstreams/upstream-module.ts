import type { DemoReply } from '../demo/reply.js';
import type { UpstreamClient } from '../outbound/upstream-client.js';
import type { Logger } from '../logger.js';
import type { UpstreamPolicy } from './policy.js';

/**
 * What each `src/upstreams/<service>/` folder exports, and the registry lists:
 * everything the gateway, its configuration, the demo and the tests need to
 * know about one upstream service.
 */
export type UpstreamModule<Client> = {
  /** How the service is called unless `<SERVICE>_…` variables say otherwise. */
  policy: UpstreamPolicy;
  /** The service's typed client over the shared HTTP client: nothing unvalidated leaves it. */
  createClient(http: UpstreamClient, deps: { logger: Logger }): Client;
  /** What the embedded demo service answers to a GET (also the benchmark's upstreams). */
  demoRoute(url: URL): DemoReply;
};
