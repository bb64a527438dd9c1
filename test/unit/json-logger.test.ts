import { describe, expect, it } from 'vitest';
import { createLogger, secretRedactor } from '../../src/observability/json-logger';

function capture(secrets: string[] = []) {
  const lines: string[] = [];
  const logger = createLogger({ level: 'DEBUG', format: 'json', secrets, write: (l) => lines.push(l) });
  return { logger, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('the JSON logger', () => {
  it('writes one object per line with time, level, msg and the metadata', () => {
    const { logger, records } = capture();
    logger.info('Created export job', { workflowId: 'export-1', exportJobId: 'ab'.repeat(12), attempt: 1n });
    expect(records()).toEqual([
      expect.objectContaining({ level: 'INFO', msg: 'Created export job', workflowId: 'export-1', attempt: '1' }),
    ]);
    expect(records()[0]!.time).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('survives circular metadata and errors, and keeps its own fields from being overwritten', () => {
    const { logger, records } = capture();
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    logger.warn('odd metadata', { loop, error: new Error('boom'), level: 'overridden', msg: 'nope' });
    const [r] = records();
    expect(r).toMatchObject({ level: 'WARN', msg: 'odd metadata', meta_level: 'overridden', meta_msg: 'nope' });
    expect(r!.loop).toEqual({ name: 'loop', self: '[Circular]' });
    expect(r!.error).toEqual({ name: 'Error', message: 'boom' });
  });

  it('redacts configured secrets, also where JSON escaping changed them, and respects the level', () => {
    const secret = 'pr1v"ate\\key-42';
    const { logger, lines } = capture([secret, 'short']);
    logger.error(`request failed with ${secret}`, { header: `Digest response=${secret}` });
    logger.debug('short is not redacted: too short to be a secret');
    expect(lines.join('\n')).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(lines[0]).toContain('[REDACTED]');
    expect(lines[1]).toContain('short is not redacted');
    const quiet: string[] = [];
    createLogger({ level: 'WARN', format: 'json', secrets: [], write: (l) => quiet.push(l) }).info('dropped');
    expect(quiet).toEqual([]);
  });

  it('a redactor with no secrets leaves lines alone', () => {
    expect(secretRedactor([])('nothing to hide')).toBe('nothing to hide');
  });
});
