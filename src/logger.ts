/** The logging surface every layer receives; yoga's own logger fits it. */
export type Logger = Record<'debug' | 'info' | 'warn' | 'error', (...args: unknown[]) => void>;

/** A logger that drops everything: for tests and benchmarks that want quiet. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
