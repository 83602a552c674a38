import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The page cache's bound is honest: it counts every byte a page keeps, so the
// heap it holds stays near PAGE_CACHE_MAX_BYTES even when clients send large
// headers (issue 22 D: 2 MiB "full" while the heap grew by 50 MB).

const run = promisify(execFile);

describe('the page store bound', () => {
  it('keeps heap growth after GC within a small factor of its bound under header-heavy pages', async () => {
    const maxBytes = 2 * 1024 * 1024;
    // A process of its own: `--expose-gc`, and a heap no other test touches.
    const { stdout } = await run(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', 'test/helpers/page-store-heap.ts'],
      { env: { ...process.env, MAX_BYTES: String(maxBytes), PAGES: '5500' } },
    );
    const { growth, bytes } = JSON.parse(stdout) as { growth: number; bytes: number };
    expect(bytes).toBeLessThanOrEqual(maxBytes);
    expect(growth).toBeLessThan(3 * maxBytes);
  }, 60_000);
});
