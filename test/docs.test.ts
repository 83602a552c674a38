import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../src/config.js';

// The README is a landing page and docs/ holds one page per reader. These
// checks keep that true as branches fold their notes in: a README that grows
// back into a manual, a link or #anchor that a renamed heading broke, a
// variable missing from the reference, or a page nobody can reach.

const ROOT = resolve(import.meta.dirname, '..');
const README = join(ROOT, 'README.md');
const DOCS = join(ROOT, 'docs');
const docPages = readdirSync(DOCS)
  .filter((name) => name.endsWith('.md'))
  .map((name) => join(DOCS, name));
const pages = [README, ...docPages];

describe('the documentation', () => {
  it('keeps the README under 15 KB, a page a newcomer reads in minutes', () => {
    expect(statSync(README).size).toBeLessThanOrEqual(15 * 1024);
  });

  it('has no relative link or #anchor in the README or docs/ that leads nowhere', () => {
    const broken: string[] = [];
    for (const page of pages) {
      for (const target of relativeLinks(readFileSync(page, 'utf8'))) {
        const [path = '', anchor] = target.split('#');
        const file = path === '' ? page : resolve(dirname(page), decodeURIComponent(path));
        const where = `${relative(ROOT, page)} → ${target}`;
        if (!existsSync(file)) broken.push(`${where} (no such file)`);
        else if (anchor !== undefined && file.endsWith('.md')) {
          if (!anchors(readFileSync(file, 'utf8')).has(anchor))
            broken.push(`${where} (no heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('describes every environment variable of src/config.ts in docs/configuration.md', () => {
    const reference = readFileSync(join(DOCS, 'configuration.md'), 'utf8');
    const headings = new Set(
      [...reference.matchAll(/^### (.+)$/gm)].flatMap((match) => (match[1] ?? '').split(', ')),
    );
    expect(CONFIG_VARIABLES.filter((name) => !headings.has(name))).toEqual([]);
  });

  it('links every page of docs/ from the README', () => {
    const linked = new Set(
      relativeLinks(readFileSync(README, 'utf8')).map((target) =>
        resolve(ROOT, target.split('#')[0] ?? ''),
      ),
    );
    expect(
      docPages.filter((page) => !linked.has(page)).map((page) => relative(ROOT, page)),
    ).toEqual([]);
  });
});

// Private helpers.

/** Markdown with fenced code blocks and inline code removed: links and headings there are text. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** Targets of `[text](target)` and `![alt](target)` that stay in the repository. */
function relativeLinks(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((match) => match[1] ?? '')
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** The anchors GitHub gives a page's headings (github-slugger: duplicates get -1, -2, …). */
function anchors(markdown: string): Set<string> {
  const code = /^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm;
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const match of markdown.replace(code, '').matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const text = (match[1] ?? '')
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link's text
      .replace(/<[^>]+>/g, ''); // inline HTML
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}
