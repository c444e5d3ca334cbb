import { describe, expect, it } from 'vitest';
import { logOptionsFromCompose, parseLogSize, parseRestartPolicy } from '../../../src/supervisor/restart.js';

describe('parseRestartPolicy', () => {
  it('reads Compose restart values', () => {
    expect(parseRestartPolicy(undefined)).toEqual({ name: 'no' });
    expect(parseRestartPolicy('no')).toEqual({ name: 'no' });
    expect(parseRestartPolicy('always')).toEqual({ name: 'always' });
    expect(parseRestartPolicy('unless-stopped')).toEqual({ name: 'unless-stopped' });
    expect(parseRestartPolicy('on-failure')).toEqual({ name: 'on-failure' });
    expect(parseRestartPolicy('on-failure:3')).toEqual({ name: 'on-failure', maxRetries: 3 });
    expect(() => parseRestartPolicy('sometimes')).toThrow(expect.objectContaining({ code: 'SPEC_INVALID' }));
  });
});

describe('logging options', () => {
  it('reads sizes and Compose logging blocks', () => {
    expect(parseLogSize('10m')).toBe(10 * 1024 * 1024);
    expect(parseLogSize('512k')).toBe(512 * 1024);
    expect(parseLogSize('100')).toBe(100);
    expect(() => parseLogSize('lots')).toThrow(expect.objectContaining({ code: 'SPEC_INVALID' }));
    expect(logOptionsFromCompose(undefined)).toEqual({});
    expect(logOptionsFromCompose({ driver: 'json-file', options: { 'max-size': '1m', 'max-file': '5' } })).toEqual({
      driver: 'json-file',
      maxSize: 1024 * 1024,
      maxFile: 5,
    });
    expect(logOptionsFromCompose({ driver: 'none' })).toEqual({ driver: 'none' });
    expect(() => logOptionsFromCompose({ driver: 'syslog' })).toThrow(expect.objectContaining({ code: 'SPEC_UNSUPPORTED' }));
  });
});
