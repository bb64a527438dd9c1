import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Checks the repository's markdown the way a reader meets it on GitHub: every relative link resolves to a file of
 * the repository (and an `#anchor` to a heading of the page it names, by GitHub's slug rules), every docs page can
 * be reached from the README by following links, and no link or path points outside the repository. Pure over
 * `pages` and `exists`, so a test can feed it a broken example.
 */

/** Repository-relative path (with `/`) → markdown text. */
export type Pages = ReadonlyMap<string, string>;

export interface LinkCheck {
  /** Pages that must be reachable from `start` (repository-relative). */
  mustReach: readonly string[];
  start: string;
  /** Does this repository-relative path exist (file or directory)? */
  exists: (relPath: string) => boolean;
}

/** Absolute paths of a particular machine: a reader's clone has none of them. */
const MACHINE_PATH = /(?:^|[\s(`'"=])(\/(?:work|home|Users|root|mnt|private)\/[^\s)`'"]*)/g;
/** A relative path that climbs: `../x`, `../../x`. */
const CLIMBING_PATH = /(?:^|[\s(`'"=[])((?:\.\.\/)+[^\s)`'"\]]*)/g;
const INLINE_LINK = /!?\[(?:[^\]`]|`[^`]*`)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
const REFERENCE_DEFINITION = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm;

/** The text with fenced code blocks blanked (line count kept) and inline code spans removed. */
export function withoutCode(text: string): string {
  const lines = text.split('\n');
  let fence: string | null = null;
  const kept = lines.map((line) => {
    const opener = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === null && opener) {
      fence = opener[0]!.repeat(opener.length);
      return '';
    }
    if (fence !== null) {
      if (line.trim().startsWith(fence)) fence = null;
      return '';
    }
    return line.replace(/(`+)(?:(?!\1)[\s\S])*?\1/g, '');
  });
  return kept.join('\n');
}

/** GitHub's anchor for a heading's text: lowercased, punctuation dropped, spaces to hyphens. */
export function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/<[^>]+>/g, '') // inline HTML
    .replace(/[`*]/g, '') // code and emphasis markers
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** The anchors of a page's headings, with GitHub's `-1`, `-2` suffixes for repeated ones. */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const lines = text.split('\n');
  let fence: string | null = null;
  for (const line of lines) {
    const opener = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === null && opener) {
      fence = opener[0]!.repeat(opener.length);
      continue;
    }
    if (fence !== null) {
      if (line.trim().startsWith(fence)) fence = null;
      continue;
    }
    const heading = /^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = githubSlug(heading);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Every link target of a page outside code: inline links, images and reference definitions. */
export function linkTargets(text: string): string[] {
  const prose = withoutCode(text);
  const targets = [...prose.matchAll(INLINE_LINK)].map((m) => m[1]!);
  targets.push(...[...prose.matchAll(REFERENCE_DEFINITION)].map((m) => m[1]!));
  return targets;
}

const EXTERNAL = /^[a-z][a-z0-9+.-]*:/i;

/** The repository-relative path `target` names from `page`, or null when it leaves the repository. */
function resolveFrom(page: string, target: string): string | null {
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(page), target));
  if (resolved === '..' || resolved.startsWith('../') || path.posix.isAbsolute(resolved)) return null;
  return resolved.replace(/\/$/, '') || '.';
}

/** Every problem found, one line each (`page: what`); empty when the pages are fine. */
export function checkMarkdownLinks(pages: Pages, check: LinkCheck): string[] {
  const problems: string[] = [];
  const anchors = new Map<string, Set<string>>();
  const anchorsOf = (page: string) => {
    let a = anchors.get(page);
    if (!a) anchors.set(page, (a = headingAnchors(pages.get(page) ?? '')));
    return a;
  };
  const edges = new Map<string, string[]>();

  for (const [page, text] of pages) {
    const linked: string[] = [];
    for (const target of linkTargets(text)) {
      if (EXTERNAL.test(target)) continue;
      const hash = target.indexOf('#');
      const file = decodeURI(hash < 0 ? target : target.slice(0, hash));
      const anchor = hash < 0 ? null : decodeURIComponent(target.slice(hash + 1));
      if (file.startsWith('/')) {
        problems.push(`${page}: link ${target} is absolute; link relative to the page`);
        continue;
      }
      const resolved = file === '' ? page : resolveFrom(page, file);
      if (resolved === null) {
        problems.push(`${page}: link ${target} points outside the repository`);
        continue;
      }
      if (!pages.has(resolved) && !check.exists(resolved)) {
        problems.push(`${page}: link ${target} names ${resolved}, which does not exist`);
        continue;
      }
      if (resolved.endsWith('.md')) linked.push(resolved);
      if (anchor !== null && resolved.endsWith('.md') && pages.has(resolved) && !anchorsOf(resolved).has(anchor)) {
        problems.push(`${page}: link ${target}: ${resolved} has no heading #${anchor}`);
      }
    }
    edges.set(page, linked);

    for (const m of text.matchAll(MACHINE_PATH)) {
      problems.push(`${page}: ${m[1]} is a path on one machine, not in the repository`);
    }
    for (const m of text.matchAll(CLIMBING_PATH)) {
      if (resolveFrom(page, m[1]!) === null) problems.push(`${page}: ${m[1]} points outside the repository`);
    }
  }

  const reached = new Set<string>([check.start]);
  const queue = [check.start];
  while (queue.length > 0) {
    for (const next of edges.get(queue.shift()!) ?? []) {
      if (!reached.has(next)) {
        reached.add(next);
        queue.push(next);
      }
    }
  }
  for (const page of check.mustReach) {
    if (!reached.has(page)) problems.push(`${page}: not reachable from ${check.start} by following links`);
  }
  return problems;
}

/** README.md, docs/**\/*.md, bench/**\/*.md and deploy/**\/*.md of the repository at `root`, by repository-relative path. */
export function repositoryPages(root: string): Map<string, string> {
  const pages = new Map<string, string>();
  const add = (rel: string) => pages.set(rel, readFileSync(path.join(root, rel), 'utf8'));
  add('README.md');
  for (const dir of ['docs', 'bench', 'deploy']) {
    if (!existsSync(path.join(root, dir))) continue;
    for (const entry of readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.md')) continue;
      const rel = path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
      if (!rel.split('/').includes('node_modules')) add(rel);
    }
  }
  return pages;
}
