import { describe, expect, it } from 'vitest';
import { applyProbeResult, initialHealth, probeArgs } from '../../../src/supervisor/health.js';
import type { HealthcheckConfig, HealthResult } from '../../../src/supervisor/types.js';

const cfg: HealthcheckConfig = { test: ['CMD', 'true'], interval: 10, timeout: 10, retries: 3, startPeriod: 0 };
const res = (exitCode: number, output = ''): HealthResult => ({ start: 's', end: 'e', exitCode, output });

describe('healthcheck semantics', () => {
  it('builds probe argv from CMD and CMD-SHELL, and NONE disables', () => {
    expect(probeArgs(['CMD', 'curl', '-f', 'x'])).toEqual(['curl', '-f', 'x']);
    expect(probeArgs(['CMD-SHELL', 'test -f /ok'])).toEqual(['/bin/sh', '-c', 'test -f /ok']);
    expect(probeArgs(['NONE'])).toBeNull();
    expect(() => probeArgs(['RUN', 'x'])).toThrow(/CMD/);
  });
  it('one success is healthy; `retries` consecutive failures are unhealthy; a success resets the streak', () => {
    let h = initialHealth();
    h = applyProbeResult(h, res(1), cfg, false);
    h = applyProbeResult(h, res(1), cfg, false);
    expect(h).toMatchObject({ status: 'starting', failingStreak: 2 });
    h = applyProbeResult(h, res(0), cfg, false);
    expect(h).toMatchObject({ status: 'healthy', failingStreak: 0 });
    for (let i = 0; i < 2; i++) h = applyProbeResult(h, res(1), cfg, false);
    expect(h.status).toBe('healthy');
    h = applyProbeResult(h, res(1, 'boom'), cfg, false);
    expect(h).toMatchObject({ status: 'unhealthy', failingStreak: 3 });
    expect(h.log.length).toBe(5);
    expect(h.log.at(-1)!.output).toBe('boom');
  });
  it('failures during the start period do not count while starting', () => {
    let h = initialHealth();
    for (let i = 0; i < 10; i++) h = applyProbeResult(h, res(1), cfg, true);
    expect(h).toMatchObject({ status: 'starting', failingStreak: 0 });
    h = applyProbeResult(h, res(0), cfg, true);
    h = applyProbeResult(h, res(1), cfg, true);
    expect(h).toMatchObject({ status: 'healthy', failingStreak: 1 });
  });
});
