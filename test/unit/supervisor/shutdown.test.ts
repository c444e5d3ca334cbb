/**
 * SupervisorClient.shutdown() returns only once the supervisor's process is gone (down relies on
 * it: nothing of the project runs when down returns), and says so when it is not within the wait.
 * The "supervisor" here is a socket server of the test answering for a real child process, so
 * the process exits exactly when the test decides.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SupervisorClient, SupervisorStillRunning } from '../../../src/supervisor/client.js';
import { encode, LineDecoder, type Request } from '../../../src/supervisor/protocol.js';
import { processAlive } from '../../../src/engine/procfs.js';
import { tempRoot } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** A server on `sock` that answers ping with `proc`'s pid and accepts shutdown, calling `onShutdown`. */
async function fakeSupervisor(sock: string, proc: ChildProcess, onShutdown: () => void): Promise<void> {
  const server = net.createServer((c) => {
    c.setEncoding('utf8');
    const decoder = new LineDecoder(
      (raw) => {
        const req = raw as Request;
        if (req.type === 'ping') c.write(encode({ type: 'result', id: req.id, result: { pid: proc.pid!, project: 'p', root: '/', version: 1 } }));
        if (req.type === 'shutdown') {
          c.write(encode({ type: 'result', id: req.id, result: { exiting: true } }));
          onShutdown();
        }
      },
      () => undefined,
    );
    c.on('data', (d: string) => decoder.push(d));
  });
  await new Promise<void>((r) => server.listen(sock, r));
  cleanups.push(() => server.close());
}

function sleeper(): ChildProcess {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  cleanups.push(() => child.kill('SIGKILL'));
  return child;
}

describe('supervisor shutdown waits for the process', () => {
  it('resolves only after the supervisor process has exited', async () => {
    const { root, cleanup } = tempRoot();
    cleanups.push(cleanup);
    const sock = path.join(root, 's.sock');
    const child = sleeper();
    await fakeSupervisor(sock, child, () => setTimeout(() => child.kill('SIGTERM'), 300));
    const t = Date.now();
    await new SupervisorClient(sock, 'p').shutdown();
    expect(processAlive(child.pid!)).toBe(false);
    expect(Date.now() - t).toBeGreaterThanOrEqual(290);
  });

  it('is a SUPERVISOR error when the process is still there after the wait', async () => {
    const { root, cleanup } = tempRoot();
    cleanups.push(cleanup);
    const sock = path.join(root, 's.sock');
    const child = sleeper();
    await fakeSupervisor(sock, child, () => undefined);
    const t = Date.now();
    const err = await new SupervisorClient(sock, 'p').shutdown(false, 300).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SupervisorStillRunning);
    expect((err as Error).message).toMatch(new RegExp(`supervisor of project p \\(pid ${child.pid}\\) did not exit within 0.3 s`));
    expect(Date.now() - t).toBeGreaterThanOrEqual(300);
  });
});
