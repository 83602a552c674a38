// Whole servers for the purge and forwarded-header tests: the one helper
// (built-server.ts), under the names those tests use, and `eventually`.
export { useBuiltServers, type RunningServer as BuiltReplica } from './built-server.js';

/** Asks `check` again (every 20 ms, at most `tries` times) until it holds; for fire-and-forget effects. */
export async function eventually(check: () => Promise<boolean>, tries = 250): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the condition never held: ${check.toString()}`);
}
