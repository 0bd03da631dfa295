// Every relative link in README.md and docs/*.md leads somewhere in the repo:
// the file exists inside the clone (a fresh clone has nothing beside it), and
// a #fragment names a heading of the page it points to, as GitHub slugs it.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** The page without fenced code blocks: `# comment` lines and `[x](y)` in code are not headings or links. */
function withoutFences(md: string): string {
  return md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

/** GitHub's heading anchors: lower case, markup and punctuation dropped, spaces to hyphens, repeats numbered. */
function headingAnchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, text] of withoutFences(md).matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const slug = text!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** Link targets outside code: inline `[text](target)` and reference definitions `[id]: target`. */
function linkTargets(md: string): string[] {
  const prose = withoutFences(md).replace(/`[^`\n]*`/g, '');
  const inline = [...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  const defs = [...prose.matchAll(/^[ \t]*\[[^\]]+\]:[ \t]*<?(\S+?)>?(?:[ \t]|$)/gm)].map((m) => m[1]!);
  return [...inline, ...defs];
}

/** Why a relative link from `page` is broken, or null when it leads somewhere. */
function brokenLink(page: string, target: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return null; // https:, mailto: ... are not files in the repo
  const [path, fragment] = target.split('#', 2) as [string, string | undefined];
  const file = path === '' ? join(ROOT, page) : resolve(ROOT, dirname(page), decodeURIComponent(path));
  const rel = relative(ROOT, file);
  if (rel.startsWith(`..${sep}`) || rel === '..') return `${target}: leaves the repo (${rel})`;
  if (!existsSync(file)) return `${target}: no such file (${rel})`;
  if (fragment !== undefined && statSync(file).isFile() && file.endsWith('.md')) {
    if (!headingAnchors(readFileSync(file, 'utf8')).has(fragment.toLowerCase())) return `${target}: no heading #${fragment} in ${rel}`;
  }
  return null;
}

describe('links in README.md and docs/', () => {
  it('finds the pages and their links (the check below is not vacuous)', () => {
    expect(PAGES).toEqual(expect.arrayContaining(['README.md', 'docs/architecture.md', 'docs/benchmarks.md', 'docs/testing.md']));
    const links = PAGES.flatMap((p) => linkTargets(readFileSync(join(ROOT, p), 'utf8')));
    expect(links.length).toBeGreaterThan(30);
  });

  it.each(PAGES)('every relative link in %s points to an existing file and heading', (page) => {
    const md = readFileSync(join(ROOT, page), 'utf8');
    const broken = linkTargets(md).map((t) => brokenLink(page, t)).filter((b) => b !== null);
    expect(broken).toEqual([]);
  });

  it('slugs headings and finds links the way GitHub renders them', () => {
    const md = [
      '# Where case 1\'s time goes',
      '## 2026-11-22: one `npm run bench` at 2bb40ec',
      '## Notes',
      '## Notes',
      '```sh',
      '# not a heading; [not](a-link.md)',
      '```',
      'See [the notes](#notes-1), `[code](ignored.md)` and [a page](docs/x.md#y "title").',
      '[ref]: ../up.md',
    ].join('\n');
    expect([...headingAnchors(md)]).toEqual(['where-case-1s-time-goes', '2026-11-22-one-npm-run-bench-at-2bb40ec', 'notes', 'notes-1']);
    expect(linkTargets(md)).toEqual(['#notes-1', 'docs/x.md#y', '../up.md']);
    expect(brokenLink('README.md', '../shared/data/x.csv.gz')).toMatch(/leaves the repo/);
    expect(brokenLink('README.md', 'docs/nope.md')).toMatch(/no such file/);
    expect(brokenLink('README.md', '#no-such-heading')).toMatch(/no heading/);
    expect(brokenLink('docs/testing.md', '../README.md#quick-start')).toBeNull();
  });
});
