/**
 * The supervisor's socket server: takes the project's supervisor lock (flock on supervisor.pid,
 * released by the kernel when the process dies, so a stale pid file or socket is simply
 * replaced), re-adopts running containers, then serves the protocol on supervisor.sock.
 */
import { chmodSync, closeSync, ftruncateSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import net from 'node:net';
import { TscError } from '../common/errors.js';
import type { AttachLink } from './attach.js';
import {
  checkAttachInput,
  checkRequest,
  encode,
  encodeLogLines,
  isAttachInput,
  LineDecoder,
  toWireError,
  type AttachInput,
  type Request,
  type Response,
  type ResultMap,
} from './protocol.js';
import { socketAddress } from './paths.js';
import type { LogSink } from './queries.js';
import { Supervisor, type SupervisorOptions } from './supervisor.js';
import type { SupervisorEvent } from './types.js';
import { tryLockExclusive } from '../sys/flock.js';

export interface SupervisorServer {
  supervisor: Supervisor;
  /** settles when the server has shut down (after a shutdown request or close()) */
  closed: Promise<void>;
  /** stops serving; containers keep running and can be re-adopted */
  close(): Promise<void>;
}

export async function runSupervisor(opts: SupervisorOptions): Promise<SupervisorServer> {
  const sup = new Supervisor(opts);
  const { paths } = sup;
  const log = opts.log ?? (() => {});
  mkdirSync(paths.dir, { recursive: true });
  const lockFd = openSync(paths.pidFile, 'a+', 0o644);
  if (!tryLockExclusive(lockFd, `locking ${paths.pidFile}`)) {
    closeSync(lockFd);
    throw new TscError('SUPERVISOR', `another supervisor already runs for project ${opts.project} (lock ${paths.pidFile} is held)`);
  }
  ftruncateSync(lockFd, 0);
  writeSync(lockFd, `${process.pid}\n`, 0);

  const adopted = await sup.adopt();
  if (adopted.length) log(`re-adopted ${adopted.length} running container(s): ${adopted.join(', ')}`);

  rmSync(paths.socket, { force: true }); // stale: we hold the lock, so nobody serves it
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => serveConnection(sock));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new TscError('SUPERVISOR', `cannot listen on ${paths.socket}: ${err.message}`, { cause: err })));
    const addr = socketAddress(paths.socket);
    server.once('listening', () => addr.release());
    server.once('error', () => addr.release());
    server.listen(addr.address, () => resolve());
  });
  chmodSync(paths.socket, 0o600); // the socket starts and stops containers: root only
  server.on('error', (err) => log(`socket server error: ${err.message}`));

  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      server.close();
      for (const s of sockets) s.destroy();
      await sup.close();
      rmSync(paths.socket, { force: true });
      // The lock file stays (emptied): unlinking it would let a starting supervisor lock a new
      // inode while this one still holds the old.
      ftruncateSync(lockFd, 0);
      closeSync(lockFd);
      resolveClosed();
    })();
    return closing;
  };

  function serveConnection(sock: net.Socket): void {
    sockets.add(sock);
    const aborts = new Set<AbortController>();
    sock.setEncoding('utf8');
    const send = (msg: Response): boolean => {
      if (sock.destroyed || !sock.writable) return true;
      return sock.write(encode(msg));
    };
    const link = connectionLink(sock, send);
    const decoder = new LineDecoder(
      (msg) => void handle(msg),
      (line) => send({ type: 'error', id: -1, error: { code: 'SUPERVISOR', message: `malformed request line: ${line.slice(0, 200)}` } }),
    );
    sock.on('data', (chunk: string) => decoder.push(chunk));
    sock.on('error', () => {});
    sock.on('close', () => {
      sockets.delete(sock);
      for (const a of aborts) a.abort();
    });

    async function handle(raw: unknown): Promise<void> {
      const id = typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : -1;
      try {
        if (isAttachInput(raw)) {
          const input = checkAttachInput(raw);
          link.routes.get(input.id)?.(input);
          return;
        }
        const req = checkRequest(raw);
        sup.flushRecords();
        const result = await dispatch(
          req,
          {
            lines(jsonLines) {
              const { text, count } = encodeLogLines(id, jsonLines);
              if (!sock.destroyed && sock.writable) sock.write(text);
              return count;
            },
            drained: () => (sock.writableNeedDrain && !sock.destroyed ? new Promise((r) => link.onDrain(r)) : undefined),
          },
          aborts,
          (event) => send({ type: 'event', id, event }),
          link,
        );
        if (req.type === 'logs' || req.type === 'events') send({ type: 'end', id });
        else send({ type: 'result', id, result });
        if (req.type === 'shutdown') {
          sock.end();
          setImmediate(() => void close());
        }
      } catch (err) {
        send({ type: 'error', id, error: toWireError(err) });
      }
    }
  }

  async function dispatch(
    req: Request,
    logSink: LogSink,
    aborts: Set<AbortController>,
    sendEvent: (e: SupervisorEvent) => void,
    link: AttachLink,
  ): Promise<ResultMap[keyof ResultMap]> {
    switch (req.type) {
      case 'ping':
        return { pid: process.pid, project: opts.project, root: opts.root, version: 1 };
      case 'run': {
        const status = await sup.runContainer(req.config);
        return { pid: status.pid!, startTime: status.startTime!, status };
      }
      case 'run-attached':
        return sup.runAttached(req.config, req.attach, link, req.id);
      case 'start': {
        const status = await sup.start(req.container);
        return { pid: status.pid!, startTime: status.startTime!, status };
      }
      case 'stop':
        return sup.stop(req.container, req.signal, req.timeoutMs);
      case 'kill':
        return sup.kill(req.container, req.signal);
      case 'pause':
        return sup.pause(req.container);
      case 'unpause':
        return sup.unpause(req.container);
      case 'remove':
        await sup.remove(req.container, req.force === true);
        return { removed: req.container };
      case 'remove-many':
        return { results: await sup.removeMany(req.containers, { signal: req.signal, timeoutMs: req.timeoutMs }) };
      case 'inspect':
        return sup.inspect(req.container);
      case 'list':
        return sup.list();
      case 'wait-for':
        return sup.waitFor(req.container, req.condition, req.timeoutMs);
      case 'logs': {
        const ac = new AbortController();
        aborts.add(ac);
        try {
          const entries = await sup.logs(req.container, req, logSink, ac.signal);
          return { entries };
        } finally {
          aborts.delete(ac);
        }
      }
      case 'events': {
        const ac = new AbortController();
        aborts.add(ac);
        let entries = 0;
        await sup.events((e) => {
          entries++;
          sendEvent(e);
        }, ac.signal);
        aborts.delete(ac);
        return { entries };
      }
      case 'shutdown': {
        const running = sup.runningContainers();
        if (running.length && !req.force) {
          throw new TscError('SUPERVISOR', `the supervisor of project ${opts.project} still owns running containers: ${running.join(', ')}`, {
            hint: 'stop them first, or shut down with force (they keep running and a new supervisor re-adopts them)',
          });
        }
        return { exiting: true };
      }
      default:
        throw new TscError('SUPERVISOR', `unknown request type "${(req as { type?: unknown }).type}"`);
    }
  }

  return { supervisor: sup, closed, close };
}

/** A connection as attached runs see it (attach.ts), with where its input messages go, by request id. */
function connectionLink(sock: net.Socket, send: (msg: Response) => boolean): AttachLink & { routes: Map<number, (msg: AttachInput) => void> } {
  let paused = 0;
  const routes = new Map<number, (msg: AttachInput) => void>();
  return {
    routes,
    route(requestId, to) {
      routes.set(requestId, to);
      return () => routes.delete(requestId);
    },
    send,
    onDrain(fn) {
      if (sock.destroyed) return fn();
      const done = (): void => {
        sock.off('drain', done);
        sock.off('close', done);
        fn();
      };
      sock.on('drain', done);
      sock.on('close', done);
    },
    pauseInput() {
      if (paused++ === 0) sock.pause();
    },
    resumeInput() {
      if (paused > 0 && --paused === 0) sock.resume();
    },
    onClose(fn) {
      if (sock.destroyed) fn();
      else sock.once('close', fn);
    },
    get closed() {
      return sock.destroyed;
    },
  };
}
