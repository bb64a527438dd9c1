import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { goTool } from '../helpers/go-tools';
import { githubSlug } from '../helpers/markdown-links';

/**
 * deploy/prometheus/alerts.yml checked by Prometheus's own promtool: the rules parse (`check rules`) and each
 * alert fires and stays quiet as its unit tests in alerts.test.yml say (`test rules`). A broken copy (an inverted
 * threshold, a misspelt metric) must fail, so the unit tests are shown to bite.
 */
const DIR = resolve(__dirname, '..', '..', 'deploy', 'prometheus');
const RULES = readFileSync(join(DIR, 'alerts.yml'), 'utf8');
const TESTS = readFileSync(join(DIR, 'alerts.test.yml'), 'utf8');
const scratch = mkdtempSync(join(tmpdir(), 'aeo-alerts-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function promtool(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync(goTool('promtool'), args, { cwd: scratch, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Runs `promtool test rules` on the unit tests against `rules` (the real file unless changed). */
function testRules(rules = RULES): { status: number | null; output: string } {
  writeFileSync(join(scratch, 'alerts.yml'), rules);
  copyFileSync(join(DIR, 'alerts.test.yml'), join(scratch, 'alerts.test.yml'));
  return promtool('test', 'rules', 'alerts.test.yml');
}

interface Rule {
  alert: string;
  expr: string;
  annotations: Record<string, string>;
}
const alerts = (parse(RULES) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

describe('alert rules', () => {
  it('pass promtool check rules', () => {
    writeFileSync(join(scratch, 'check.yml'), RULES);
    const r = promtool('check', 'rules', 'check.yml');
    expect(r.output).toContain(`SUCCESS: ${alerts.length} rules found`);
    expect(r.status).toBe(0);
  });

  it('pass their unit tests (promtool test rules)', () => {
    const r = testRules();
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it.each([
    ['an inverted threshold', (s: string) => s.replace(/(increase\(atlas_auth_failures\[10m\]\)\s*\)) > 0/, '$1 < 0')],
    ['a misspelt metric', (s: string) => s.replaceAll('atlas_exports_stalled', 'atlas_export_stalled')],
    ['a dropped outcome', (s: string) => s.replaceAll('Failed|Cancelled|CreateFailed', 'Cancelled|CreateFailed')],
    ['a shorter for', (s: string) => s.replace('for: 15m', 'for: 1m')],
  ])('fail their unit tests with %s', (_, breakIt) => {
    const broken = breakIt(RULES);
    expect(broken).not.toBe(RULES);
    const r = testRules(broken);
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('FAILED');
  });

  it('each has a unit test and a runbook section in docs/alerts.md', () => {
    const tested = new Set([...TESTS.matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
    const runbooks = readFileSync(resolve(DIR, '..', '..', 'docs', 'alerts.md'), 'utf8');
    const headings = new Set([...runbooks.matchAll(/^## (.+)$/gm)].map((m) => githubSlug(m[1]!)));
    expect(alerts.length).toBe(7);
    for (const a of alerts) {
      expect(tested.has(a.alert), a.alert).toBe(true);
      expect(a.annotations.runbook).toBe(`docs/alerts.md#${a.alert.toLowerCase()}`);
      expect(headings.has(a.alert.toLowerCase()), `docs/alerts.md has no "## ${a.alert}"`).toBe(true);
    }
  });

  it("and the compose stack's Prometheus config pass promtool check config, scraping the job the alerts select", () => {
    const config = readFileSync(join(DIR, 'prometheus.yml'), 'utf8');
    writeFileSync(join(scratch, 'prometheus.yml'), config);
    writeFileSync(join(scratch, 'alerts.yml'), RULES);
    const r = promtool('check', 'config', 'prometheus.yml');
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
    const jobs = (parse(config) as { scrape_configs: { job_name: string }[] }).scrape_configs.map((c) => c.job_name);
    const selected = [...RULES.matchAll(/job="([^"]+)"/g)].map((m) => m[1]);
    expect(selected.length).toBeGreaterThan(0);
    for (const job of selected) expect(jobs).toContain(job);
    // A broken copy fails: an unknown field.
    writeFileSync(join(scratch, 'prometheus.yml'), config.replace('scrape_interval:', 'scrape_intervall:'));
    expect(promtool('check', 'config', 'prometheus.yml').status).not.toBe(0);
  });
});
