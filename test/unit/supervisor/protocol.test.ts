import { describe, expect, it } from 'vitest';
import { TscError } from '../../../src/common/errors.js';
import { LineDecoder, MAX_LINE_BYTES, checkAttachInput, checkRequest, checkResponse, isAttachInput } from '../../../src/supervisor/protocol.js';

const status = {
  id: 'c1',
  state: 'running',
  pid: 10,
  startTime: 5,
  startedAt: '2026-01-01T00:00:00Z',
  finishedAt: null,
  exitCode: null,
  oomKilled: false,
  restartCount: 0,
  stoppedByUser: false,
};
const config = {
  spec: { id: 'c1', bundleDir: '/b', cgroupPath: 'x/c1', process: { args: ['/bin/true'], env: [], cwd: '/' }, rootfs: { lowerDirs: [] } },
  restart: { name: 'on-failure', maxRetries: 2 },
};

function refusal(fn: () => unknown): TscError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TscError);
    return e as TscError;
  }
  throw new Error('not refused');
}

describe('supervisor protocol: requests', () => {
  it('accepts well-formed requests as they are', () => {
    expect(checkRequest({ type: 'run', id: 1, config })).toMatchObject({ type: 'run', config });
    expect(checkRequest({ type: 'logs', id: 2, container: 'c1', tail: 5, since: '10m', follow: true })).toMatchObject({ tail: 5 });
    expect(checkRequest({ type: 'remove-many', id: 3, containers: ['a', 'b'], timeoutMs: 0 })).toMatchObject({ containers: ['a', 'b'] });
  });

  it('names the field that is wrong', () => {
    const e = refusal(() =>
      checkRequest({ type: 'run', id: 1, config: { ...config, spec: { ...config.spec, process: { args: ['/bin/true', 3], env: [], cwd: '/' } } } }),
    );
    expect(e.code).toBe('SUPERVISOR');
    expect(e.message).toBe('invalid supervisor request: "run": config.spec.process.args[1]: expected a string, got number 3');
    expect(refusal(() => checkRequest({ type: 'stop', id: 1, container: 'c1', timeoutMs: '10' })).message).toMatch(/timeoutMs: expected a number, got "10"/);
    expect(refusal(() => checkRequest({ type: 'wait-for', id: 1, container: 'c1', condition: 'up' })).message).toMatch(
      /condition: expected one of "running", "healthy", "exited"/,
    );
    expect(refusal(() => checkRequest({ type: 'kill', id: 1 })).message).toMatch(/container: expected a non-empty string, got nothing/);
    expect(refusal(() => checkRequest({ type: 'run', id: 1, config: { ...config, restart: { name: 'sometimes' } } })).message).toMatch(/config\.restart\.name/);
  });

  it('keeps the wording old clients look for', () => {
    expect(refusal(() => checkRequest({ type: 'remove-many', id: 1 } as unknown)).message).toMatch(/containers: expected a list/);
    expect(refusal(() => checkRequest({ type: 'frobnicate', id: 1 })).message).toBe('invalid supervisor request: unknown type "frobnicate"');
    expect(refusal(() => checkRequest([1, 2])).message).toBe('invalid supervisor request: not a JSON object');
    expect(refusal(() => checkRequest({ type: 'ping' })).message).toBe('invalid supervisor request: missing numeric "id"');
  });
});

describe('supervisor protocol: answers', () => {
  it('checks a result by the type of the request it answers', () => {
    expect(checkResponse({ type: 'result', id: 1, result: status }, 'inspect')).toMatchObject({ result: status });
    expect(checkResponse({ type: 'result', id: 1, result: { pid: null, startTime: null, status } }, 'run')).toBeTruthy();
    const e = refusal(() => checkResponse({ type: 'result', id: 1, result: [{ ...status, state: 'zombie' }] }, 'list'));
    expect(e.message).toMatch(/^the supervisor sent a malformed answer to "list": result\[0\]\.state: expected one of/);
    expect(e.hint).toBeTruthy();
  });

  it('checks errors, log entries and events', () => {
    expect(checkResponse({ type: 'error', id: -1, error: { code: 'SUPERVISOR', message: 'x' } }, 'ping')).toBeTruthy();
    expect(refusal(() => checkResponse({ type: 'log', id: 1, entry: { log: 'a', stream: 'stdin', time: 't' } }, 'logs')).message).toMatch(/entry\.stream/);
    expect(refusal(() => checkResponse({ type: 'event', id: 1, event: { time: 't', container: 'c', action: 'start' } }, 'events')).message).toMatch(
      /event\.status: expected an object, got nothing/,
    );
    expect(refusal(() => checkResponse({ type: 'bogus', id: 1 }, 'ping')).message).toMatch(/type: expected one of/);
  });
});

