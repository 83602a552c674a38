import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';

// The local cluster's child processes: started with their output prefixed by
// name, waited on until they serve, and stopped with a bounded wait.

/** A started child process; `exited` settles with its exit code (or signal name). */
export type Running = {
  name: string;
  child: ChildProcess;
  exited: Promise<number | string>;
  /** Its last lines of output, for the message when it fails to start. */
  tail(): string;
  /** Whether its output is already on the terminal. */
  echo: boolean;
};

/**
 * Options for `run`. `echo` (default true) prints the child's lines as
 * `[name] line`; `install` is how to get a missing command.
 */
export type RunOptions = {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  echo?: boolean;
  install?: string;
};

const TAIL_LINES = 20;

/**
 * Starts `command`. The child gets its own process group, so a Ctrl-C in the
 * terminal reaches only the cluster script, which then stops everything in order.
 */
export function run(
  name: string,
  command: string,
  args: readonly string[],
  { env, cwd, echo = true, install }: RunOptions = {},
): Running {
  const child = spawn(command, args, {
    env,
    cwd,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
      if (echo && line.trim() !== '') console.log(`[${name}] ${line}`);
    });
  }
  const exited = new Promise<number | string>((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new Error(`${command} is not installed${install ? ` (${install})` : ''}`)
          : error,
      ),
    );
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  // Settled by whoever stops the child; a spawn error is reported by `waitUntil`.
  exited.catch(() => {});
  return { name, child, exited, tail: () => lines.join('\n'), echo };
}

/**
 * Resolves once `ready()` is true, polled every 100 ms; rejects with the child's
 * last output if it exits first or `timeoutMs` passes.
 */
export async function waitUntil(
  running: Running,
  ready: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  let ended: string | undefined;
  running.exited.then(
    (code) => (ended = `exited (${code})`),
    (error: Error) => (ended = error.message),
  );
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (ended !== undefined) {
      throw new Error(`${running.name} stopped before it was ready: ${ended}${lastWords(running)}`);
    }
    if (await ready().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${running.name} was not ready within ${timeoutMs} ms${lastWords(running)}`);
}

/** The child's last output for an error message, unless the terminal shows it already. */
function lastWords(running: Running): string {
  return running.echo || running.tail() === '' ? '' : `\n${running.tail()}`;
}

/** True when `url` answers 200. */
export async function answers200(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await response.body?.cancel();
  return response.status === 200;
}

/** True when a Redis server on `port` answers PING. */
export async function redisAnswersPing(port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    socket.write('PING\r\n');
    const [data] = (await once(socket, 'data')) as [Buffer];
    return data.toString().startsWith('+PONG');
  } finally {
    socket.destroy();
  }
}

/**
 * Sends `signal` and waits up to `timeoutMs` for the exit, then SIGKILLs: a stuck
 * child never keeps the cluster from stopping.
 */
export async function stop(
  running: Running,
  signal: NodeJS.Signals = 'SIGTERM',
  timeoutMs = 5000,
): Promise<void> {
  if (running.child.exitCode !== null || running.child.signalCode !== null) return;
  running.child.kill(signal);
  const timer = setTimeout(() => running.child.kill('SIGKILL'), timeoutMs);
  await running.exited.catch(() => {});
  clearTimeout(timer);
}

/** A loopback port that was free a moment ago (the kernel's choice). */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
