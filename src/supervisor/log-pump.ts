/**
 * A container's output: the FIFOs it writes to, the readers that pump them into its json log
 * (and to `logs --follow` followers), and the drain after its exit.
 */
import { constants as fsConstants, closeSync, openSync } from 'node:fs';
import net from 'node:net';
import { growPipe, mkfifo } from '../sys/fifo.js';
import { LogEncoder } from './logs.js';
import type { SupervisorCore } from './core.js';
import type { Managed, RunHandle } from './managed.js';

/** how long output still in the FIFOs is read after the container's process exited */
export const DRAIN_MS = 300;
/** FIFO buffer asked for each output stream (the kernel caps it at fs.pipe-max-size) */
const PIPE_BYTES = 1024 * 1024;

export interface ContainerFifos {
  stdout: number;
  stderr: number;
  stdin?: number;
  /** an attached run's terminal master: the one output to read */
  terminal?: net.Socket;
  /** closes our copies once the container holds its own */
  close(): void;
}

/**
 * Makes the container's FIFOs and opens them read-write for it: a FIFO opened so never blocks
 * on open, and a write never raises SIGPIPE even when no supervisor is reading. An attached
 * run's stdin is its relay's (attach.ts); with a terminal, the pseudo-terminal is all three.
 */
export function openContainerFifos(m: Managed): ContainerFifos {
  const att = m.attach;
  if (att?.opts.tty) {
    const { slave, master } = att.openTerminal();
    return { stdout: slave, stderr: slave, stdin: slave, terminal: master, close: () => closeSync(slave) };
  }
  mkfifo(m.files.stdoutFifo);
  mkfifo(m.files.stderrFifo);
  const stdout = openSync(m.files.stdoutFifo, fsConstants.O_RDWR);
  const stderr = openSync(m.files.stderrFifo, fsConstants.O_RDWR);
  // room for output written while no supervisor reads (a full pipe blocks the writer)
  growPipe(stdout, PIPE_BYTES);
  growPipe(stderr, PIPE_BYTES);
  // stdin_open (and tty, which Compose users rely on to keep a shell waiting): a FIFO the
  // container also holds for writing, so reading it waits forever instead of seeing EOF.
  let stdin: number | undefined;
  const p = m.config.spec.process;
  if (att) stdin = att.openStdin(m.files.stdinFifo);
  else if (p.openStdin || p.tty) {
    mkfifo(m.files.stdinFifo);
    stdin = openSync(m.files.stdinFifo, fsConstants.O_RDWR);
  }
  return {
    stdout,
    stderr,
    stdin,
    close() {
      closeSync(stdout);
      closeSync(stderr);
      if (stdin !== undefined) closeSync(stdin);
    },
  };
}

/** The readers that pump a run's output into its log (and to an attached client). */
export function openReaders(core: SupervisorCore, m: Managed, fifos: ContainerFifos): net.Socket[] {
  const term = fifos.terminal;
  if (term) pump(core, m, 'stdout', term);
  const readers = term ? [term] : [openReader(core, m, 'stdout'), openReader(core, m, 'stderr')];
  m.attach?.setReaders(readers);
  return readers;
}

/** what a reader emits after each read it pumped (drain's sign of output) */
const READ_EVENT = 'pumped';
/** What one read of a FIFO takes at most. */
const READ_BYTES = 64 * 1024;
/**
 * The one buffer every FIFO reader reads into (net.Socket's `onread`): each read is encoded (and
 * relayed) before the next, so no reader needs its own and no read makes a Buffer for the GC
 * to collect; pausing such a reader stops its reads at once.
 */
let readBuffer: Buffer | null = null;

/** A reader of one output FIFO that writes each line to the container's log. */
export function openReader(core: SupervisorCore, m: Managed, stream: 'stdout' | 'stderr'): net.Socket {
  const fifo = stream === 'stdout' ? m.files.stdoutFifo : m.files.stderrFifo;
  const fd = openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  let onChunk = (_b: Buffer): void => {};
  const onread: net.OnReadOpts = {
    buffer: () => (readBuffer ??= Buffer.allocUnsafe(READ_BYTES)),
    callback(n, buf) {
      onChunk(Buffer.from(buf.buffer, buf.byteOffset, n));
      return true;
    },
  };
  // Node takes onread in the constructor too (its types list it for connect() only)
  const sock = new net.Socket({ fd, readable: true, writable: false, onread } as net.SocketConstructorOpts);
  onChunk = pump(core, m, stream, sock);
  return sock;
}

/**
 * Reads one output stream: each read becomes the log's lines (one string, one write) and goes
 * to the followers (which never make it wait: queries.ts), and to an attached client as bytes.
 * The reader pauses after each read until the event loop has gone round (setImmediate), so one
 * loop turn reads at most 64 KiB from each FIFO and control requests are answered between turns
 * however much output waits; an attached client that is not reading holds it (attach.ts).
 */
function pump(core: SupervisorCore, m: Managed, stream: 'stdout' | 'stderr', sock: net.Socket): (chunk: Buffer) => void {
  const encoder = new LogEncoder(stream);
  const attach = m.attach;
  const resume = (): void => {
    if (!sock.destroyed && !attach?.isHeld()) sock.resume();
  };
  const onChunk = (b: Buffer): void => {
    writeLog(core, m, encoder.encode(b));
    attach?.output(stream, b);
    sock.pause();
    setImmediate(resume);
    sock.emit(READ_EVENT);
  };
  // a terminal's reader emits its reads as data; a FIFO reader's onread calls onChunk (and
  // needs a data listener all the same: a stream that never flows never ends)
  sock.on('data', onChunk);
  const end = (): void => writeLog(core, m, encoder.flush());
  sock.on('end', end);
  sock.on('close', end);
  sock.on('error', (err: NodeJS.ErrnoException) => {
    // a terminal's master reads EIO once the container's last process closed the slave: its EOF
    if (err.code !== 'EIO') core.log(`container ${m.config.spec.id}: reading ${stream} failed: ${err.message}`);
  });
  return onChunk;
}

/** Writes json-file lines to the log, then hands them to the followers in the same tick. */
function writeLog(core: SupervisorCore, m: Managed, lines: string): void {
  if (!lines || !m.writer || m.logOpts.driver === 'none') return;
  try {
    m.writer.writeLines(lines);
  } catch (err) {
    core.log(`container ${m.config.spec.id}: ${(err as Error).message}`);
  }
  for (const f of m.followers) f(lines);
}

/**
 * Reads what the container wrote before it exited, up to EOF or `idleMs` without output. While
 * `held()` (an attached client is not reading yet), the wait goes on: its output is not lost.
 */
export async function drain(run: RunHandle, idleMs = DRAIN_MS, held: () => boolean = () => false): Promise<void> {
  await Promise.all(
    run.readers.map(
      (r) =>
        new Promise<void>((resolve) => {
          if (r.destroyed || r.readableEnded) return resolve();
          let t: NodeJS.Timeout;
          const arm = (): void => {
            clearTimeout(t);
            t = setTimeout(() => {
              if (held()) return arm();
              r.destroy();
              done();
            }, idleMs);
          };
          const done = (): void => {
            clearTimeout(t);
            r.off(READ_EVENT, arm);
            resolve();
          };
          arm();
          r.on(READ_EVENT, arm);
          r.once('close', done);
          r.once('end', () => {
            r.destroy();
            done();
          });
        }),
    ),
  );
}
