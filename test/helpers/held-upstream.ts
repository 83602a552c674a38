import { POPULAR } from './fixtures.js';
import { sendJson, type Handler } from './upstream.js';

/**
 * A recommendations service that answers only when the test lets it (`release()`),
 * so a deferred part of a page is still pending while the first part is read.
 * Answers with `answer`; by default the popular picks.
 */
export function heldRecommendations(
  answer: Handler = (_req, res) => sendJson(res, { items: POPULAR }),
): { handler: Handler; release: () => void } {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const handler: Handler = async (req, res, url) => {
    await released;
    await answer(req, res, url);
  };
  return { handler, release };
}
