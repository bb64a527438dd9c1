import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The codec server's entry point (`npm run codec-server`) logs in the project's JSON format, secrets redacted. */

const ROOT = resolve(__dirname, '..', '..');

async function runUntilListening(env: Record<string, string>): Promise<Record<string, unknown>[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, 'src/codec/main.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', CODEC_SERVER_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 30_000;
  while (!stderr.includes('Codec server listening') || !stderr.endsWith('\n')) {
    if (child.exitCode !== null) throw new Error(`codec server exited with ${child.exitCode}:\n${stderr}`);
    if (Date.now() > deadline) throw new Error(`codec server not listening after 30 s:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGTERM');
  // 'close' comes after the output is read to its end, so a line logged after the first is in `stderr`.
  const [code] = (await once(child, 'close')) as [number | null];
  expect(code, stderr).toBe(0);
  return stderr
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('the codec server entry point', () => {
  const key = randomBytes(32).toString('base64');

  it('logs that it listens as the worker logs: time, level, msg and fields; never a key or the token', async () => {
    const token = 'codec-main-token-0123456789';
    const lines = await runUntilListening({ PAYLOAD_ENCRYPTION_KEYS: `k1:${key}`, CODEC_SERVER_TOKEN: token });
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'INFO',
        msg: 'Codec server listening',
        auth: 'bearer token',
        keys: { currentKeyId: 'k1', keyIds: ['k1'] },
      }),
    ]);
    expect(lines[0]!.time).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(lines[0]!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(JSON.stringify(lines)).not.toContain(key);
    expect(JSON.stringify(lines)).not.toContain(token);
  });

  it('refuses to listen beyond loopback without CODEC_SERVER_TOKEN: exit 78 naming the variable', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, 'src/codec/main.ts')], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        CODEC_SERVER_PORT: '0',
        PAYLOAD_ENCRYPTION_KEYS: `k1:${key}`,
        CODEC_SERVER_HOST: '0.0.0.0',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'close')) as [number | null];
    expect(code, stderr).toBe(78);
    expect(stderr).toContain('CODEC_SERVER_TOKEN');
    expect(stderr).not.toContain('Codec server listening');
  });
});
