/**
 * The client's side of an attached run (`run-attached`, protocol.ts): one connection that
 * carries the request, then the container's output one way and the client's stdin, terminal
 * size and signals the other, and ends with the container's exit.
 */
import net from 'node:net';
import { TscError } from '../common/errors.js';
import { socketAddress, socketError } from './paths.js';
import { checkResponse, encode, fromWireError, LineDecoder, type AttachedExit, type AttachInput, type AttachOptions } from './protocol.js';
import type { RunConfig } from './types.js';

export interface AttachHandlers {
  /** the container wrote `data`; return false to have the relay wait for `resume()` */
  onOutput(stream: 'stdout' | 'stderr', data: Buffer): boolean | void;
  /** the container runs */
  onStarted?(pid: number): void;
}

/** A running attached container, as its client drives it. */
export interface AttachedRun {
  /** settles with the container's exit (after all its output was handed to onOutput) */
  readonly exit: Promise<AttachedExit>;
  /** bytes for the container's stdin; false when the connection's buffer is full (wait for onDrain) */
  stdin(data: Buffer): boolean;
  /** the client's stdin ended: the container reads EOF (without a terminal) */
  closeStdin(): void;
  resize(rows: number, cols: number): void;
  /** a signal for the container's first process */
  signal(signal: string): void;
  /** calls `fn` once the connection's buffer drained */
  onDrain(fn: () => void): void;
  /** reads output again after onOutput returned false */
  resume(): void;
  /** hangs up: the container goes on detached (with autoRemove, it is killed and removed) */
  hangUp(): void;
}

export function openAttachedRun(
  socketPath: string,
  project: string,
  id: number,
  config: RunConfig,
  opts: AttachOptions,
  handlers: AttachHandlers,
): AttachedRun {
  const addr = socketAddress(socketPath);
  const sock = net.connect(addr.address);
  let settled = false;
  let resolveExit!: (e: AttachedExit) => void;
  let rejectExit!: (err: Error) => void;
  const exit = new Promise<AttachedExit>((res, rej) => {
    resolveExit = res;
    rejectExit = rej;
  });
  const finish = (err: Error | null, value?: AttachedExit): void => {
    if (settled) return;
    settled = true;
    addr.release();
    sock.destroy();
    if (err) rejectExit(err);
    else resolveExit(value!);
  };
  const send = (msg: AttachInput): boolean => (settled || sock.destroyed ? true : sock.write(encode(msg)));
  sock.setEncoding('utf8');
  const decoder = new LineDecoder(
    (raw) => {
      let msg;
      try {
        msg = checkResponse(raw, 'run-attached');
      } catch (err) {
        return finish(err as Error);
      }
      if (msg.id !== id && msg.id !== -1) return;
      if (msg.type === 'output') {
        if (handlers.onOutput(msg.stream, Buffer.from(msg.data, 'base64')) === false) sock.pause();
      } else if (msg.type === 'started') handlers.onStarted?.(msg.pid);
      else if (msg.type === 'result') finish(null, msg.result as AttachedExit);
      else if (msg.type === 'error') finish(fromWireError(msg.error));
    },
    (line) => finish(new TscError('SUPERVISOR', `the supervisor sent a malformed line: ${line.slice(0, 200)}`)),
  );
  // written now: the socket keeps it, and any input sent before the connection is up, in order
  sock.write(encode({ type: 'run-attached', id, config, attach: opts }));
  sock.on('data', (chunk: string) => decoder.push(chunk));
  sock.on('error', (err: NodeJS.ErrnoException) => finish(socketError(project, socketPath, err)));
  sock.on('close', () =>
    finish(
      new TscError('SUPERVISOR', `the supervisor of project ${project} closed the connection before container ${config.spec.id} exited`, {
        hint: `see its log in ${socketPath.replace(/supervisor\.sock$/, 'supervisor.log')}`,
      }),
    ),
  );
  return {
    exit,
    stdin: (data) => send({ type: 'stdin', id, data: data.toString('base64') }),
    closeStdin: () => void send({ type: 'stdin-close', id }),
    resize: (rows, cols) => void send({ type: 'resize', id, rows, cols }),
    signal: (signal) => void send({ type: 'signal', id, signal }),
    onDrain: (fn) => {
      if (settled || sock.destroyed || !sock.writableNeedDrain) return fn();
      sock.once('drain', fn);
    },
    resume: () => sock.resume(),
    hangUp: () => finish(new TscError('SUPERVISOR', `detached from container ${config.spec.id}`)),
  };
}
