import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterEach } from 'vitest';

/** A child process and all it has written so far, stdout and stderr together. */
export type Started = { child: ChildProcess; output: () => string };

/**
 * For a test file: a `start` that runs `script` (src/main.ts unless given) from
 * source through tsx, with PATH and `env` as its only environment; every child
 * is killed (SIGKILL) after each test.
 */
export function useProcesses(): (
  env: Record<string, string>,
  script?: string,
  args?: string[],
) => Started {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });
  return (env, script = 'src/main.ts', args = []) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    return { child, output: () => output };
  };
}

/** A loopback port free a moment ago, for a child process to listen on. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}
