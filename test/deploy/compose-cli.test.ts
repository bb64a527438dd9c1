import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { goTool } from '../helpers/go-tools';
import { COMPOSE_SERVICES, REPO_ROOT } from './deploy-checks';

/**
 * docker-compose.yml through Docker Compose's own loader (`docker-compose config`, v5.6.0 built from the Go module
 * proxy by scripts/ensure-go-tools.sh; no Docker engine needed): the file, its interpolation and every profile
 * are what Compose accepts, beyond what the JSON schema and our checks in compose.test.ts read.
 */
const COMPOSE = readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8');
const scratch = mkdtempSync(join(tmpdir(), 'aeo-compose-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `docker-compose config` on `text` (the real file unless changed), with every profile, from the repository. */
function config(text = COMPOSE, env: Record<string, string> = { POSTGRES_PASSWORD: 'not-a-real-password' }) {
  const file = join(scratch, `compose-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, text);
  const r = spawnSync(
    goTool('docker-compose'),
    ['-f', file, '--project-directory', REPO_ROOT, '--profile', '*', 'config', '--format', 'json'],
    { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH ?? '', HOME: scratch, ...env } }
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('docker-compose.yml, as Docker Compose loads it', () => {
  it('is accepted with every profile, and resolves to the stack we expect', () => {
    const r = config();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const project = JSON.parse(r.stdout) as {
      services: Record<string, { network_mode?: string; healthcheck?: { test?: string[] } }>;
    };
    expect(Object.keys(project.services).sort()).toEqual([...COMPOSE_SERVICES].sort());
    expect(project.services['atlas-simulator']?.network_mode).toBe('service:worker');
    expect(project.services.worker?.healthcheck?.test?.join(' ')).toContain('/readyz');
  });

  it('refuses to start without POSTGRES_PASSWORD, naming it', () => {
    const r = config(COMPOSE, {});
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('required variable POSTGRES_PASSWORD is missing a value');
  });

  it.each([
    [
      'an unknown depends_on condition',
      (s: string) => s.replace('condition: service_healthy', 'condition: service_healty'),
      'must be one of',
    ],
    [
      'a network namespace of a service that does not exist',
      (s: string) => s.replace('network_mode: service:worker', 'network_mode: service:wrker'),
      'undefined service "wrker"',
    ],
    [
      'an unknown service key',
      (s: string) => s.replace('    init: true\n', '    init: true\n    inti: true\n'),
      'inti',
    ],
  ])('fails on %s', (_, breakIt, says) => {
    const broken = breakIt(COMPOSE);
    expect(broken).not.toBe(COMPOSE);
    const r = config(broken);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(says);
  });
});
