import { spawn } from 'node:child_process';

// The last resort of a shutdown: a process that was told to stop must stop,
// even when `process.exit` itself does not return. Seen after a load run: three
// gateways sent SIGTERM, no longer listening, stayed alive for more than 35
// minutes with the main thread waiting on a futex, outside the event loop.
// It did not reproduce on demand; the likely cause: `process.exit` runs exit
// handlers and then joins threads (the libuv thread pool, V8's platform
// threads), and a thread stuck in a blocking call (a `getaddrinfo` behind an
// unanswering resolver is the known case: nodejs/node-v0.x-archive#25349;
// upstream URLs with host names resolve through it) holds that join, while no
// timer of the process can fire any more. Only another process can still act:
// SIGKILL cannot be caught, blocked or waited out.

/** Options of `armExitWatchdog`. */
export type ExitWatchdogOptions = {
  /** After this long, in ms, the process is killed (SIGKILL) if it is still alive. */
  afterMs: number;
};

/**
 * Starts a small watchdog process (this same Node binary, no shell: images
 * without one work too) that SIGKILLs this process after `afterMs`, unless this
 * process is gone by then: it watches a pipe from us, which the kernel closes
 * when we exit, however we exit, so it never kills a reused process id. It
 * holds nothing of ours open: this process exits without waiting for it.
 */
export function armExitWatchdog({ afterMs }: ExitWatchdogOptions): void {
  const script = `
    const timer = setTimeout(() => {
      try { process.kill(${process.pid}, 'SIGKILL'); } catch {}
      process.exit(0);
    }, ${Math.max(0, Math.round(afterMs))});
    process.stdin.on('end', () => { clearTimeout(timer); process.exit(0); });
    process.stdin.on('error', () => { clearTimeout(timer); process.exit(0); });
    process.stdin.resume();
  `;
  const child = spawn(process.execPath, ['-e', script], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
    // Nothing inherited: no NODE_OPTIONS (a loader, an inspector port) of the gateway's own start.
    env: {},
  });
  child.on('error', () => {}); // Cannot start one: the in-process timer still runs.
  child.unref();
  // Type seam: a child's stdin pipe is a net.Socket, which can be unref'd.
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
}
