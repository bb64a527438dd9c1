import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/cli/common';
import { checkMarkdownLinks, githubSlug, headingAnchors, repositoryPages } from '../helpers/markdown-links';

const ROOT = path.resolve(__dirname, '..', '..');
/** The README a newcomer finishes (issue 15): at most 12 KB, counted as `wc -c` counts. */
const README_MAX_BYTES = 12_000;

describe('README and docs links', () => {
  const pages = repositoryPages(ROOT);
  const docsPages = [...pages.keys()].filter((p) => p.startsWith('docs/'));

  it('finds the pages it checks', () => {
    expect(docsPages.length).toBeGreaterThanOrEqual(10);
    expect(docsPages).toContain('docs/configuration.md');
    expect(docsPages).toContain('docs/benchmarks.md');
  });

  it('has no dead relative link or anchor (README, docs, bench, deploy), nothing outside the repository, and every docs page reachable', () => {
    const problems = checkMarkdownLinks(pages, {
      start: 'README.md',
      mustReach: docsPages,
      exists: (rel) => existsSync(path.join(ROOT, rel)),
    });
    expect(problems).toEqual([]);
  });

  it(`keeps README.md at most ${README_MAX_BYTES} bytes`, () => {
    expect(statSync(path.join(ROOT, 'README.md')).size).toBeLessThanOrEqual(README_MAX_BYTES);
  });
});

describe('the CLI exit code tables', () => {
  /** The codes in the first column of the markdown table whose header starts with `| Code` or `| Exit code`. */
  function tableCodes(relPath: string): number[] {
    const text = readFileSync(path.join(ROOT, relPath), 'utf8');
    const table = /^\| (?:Exit code|Code) +\|.*\n\|[- |]+\|\n((?:\|.*\n?)+)/m.exec(text)?.[1] ?? '';
    return [...table.matchAll(/^\| (\d+) /gm)].map((m) => Number(m[1]));
  }

  it.each(['README.md', 'docs/cli.md'])('%s lists exactly the codes of ExitCode', (page) => {
    const codes = [...new Set(Object.values(ExitCode))].sort((a, b) => a - b);
    expect(tableCodes(page)).toEqual(codes);
  });
});

describe('the link check itself', () => {
  it('reports each kind of broken link in a broken example', () => {
    const pages = new Map([
      [
        'README.md',
        [
          '# Title',
          '[fine](docs/a.md#a-section-with-code) [also fine](#title) [dir](docs/)',
          '[gone](docs/missing.md) [bad anchor](docs/a.md#no-such-heading) [up](../shared/notes.md)',
          '[absolute](/work/main/README.md) [web](https://example.com/x.md)',
          'See `../shared/atlas-openapi/` and /home/someone/checkout.',
          '```sh',
          '[in code](docs/also-missing.md)',
          '```',
        ].join('\n'),
      ],
      ['docs/a.md', '# A\n\n## A section with `code`\n\n[back](../README.md#title)'],
      ['docs/orphan.md', '# Nobody links here\n\n[out](../../elsewhere.md)'],
    ]);
    const problems = checkMarkdownLinks(pages, {
      start: 'README.md',
      mustReach: ['docs/a.md', 'docs/orphan.md'],
      exists: (rel) => pages.has(rel) || rel === 'docs',
    });
    expect(problems.sort()).toEqual(
      [
        'README.md: link docs/missing.md names docs/missing.md, which does not exist',
        'README.md: link docs/a.md#no-such-heading: docs/a.md has no heading #no-such-heading',
        'README.md: link ../shared/notes.md points outside the repository',
        'README.md: link /work/main/README.md is absolute; link relative to the page',
        'README.md: /work/main/README.md is a path on one machine, not in the repository',
        'README.md: /home/someone/checkout. is a path on one machine, not in the repository',
        'README.md: ../shared/notes.md points outside the repository',
        'README.md: ../shared/atlas-openapi/ points outside the repository',
        'docs/orphan.md: link ../../elsewhere.md points outside the repository',
        'docs/orphan.md: ../../elsewhere.md points outside the repository',
        'docs/orphan.md: not reachable from README.md by following links',
      ].sort()
    );
  });

  it("makes GitHub's anchors", () => {
    expect(githubSlug('Scale: one worker, 5,000 exports in flight (`npm run bench:scale`)')).toBe(
      'scale-one-worker-5000-exports-in-flight-npm-run-benchscale'
    );
    expect(githubSlug('Scheduled exports: the `scheduledExport` workflow')).toBe(
      'scheduled-exports-the-scheduledexport-workflow'
    );
    expect(githubSlug('`npm start`: the local stack')).toBe('npm-start-the-local-stack');
    expect([...headingAnchors('# Usage\n## Usage\n```\n# not a heading\n```\n## Usage')]).toEqual([
      'usage',
      'usage-1',
      'usage-2',
    ]);
  });
});
