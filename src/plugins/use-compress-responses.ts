import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import Negotiator from 'negotiator';
import type { Plugin } from 'graphql-yoga';

/** Options of `useCompressResponses`. */
export type CompressResponsesOptions = {
  /** Smallest body compressed, in bytes; `0` turns compression off. */
  minBytes: number;
  /** Brotli quality (0–11). Default 4: about gzip's speed, a smaller result. */
  brotliQuality?: number;
  /** gzip level (1–9). Default 6, zlib's own balance. */
  gzipLevel?: number;
};

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Bodies worth compressing: JSON answers and GraphiQL's page. Never a stream. */
const COMPRESSIBLE = /^(application\/(graphql-response\+)?json|text\/html)\b/;

/**
 * gzip or brotli, per the client's `Accept-Encoding` (q-values honoured), for
 * JSON and HTML bodies of at least `minBytes`. Compression runs on libuv's
 * thread pool, not the event loop. Multipart and event-stream answers
 * (`@defer`, `@stream`, subscriptions) are left alone: compressing them would
 * hold every part until the end. GraphiQL's page (several MB, the same each
 * time) is compressed once per encoding.
 *
 * Last in the plugin list: it copies the headers the others set.
 */
export function useCompressResponses({
  minBytes,
  brotliQuality = 4,
  gzipLevel = 6,
}: CompressResponsesOptions): Plugin {
  const pages = new Map<string, Buffer>();
  const compress = (encoding: 'br' | 'gzip', body: Buffer): Promise<Buffer> =>
    encoding === 'br'
      ? brotli(body, {
          params: {
            [constants.BROTLI_PARAM_QUALITY]: brotliQuality,
            [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
          },
        })
      : gzipAsync(body, { level: gzipLevel });

  return {
    async onResponse({ request, response, setResponse, fetchAPI }) {
      if (minBytes <= 0 || request.method === 'HEAD') return;
      const type = response.headers.get('content-type') ?? '';
      if (!COMPRESSIBLE.test(type) || response.headers.has('content-encoding')) return;
      if (response.body === null || response.status === 204 || response.status === 304) return;
      response.headers.append('vary', 'Accept-Encoding');
      const declared = Number(response.headers.get('content-length') ?? Number.NaN);
      if (declared < minBytes) return;
      const accepted = request.headers.get('accept-encoding') ?? '';
      const encoding = preferredEncoding(accepted);
      if (encoding !== 'br' && encoding !== 'gzip') return;

      const body = Buffer.from(await response.arrayBuffer());
      let compressed: Buffer;
      if (body.length < minBytes) {
        compressed = body;
      } else if (type.startsWith('text/html')) {
        const key = `${encoding}:${createHash('sha1').update(body).digest('hex')}`;
        compressed = pages.get(key) ?? (await compress(encoding, body));
        if (pages.size > 8) pages.clear();
        pages.set(key, compressed);
      } else {
        compressed = await compress(encoding, body);
      }
      const headers = new fetchAPI.Headers(response.headers);
      if (compressed !== body) headers.set('content-encoding', encoding);
      headers.set('content-length', String(compressed.length));
      setResponse(
        new fetchAPI.Response(new Uint8Array(compressed), {
          status: response.status,
          statusText: response.statusText,
          headers,
        }),
      );
    },
  };
}

// Private helpers.

/**
 * The client's preferred encoding by q-value, brotli first among equals (most
 * browsers list gzip first, yet brotli is smaller). Seam: @types/negotiator
 * predates negotiator 1's `preferred` option.
 */
function preferredEncoding(acceptEncoding: string): string | undefined {
  const negotiator = new Negotiator({
    headers: { 'accept-encoding': acceptEncoding },
  }) as unknown as {
    encoding(available: string[], options: { preferred: string[] }): string | undefined;
  };
  const order = ['br', 'gzip', 'identity'];
  return negotiator.encoding(order, { preferred: order });
}
