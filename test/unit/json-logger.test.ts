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
    expect(r!.error).toMatchObject({ name: 'Error', message: 'boom' });
  });

  it("keeps an error's stack, code and cause chain (a cycle cut), in both formats", () => {
    const root = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const outer = new Error('could not reach Atlas', { cause: root });
    const looping = new Error('loops');
    looping.cause = looping;
    const { logger, records } = capture();
    logger.error('request failed', { error: outer, other: looping });
    const error = records()[0]!.error as Record<string, Record<string, unknown>>;
    expect(error).toMatchObject({ name: 'Error', message: 'could not reach Atlas' });
    expect(error.stack).toMatch(/^Error: could not reach Atlas\n\s+at /);
    expect(error.cause).toMatchObject({ name: 'Error', message: root.message, code: 'ECONNREFUSED' });
    expect(error.cause!.stack).toContain('at ');
    expect(records()[0]!.other).toMatchObject({ message: 'loops', cause: '[Circular]' });

    const text: string[] = [];
    createLogger({ level: 'INFO', format: 'text', secrets: [], write: (l) => text.push(l) }).warn('x', {
      error: outer,
    });
    expect(text[0]).toContain('"cause":{"name":"Error","message":"connect ECONNREFUSED 127.0.0.1:1"');
    expect(text[0]).toContain('"stack":"Error: could not reach Atlas');
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
