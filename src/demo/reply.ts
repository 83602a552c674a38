/** What a demo service answers to a GET: a status and a JSON body. */
export type DemoReply = { status: number; body: unknown };

/** A demo route's answer for a path it does not serve. */
export function notFound(url: URL): DemoReply {
  return { status: 404, body: { error: `no route for ${url.pathname}` } };
}
