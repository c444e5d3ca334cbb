import { describe, expect, it } from 'vitest';
import { parseRestartPolicy } from '../../../src/supervisor/restart.js';

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
