import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Builds the published package, packages/atlas-export (`npm run build:package`; its `prepack` runs this, so
 * `npm pack` there never ships a stale build): compiles the client, the CLI and what they import from `src/` with
 * declarations (packages/atlas-export/tsconfig.json names the entry points), then copies the JSON Schemas, the
 * licence and the changelog, which `files` cannot reach outside the package directory.
 */
const root = resolve(__dirname, '..');
const pkg = join(root, 'packages', 'atlas-export');

for (const dir of ['dist', 'schemas']) rmSync(join(pkg, dir), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', pkg], {
  stdio: 'inherit',
});
// npm links a `bin` with its mode as packed; the shebang is in src/starter.ts.
chmodSync(join(pkg, 'dist', 'starter.js'), 0o755);
mkdirSync(join(pkg, 'schemas'));
for (const name of readdirSync(join(root, 'schemas')).filter((n) => n.endsWith('.schema.json'))) {
  copyFileSync(join(root, 'schemas', name), join(pkg, 'schemas', name));
}
for (const name of ['LICENSE', 'CHANGELOG.md']) copyFileSync(join(root, name), join(pkg, name));
console.log(`built ${pkg}`);
