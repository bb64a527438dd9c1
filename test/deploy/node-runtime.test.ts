import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './deploy-checks';

/**
 * One shipped Node and one floor, stated once each and agreed on everywhere: the image's FROM lines and .nvmrc
 * (the version the suite runs on, scripts/ensure-node.sh), the floor in package.json engines and the version the
 * floor subset runs on, and the compiler settings typed for the floor (@tsconfig/node<floor>, @types/node).
 */
const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');
interface Manifest {
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}
const rootManifest = JSON.parse(read('package.json')) as Manifest;
const packageManifest = JSON.parse(read('packages/atlas-export/package.json')) as Manifest;
const shipped = read('.nvmrc').trim();
const floorPin = /^FLOOR_NODE_VERSION=(\d+\.\d+\.\d+)$/m.exec(read('scripts/ensure-node.sh'))?.[1];
const engineFloor = /^>=(\d+)\.(\d+)\.(\d+)$/.exec(rootManifest.engines.node);
const major = (version: string) => Number(version.split('.')[0]);
const asNumber = (v: string) => v.split('.').reduce((n, part) => n * 1000 + Number(part), 0);

describe('Node versions', () => {
  it('ships the version of .nvmrc in every stage of the image', () => {
    const froms = [...read('Dockerfile').matchAll(/^FROM node:(\S+?)-\S+/gm)].map((m) => m[1]);
    expect(froms.length).toBeGreaterThan(0);
    expect(new Set(froms)).toEqual(new Set([shipped]));
    expect(shipped).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('runs the floor subset on a version of the floor line that engines admits', () => {
    expect(engineFloor, rootManifest.engines.node).not.toBeNull();
    expect(floorPin).toBeDefined();
    expect(major(floorPin!)).toBe(Number(engineFloor![1]));
    expect(asNumber(floorPin!)).toBeGreaterThanOrEqual(asNumber(engineFloor!.slice(1).join('.')));
    expect(major(shipped)).toBeGreaterThan(major(floorPin!));
  });

  it('types and compiles for the floor, and the published package states the same engines', () => {
    const floorMajor = engineFloor![1];
    expect(JSON.parse(read('tsconfig.json'))).toMatchObject({ extends: `@tsconfig/node${floorMajor}/tsconfig.json` });
    expect(Object.keys(rootManifest.devDependencies).filter((n) => n.startsWith('@tsconfig/'))).toEqual([
      `@tsconfig/node${floorMajor}`,
    ]);
    expect(major(rootManifest.devDependencies['@types/node']!)).toBe(Number(floorMajor));
    expect(packageManifest.engines).toEqual(rootManifest.engines);
  });
});

describe('dependencies', () => {
  /** Every TypeScript file under src/, as text. */
  function sources(dir = join(REPO_ROOT, 'src')): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory()
        ? sources(join(dir, e.name))
        : e.name.endsWith('.ts')
          ? [readFileSync(join(dir, e.name), 'utf8')]
          : []
    );
  }

  it('lists only packages the code imports', () => {
    const text = sources().join('\n');
    const imported = (name: string) => new RegExp(`from '${name}(/[^']*)?'|require\\('${name}`).test(text);
    expect(Object.keys(rootManifest.dependencies).filter((name) => !imported(name))).toEqual([]);
    expect(Object.keys(packageManifest.dependencies).filter((name) => !imported(name))).toEqual([]);
  });
});
