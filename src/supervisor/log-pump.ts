/**
 * A container's output: the FIFOs it writes to, the readers that pump them into its json log
 * (and to `logs --follow` followers), and the drain after its exit.
 */
import { constants as fsConstants, closeSync, openSync } from 'node:fs';
import net from 'node:net';
import { growPipe, mkfifo } from '../sys/fifo.js';
import { LineSplitter } from './logs.js';
import type { SupervisorCore } from './core.js';
import type { Managed, RunHandle } from './managed.js';
import type { LogEntry } from './types.js';

/** how long output still in the FIFOs is read after the container's process exited */
export const DRAIN_MS = 300;
/** FIFO buffer asked for each output stream (the kernel caps it at fs.pipe-max-size) */
const PIPE_BYTES = 1024 * 1024;

export interface ContainerFifos {
  stdout: number;
  stderr: number;
  stdin?: number;
  /** closes our copies once the container holds its own */
  close(): void;
}

/**
 * Makes the container's FIFOs and opens them read-write for it: a FIFO opened so never blocks
 * on open, and a write never raises SIGPIPE even when no supervisor is reading.
 */
export function openContainerFifos(m: Managed): ContainerFifos {
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
  if (p.openStdin || p.tty) {
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

/** A reader of one output FIFO that writes each line to the container's log. */
export function openReader(core: SupervisorCore, m: Managed, stream: 'stdout' | 'stderr'): net.Socket {
  const fifo = stream === 'stdout' ? m.files.stdoutFifo : m.files.stderrFifo;
  const fd = openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  const sock = new net.Socket({ fd, readable: true, writable: false });
  // the lines of one read are written to the log in one batch
  let batch: LogEntry[] = [];
  const splitter = new LineSplitter(stream, (e) => batch.push(e));
  const write = () => {
    const entries = batch;
    batch = [];
    if (entries.length) writeLog(core, m, entries);
  };
  sock.on('data', (b: Buffer) => {
    splitter.push(b);
    write();
  });
  sock.on('end', () => {
    splitter.flush();
    write();
  });
  sock.on('close', () => {
    splitter.flush();
    write();
  });
  sock.on('error', (err) => core.log(`container ${m.config.spec.id}: reading ${stream} failed: ${err.message}`));
  return sock;
}

function writeLog(core: SupervisorCore, m: Managed, entries: LogEntry[]): void {
  if (!m.writer || m.logOpts.driver === 'none') return;
  try {
    m.writer.writeMany(entries);
  } catch (err) {
    core.log(`container ${m.config.spec.id}: ${(err as Error).message}`);
  }
  for (const e of entries) for (const f of m.followers) f(e);
}

/** Reads what the container wrote before it exited, up to EOF or DRAIN_MS. */
export async function drain(run: RunHandle): Promise<void> {
  await Promise.all(
    run.readers.map(
      (r) =>
        new Promise<void>((resolve) => {
          if (r.destroyed || r.readableEnded) return resolve();
          const t = setTimeout(() => {
            r.destroy();
            resolve();
          }, DRAIN_MS);
          r.once('close', () => {
            clearTimeout(t);
            resolve();
          });
          r.once('end', () => {
            clearTimeout(t);
            r.destroy();
            resolve();
          });
        }),
    ),
  );
}
