/** The body was larger than the caller accepts. */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';

  constructor(readonly limit: number) {
    super(`Response body exceeds ${limit} bytes`);
  }
}

/**
 * Reads a response body as UTF-8, failing as soon as it passes `maxBytes`, so a
 * runaway upstream costs us at most that much memory, and as soon as `signal`
 * aborts. fetch is meant to error the body stream on abort, but under load we saw
 * Node 20's fetch leave a stalled read pending forever (bench/soak.ts), so the
 * signal is enforced here as well.
 */
export async function readBody(
  response: Response,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new BodyTooLargeError(maxBytes);
  }
  if (response.body === null) return '';

  const reader = response.body.getReader();
  const onAbort = () => void reader.cancel(signal?.reason).catch(() => {});
  signal?.throwIfAborted();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await readAll(reader, maxBytes, signal);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

async function readAll(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  maxBytes: number,
  signal: AbortSignal | undefined,
): Promise<string> {
  const decoder = new TextDecoder();
  let size = 0;
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    // A cancelled reader reports `done`: that is an abort, not the end of the body.
    signal?.throwIfAborted();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new BodyTooLargeError(maxBytes);
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}
