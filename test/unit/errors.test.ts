import { describe, expect, it } from 'vitest';
import { TscError } from '../../src/common/errors.js';
import { exitCodeFor, formatError } from '../../src/cli/reporter.js';

describe('reporter', () => {
  it('prints one paragraph without a stack for user errors', () => {
    const e = new TscError('SPEC_INVALID', 'compose.yaml:3:5: services.web.ports[0]: expected a port', { hint: 'use "8080:80"' });
    const out = formatError(e, false);
    expect(out).toBe('error: compose.yaml:3:5: services.web.ports[0]: expected a port\nhint: use "8080:80"');
    expect(exitCodeFor(e)).toBe(1);
    expect(exitCodeFor(new TscError('USAGE', 'x'))).toBe(2);
  });
});
