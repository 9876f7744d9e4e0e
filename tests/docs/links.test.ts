// The repository's documents hold together: every relative link in README.md and docs/ leads to a file (and, with
// `#anchor`, to a heading of it), and every `docs/<file>.md "Section"` (or `README "Section"`) the source
// cites names a real section.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO } from '../data/paths.js';

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2, ... */
export function headingAnchors(markdown: string): { anchors: Set<string>; titles: Set<string> } {
  const anchors = new Set<string>();
  const titles = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    titles.add(m[1]);
    const base = m[1].toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return { anchors, titles };
}

function markdownFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...markdownFiles(p));
    else if (name.endsWith('.md')) out.push(p);
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'build' || name === 'fixtures') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|js|mjs|cjs|cc|h|py|html|css|sh)$/.test(name)) out.push(p);
  }
  return out;
}

/** Problems with the relative links of one markdown file, one line each: `file: link (why)`. */
export function brokenLinks(file: string, root: string): string[] {
  const text = readFileSync(file, 'utf8');
  const problems: string[] = [];
  // Code spans and fenced blocks are not links.
  const prose = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  for (const m of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const link = m[1];
    if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // http:, https:, mailto:
    const [path, anchor] = link.split('#', 2) as [string, string | undefined];
    const target = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
    const where = `${relative(root, file)}: ${link}`;
    if (!existsSync(target)) {
      problems.push(`${where} (no such file)`);
      continue;
    }
    if (anchor !== undefined && target.endsWith('.md')) {
      if (!headingAnchors(readFileSync(target, 'utf8')).anchors.has(anchor)) problems.push(`${where} (no heading #${anchor})`);
    }
  }
  return problems;
}

/** Problems with the `docs/<file>.md` citations (and their quoted section names) of one source file. */
export function brokenCitations(file: string, root: string): string[] {
  // A citation may run over a comment's line break: join the lines of comments first.
  const text = readFileSync(file, 'utf8').replace(/\n\s*(?:\/\/|\*|#)\s*/g, ' ');
  const problems: string[] = [];
  for (const m of text.matchAll(/\bdocs\/([\w./-]+\.md)((?:,? "[^"\n]+")*)/g)) {
    const doc = join(root, 'docs', m[1]);
    const where = `${relative(root, file)}: docs/${m[1]}`;
    if (!existsSync(doc)) {
      problems.push(`${where} (no such document)`);
      continue;
    }
    const { titles } = headingAnchors(readFileSync(doc, 'utf8'));
    for (const s of m[2].matchAll(/"([^"]+)"/g)) {
      if (!titles.has(s[1])) problems.push(`${where} "${s[1]}" (no such section)`);
    }
  }
  const readme = join(root, 'README.md');
  for (const m of text.matchAll(/\bREADME(?:\.md)? "([^"\n]+)"/g)) {
    if (!existsSync(readme) || !headingAnchors(readFileSync(readme, 'utf8')).titles.has(m[1])) {
      problems.push(`${relative(root, file)}: README "${m[1]}" (no such section)`);
    }
  }
  for (const m of text.matchAll(/\b(PAPER|DESIGN|STYLE)\.md\b/g)) {
    problems.push(`${relative(root, file)}: ${m[0]} (not a document of the repository)`);
  }
  return problems;
}

test('every relative link of README.md and docs/ resolves to a file and heading', () => {
  const files = [join(REPO, 'README.md'), ...markdownFiles(join(REPO, 'docs'))];
  assert.ok(files.length >= 4, `expected README.md and the docs/ pages, found ${files.length} files`);
  assert.deepEqual(files.flatMap((f) => brokenLinks(f, REPO)), []);
});

test('every docs/ document and section the source cites exists', () => {
  const dirs = ['src', 'native', 'tests', 'scripts', 'bench', 'web', 'cjs', 'bin'];
  const files = dirs.flatMap((d) => sourceFiles(join(REPO, d))).filter((f) => !f.endsWith(join('tests', 'docs', 'links.test.ts')));
  assert.ok(files.length > 100, `expected the source tree, found ${files.length} files`);
  assert.deepEqual(files.flatMap((f) => brokenCitations(f, REPO)), []);
});

test('the checks report a missing file, a missing heading and a missing section', () => {
  const root = mkdtempSync(join(tmpdir(), 'hourglass-links-'));
  try {
    mkdirSync(join(root, 'docs'));
    writeFileSync(join(root, 'docs', 'a.md'), '# A page\n\n## Some `code`: here\n\n## Some code here\n');
    writeFileSync(join(root, 'README.md'), [
      '[ok](docs/a.md) [ok](docs/a.md#some-code-here) [ok](docs/a.md#some-code-here-1) [ok](#top) `[not](a link)`',
      '[gone](docs/b.md) [bad anchor](docs/a.md#nowhere) [web](https://example.com/x.md)',
      '# Top',
    ].join('\n'));
    assert.deepEqual(brokenLinks(join(root, 'README.md'), root), [
      'README.md: docs/b.md (no such file)',
      'README.md: docs/a.md#nowhere (no heading #nowhere)',
    ]);
    writeFileSync(join(root, 'x.ts'), [
      '// See docs/a.md "A page" and docs/a.md "Some `code`: here", and docs/a.md',
      '// "Missing part"; docs/c.md "Any"; README "Top", README "Gone"; PAPER.md.',
    ].join('\n'));
    assert.deepEqual(brokenCitations(join(root, 'x.ts'), root), [
      'x.ts: docs/a.md "Missing part" (no such section)',
      'x.ts: docs/c.md (no such document)',
      'x.ts: README "Gone" (no such section)',
      'x.ts: PAPER.md (not a document of the repository)',
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
