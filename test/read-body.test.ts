import { describe, expect, it } from 'vitest';
import { BodyTooLargeError, readBody } from '../src/outbound/read-body.js';

/** A body that sends `first` and then never another byte, nor an error. */
function stalledResponse(first: string): Response {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(first));
    },
  });
  return new Response(stream, { headers: { 'content-type': 'application/json' } });
}

describe('readBody', () => {
  it('reads a whole body as UTF-8', async () => {
    expect(await readBody(new Response('{"title":"Ærø"}'), 1024)).toBe('{"title":"Ærø"}');
  });

  it('stops a stalled body when the signal aborts, even if the stream itself never errors', async () => {
    // Seen with Node 20's fetch under load (bench/soak.ts): the abort did not
    // reach a pending read, and the page waited forever.
    const controller = new AbortController();
    const reading = readBody(stalledResponse('{"items":['), 1024, controller.signal);
    setTimeout(() => controller.abort(new DOMException('deadline', 'TimeoutError')), 20);
    await expect(reading).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('refuses to start on an already aborted signal', async () => {
    const reading = readBody(stalledResponse('x'), 1024, AbortSignal.abort());
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('fails as soon as the body passes the limit', async () => {
    await expect(readBody(new Response('x'.repeat(2048)), 1024)).rejects.toBeInstanceOf(
      BodyTooLargeError,
    );
  });
});
