import { describe, expect, it } from 'vitest';
import { composeEvent, eventText } from '../../../src/cli/commands/events.js';
import { parseSince } from '../../../src/cli/commands/logs.js';
import type { ContainerStatus } from '../../../src/supervisor/types.js';

const status = (over: Partial<ContainerStatus> = {}): ContainerStatus => ({
  id: 'p-web-1',
  state: 'exited',
  pid: null,
  startTime: null,
  startedAt: null,
  finishedAt: null,
  exitCode: 3,
  oomKilled: false,
  restartCount: 0,
  stoppedByUser: false,
  ...over,
});

describe('events', () => {
  it('uses docker compose v2 field names and puts the exit code of a die in its attributes', () => {
    const ev = composeEvent({ time: '2026-01-02T10:00:00.123456789Z', container: 'p-web-1', action: 'die', status: status() }, 'web', 'busybox:latest');
    expect(ev).toEqual({
      time: '2026-01-02T10:00:00.123456789Z',
      type: 'container',
      action: 'die',
      id: 'p-web-1',
      service: 'web',
      attributes: { name: 'p-web-1', image: 'busybox:latest', exitCode: '3' },
    });
    expect(eventText(ev)).toBe('2026-01-02 10:00:00.123456789 container die p-web-1 (name=p-web-1, image=busybox:latest, exitCode=3)');
  });

  it('names the health status in the action', () => {
    const ev = composeEvent(
      {
        time: '2026-01-02T10:00:00Z',
        container: 'p-db-1',
        action: 'health_status',
        status: status({ state: 'running', health: { status: 'healthy' } as ContainerStatus['health'] }),
      },
      'db',
      'x',
    );
    expect(ev.action).toBe('health_status: healthy');
  });
});

describe('logs --since', () => {
  it('reads durations, unix seconds and RFC 3339 times, and rejects the rest clearly', () => {
    const now = Date.now();
    const v = parseSince('10m') as number;
    expect(Math.abs(now - 600_000 - v)).toBeLessThan(2_000);
    expect(parseSince('1h30m') as number).toBeLessThan(now - 5_000_000);
    expect(parseSince('1700000000')).toBe(1_700_000_000_000);
    expect(parseSince('2026-01-02T13:23:37Z')).toBe('2026-01-02T13:23:37Z');
    expect(() => parseSince('yesterday')).toThrow(/invalid --since "yesterday"/);
  });
});
