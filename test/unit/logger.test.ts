import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { chooseLogFormat, createLogger, type LogFormat } from '../../src/logger.js';

function capture(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += chunk;
      done();
    },
  });
  return { stream, text: () => text };
}

describe('log format', () => {
  it.each([
    [undefined, true, 'pretty'],
    [undefined, false, 'json'],
    [undefined, undefined, 'json'],
    ['json', true, 'json'],
    ['pretty', false, 'pretty'],
  ] as const)(
    'when LOG_FORMAT is %s and stdout is a TTY: %s, then the format is %s',
    (setting, tty, want) => {
      expect(chooseLogFormat(setting, tty)).toBe(want as LogFormat);
    },
  );

  it('when LOG_FORMAT is set, then the configuration carries it; a value other than json|pretty is refused', () => {
    expect(loadConfig({}).logFormat).toBeUndefined();
    expect(loadConfig({ LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow(ConfigError);
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT/);
  });

  it('when pretty, then a line is readable text, not JSON, and secrets are still redacted', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', format: 'pretty', destination: out.stream });
    logger.info({ credentialId: 7, clientSecret: 'hunter2' }, 'demo sync started');
    const line = out.text();
    expect(line).toMatch(/INFO.*demo sync started/);
    expect(line).toMatch(/credentialId: 7/);
    expect(() => JSON.parse(line)).toThrow();
    expect(line).not.toContain('hunter2');
    expect(line).toContain('[redacted]');
  });

  it('when json, then each line is a JSON object with the level and message', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', format: 'json', destination: out.stream });
    logger.warn({ clientSecret: 'hunter2' }, 'careful');
    const entry = JSON.parse(out.text());
    expect(entry).toMatchObject({ level: 40, msg: 'careful', clientSecret: '[redacted]' });
  });
});
