import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

// Moving bytes between Node's request/response and the fetch API's, for a front
// step that reads the body itself and then hands the request to yoga.

/** A request's path, without its query string (Node's `req.url`). */
export function pathOf(url = '/'): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * The request's body, up to `maxBytes` (the caller checked Content-Length
 * already). Read with events rather than an async iterator: it is on the path of
 * every cached POST, and the iterator's machinery showed in its profile.
 */
export function readRequestBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let complete = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) req.destroy(new RangeError(`request body over ${maxBytes} bytes`));
      else chunks.push(chunk);
    });
    req.once('end', () => {
      complete = true;
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
    req.once('error', reject);
    req.once('close', () => {
      if (!complete) reject(new Error('the client went away before sending its whole body'));
    });
  });
}

/** The request's headers as sent (repeated headers kept), for a fetch `Request`. */
export function requestHeaders(req: IncomingMessage): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    // HTTP/1 hop-by-hop: meaningless once the request is in hand.
    if (!/^(connection|keep-alive|transfer-encoding|upgrade)$/i.test(name)) {
      headers.push([name, raw[i + 1] as string]);
    }
  }
  return headers;
}

/** Aborts when the client goes away before its response is complete. */
export function clientGone(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('the client went away'));
  });
  return controller.signal;
}

/** Writes a fetch `Response` to Node's response, streaming its body (incremental answers flush as they come). */
export async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  res.writeHead(response.status, headers);
  if (response.body === null) {
    res.end();
    return;
  }
  try {
    await pipeline(Readable.from(response.body as unknown as AsyncIterable<Uint8Array>), res);
  } catch {
    // The client went away, or the body failed half-way: nothing more can be
    // said on this response (pipeline has destroyed it).
  }
}