describe('line decoder', () => {
  it('reports a malformed line and goes on', () => {
    const msgs: unknown[] = [];
    const bad: string[] = [];
    const d = new LineDecoder(
      (m) => msgs.push(m),
      (l) => bad.push(l),
    );
    d.push('{"a":1}\nnot json\n{"b"');
    d.push(':2}\n');
    expect(msgs).toEqual([{ a: 1 }, { b: 2 }]);
    expect(bad).toEqual(['not json']);
  });

  it('drops a line longer than the limit instead of buffering it forever', () => {
    const bad: string[] = [];
    const d = new LineDecoder(
      () => {},
      (l) => bad.push(l),
    );
    d.push('x'.repeat(MAX_LINE_BYTES + 1));
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatch(/a line longer than/);
  });
});

describe('supervisor protocol: attached runs', () => {
  it('checks the run-attached request, its streamed answers and its result', () => {
    expect(checkRequest({ type: 'run-attached', id: 4, config, attach: { tty: { rows: 30, cols: 100 }, autoRemove: true } })).toMatchObject({
      attach: { autoRemove: true },
    });
    expect(refusal(() => checkRequest({ type: 'run-attached', id: 4, config, attach: { tty: { rows: '30', cols: 100 } } })).message).toBe(
      'invalid supervisor request: "run-attached": attach.tty.rows: expected an integer, got "30"',
    );
    expect(refusal(() => checkRequest({ type: 'run-attached', id: 4, config })).message).toMatch(/attach: expected an object, got nothing/);
    expect(checkResponse({ type: 'output', id: 4, stream: 'stderr', data: 'aGk=' }, 'run-attached')).toBeTruthy();
    expect(checkResponse({ type: 'started', id: 4, pid: 9, startTime: 1 }, 'run-attached')).toBeTruthy();
    expect(refusal(() => checkResponse({ type: 'output', id: 4, stream: 'stdin', data: '' }, 'run-attached')).message).toMatch(/stream: expected one of/);
    const exit = { exitCode: 3, status: { ...status, state: 'exited' }, removed: true };
    expect(checkResponse({ type: 'result', id: 4, result: exit }, 'run-attached')).toMatchObject({ result: exit });
    expect(refusal(() => checkResponse({ type: 'result', id: 4, result: { ...exit, removed: 'yes' } }, 'run-attached')).message).toMatch(
      /result\.removed: expected true or false/,
    );
  });

  it("tells a client's input from a request, and checks it", () => {
    for (const t of ['stdin', 'stdin-close', 'resize', 'signal']) expect(isAttachInput({ type: t, id: 1 })).toBe(true);
    for (const t of ['run', 'run-attached', 'toString', undefined]) expect(isAttachInput({ type: t, id: 1 })).toBe(false);
    expect(isAttachInput(null)).toBe(false);
    expect(checkAttachInput({ type: 'stdin', id: 4, data: 'aGk=' })).toMatchObject({ data: 'aGk=' });
    expect(checkAttachInput({ type: 'resize', id: 4, rows: 40, cols: 120 })).toMatchObject({ rows: 40 });
    expect(refusal(() => checkAttachInput({ type: 'resize', id: 4, rows: 40 })).message).toBe(
      'invalid input for an attached run: "resize": cols: expected an integer, got nothing',
    );
    expect(refusal(() => checkAttachInput({ type: 'signal', id: 4, signal: '' })).message).toMatch(/signal: expected a non-empty string/);
    expect(refusal(() => checkAttachInput({ type: 'stdin-close' })).message).toMatch(/id: expected an integer/);
  });
});
