import type { Plugin } from 'graphql-yoga';
import { errorResponse } from '../errors/vocabulary.js';

/** Options of `useRequestSizeLimit`. */
export type RequestSizeLimitOptions = {
  /** Largest request body accepted, in bytes. */
  maxBytes: number;
};

/**
 * Refuses oversized request bodies before yoga reads them: 413 when the declared
 * `Content-Length` is over `maxBytes`, 411 when a body comes without one (a
 * streamed body could otherwise be of any size), 400 when it is not one number.
 * GET requests carry no body. The only body limit: Node's HTTP parser reads a
 * body to its declared length and no further, so yoga's own counting stream is
 * switched off (app.ts).
 */
export function useRequestSizeLimit({ maxBytes }: RequestSizeLimitOptions): Plugin {
  return {
    onRequest({ request, endResponse }) {
      if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') {
        return;
      }
      const declared = request.headers.get('content-length');
      const reject = (status: number, message: string) =>
        endResponse(errorResponse('BAD_REQUEST', { status, message }));
      if (declared === null) {
        if (request.body !== null) reject(411, 'Send the request with a Content-Length header.');
        return;
      }
      if (!/^\d+$/.test(declared)) {
        reject(400, 'The Content-Length header is not a number of bytes.');
        return;
      }
      if (Number(declared) > maxBytes) {
        reject(413, `The request body is over the ${maxBytes}-byte limit.`);
      }
    },
  };
}
