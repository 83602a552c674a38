import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

/**
 * PEM material for TLS to one upstream: a private CA to trust instead of
 * Node's public ones, and a client certificate with its key (mutual TLS).
 * Handed to undici's `connect` options (pooled-fetch.ts).
 */
export type UpstreamTls = { ca?: string; cert?: string; key?: string };

/** Which file of an upstream's TLS material a problem is about. */
export type UpstreamTlsFile = 'CA_FILE' | 'CERT_FILE' | 'KEY_FILE';

/** The problem with one file, so that the configuration names its variable. */
export class UpstreamTlsError extends Error {
  override name = 'UpstreamTlsError';
  constructor(
    readonly file: UpstreamTlsFile,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads and checks the files at startup, so that a wrong path, a file that is
 * not PEM or a key that does not match its certificate stops the process
 * rather than failing every call later. `undefined` when no file is given.
 */
export function readUpstreamTls(files: {
  [F in UpstreamTlsFile]?: string | undefined;
}): UpstreamTls | undefined {
  const { CA_FILE: caFile, CERT_FILE: certFile, KEY_FILE: keyFile } = files;
  if (caFile === undefined && certFile === undefined && keyFile === undefined) return undefined;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    const missing = certFile === undefined ? 'CERT_FILE' : 'KEY_FILE';
    throw new UpstreamTlsError(missing, 'a client certificate needs both CERT_FILE and KEY_FILE');
  }
  const tls: UpstreamTls = {};
  if (caFile !== undefined) {
    tls.ca = read('CA_FILE', caFile);
    attempt('CA_FILE', () => createSecureContext({ ca: tls.ca }));
  }
  if (certFile !== undefined && keyFile !== undefined) {
    tls.cert = read('CERT_FILE', certFile);
    tls.key = read('KEY_FILE', keyFile);
    attempt('KEY_FILE', () => createSecureContext({ cert: tls.cert, key: tls.key }));
  }
  return tls;
}

// Private helpers.

function read(file: UpstreamTlsFile, path: string): string {
  return attempt(file, () => readFileSync(path, 'utf8'));
}

function attempt<T>(file: UpstreamTlsFile, action: () => T): T {
  try {
    return action();
  } catch (error) {
    throw new UpstreamTlsError(file, error instanceof Error ? error.message : String(error));
  }
}
