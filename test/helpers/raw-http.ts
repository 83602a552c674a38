import { connect } from 'node:net';

/** An answer as read off the socket. */
export type RawAnswer = { status: number; head: string; body: string };

/**
 * Sends `request` byte for byte on a new loopback connection (`\n` becomes
 * `\r\n` in the head) and reads one answer: for what `fetch` would normalise or
 * refuse to send (`//graphql`, `/./graphql`, absolute-form targets, repeated
 * headers, a malformed Host).
 */
export function rawRequest(port: number, head: string, body = ''): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const answer = parse(Buffer.concat(chunks).toString('utf8'));
      if (answer) {
        socket.destroy();
        resolve(answer);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const answer = parse(Buffer.concat(chunks).toString('utf8'));
      if (answer) resolve(answer);
      else reject(new Error(`connection closed without a whole answer: ${chunks.join('')}`));
    });
    const lines = head.trim().split('\n').join('\r\n');
    const length = body === '' ? '' : `\r\nContent-Length: ${Buffer.byteLength(body)}`;
    socket.write(`${lines}${length}\r\nConnection: close\r\n\r\n${body}`);
  });
}

// Private helpers.

/** One answer, when all of it has arrived (by Content-Length, or chunked to its end). */
function parse(text: string): RawAnswer | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const head = text.slice(0, end);
  const rest = text.slice(end + 4);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  const length = /\r\ncontent-length: (\d+)/i.exec(head)?.[1];
  if (length !== undefined) {
    if (Buffer.byteLength(rest) < Number(length)) return undefined;
    return { status, head, body: rest };
  }
  if (/\r\ntransfer-encoding: chunked/i.test(head)) {
    if (!rest.endsWith('0\r\n\r\n')) return undefined;
    let body = '';
    for (let at = 0; ;) {
      const lineEnd = rest.indexOf('\r\n', at);
      const size = parseInt(rest.slice(at, lineEnd), 16);
      if (size === 0) break;
      body += rest.slice(lineEnd + 2, lineEnd + 2 + size);
      at = lineEnd + 2 + size + 2;
    }
    return { status, head, body };
  }
  return status === 304 || status === 204 ? { status, head, body: '' } : undefined;
}
