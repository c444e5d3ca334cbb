/**
 * An attached run's stdio (daemon side): the container's stdin, stdout and stderr relayed over
 * the client's connection (`run-attached`, protocol.ts), as `docker attach` relays them over
 * its API. Without a terminal the container writes to its usual FIFOs (the log keeps the
 * output too) and reads a stdin FIFO whose only writer is this relay, so the client's EOF
 * becomes the container's; with one, it gets the slave of a pseudo-terminal sized as the
 * client's, and the relay reads and writes the master (Ctrl-C is a byte the terminal turns
 * into SIGINT for the container's foreground process group).
 *
 * Flow control: when the client stops reading, its connection's buffer fills and the relay
 * stops reading this container's output (the container then blocks on a full pipe, as under
 * Docker); other containers are not affected. The client's stdin waits likewise for the
 * container to read.
 */
import { constants as fsConstants, openSync } from 'node:fs';
import net from 'node:net';
import tty from 'node:tty';
import { mkfifo } from '../sys/fifo.js';
import { openPty, setWindowSize, type Pty } from '../sys/pty.js';
import type { AttachInput, AttachOptions, Response } from './protocol.js';

/** The client's connection as an attached run sees it (server.ts). */
export interface AttachLink {
  /** sends a message; false once the connection's buffer is past its high-water mark */
  send(msg: Response): boolean;
  /** calls `fn` once the buffer has drained (or the connection closed) */
  onDrain(fn: () => void): void;
  /** stops / resumes reading the client's messages (its stdin waits for the container) */
  pauseInput(): void;
  resumeInput(): void;
  /** the client hung up (or the connection failed) */
  onClose(fn: () => void): void;
  readonly closed: boolean;
  /** sends the client's input messages for request `requestId` to `to`, until the returned function is called */
  route(requestId: number, to: (msg: AttachInput) => void): () => void;
}

export class Attachment {
  private readers: net.Socket[] = [];
  private stdin: net.Socket | null = null;
  private pty: Pty | null = null;
  private held = false;
  private detached = false;
  private exitSeen!: () => void;
  /** settles once the container's exit has been recorded (its output drained) */
  readonly exited = new Promise<void>((r) => (this.exitSeen = r));

  constructor(
    readonly link: AttachLink,
    /** the run-attached request's id, echoed by every message */
    readonly requestId: number,
    readonly opts: AttachOptions,
    /** a signal for the container's first process */
    private readonly signal: (sig: string) => void,
  ) {}

  /**
   * The container's stdin without a terminal: a FIFO whose one writer is this relay (opened
   * read-write, so neither open blocks). Returns the read end for the container; the caller
   * closes it once the container holds its own.
   */
  openStdin(fifo: string): number {
    mkfifo(fifo);
    const writer = openSync(fifo, fsConstants.O_RDWR);
    const w = new net.Socket({ fd: writer, readable: false, writable: true });
    w.on('error', () => {});
    this.stdin = w;
    return openSync(fifo, fsConstants.O_RDONLY);
  }

  /**
   * A pseudo-terminal of the client's size: the slave for the container (the caller closes it
   * once the container holds its own), the master for the relay to read (its output) and write
   * (its input).
   */
  openTerminal(): { slave: number; master: net.Socket } {
    const size = this.opts.tty ?? { rows: 24, cols: 80 };
    const pty = openPty();
    this.pty = pty;
    setWindowSize(pty.master, size.rows, size.cols);
    const master = new tty.ReadStream(pty.master);
    this.stdin = master;
    return { slave: pty.slave, master };
  }

  /** The readers of the container's output, held back when the client stops reading. */
  setReaders(readers: net.Socket[]): void {
    this.readers = readers;
  }

  /** Relays output the container wrote (called by the log pump for every chunk). */
  output(stream: 'stdout' | 'stderr', data: Buffer): void {
    if (this.detached || this.link.closed) return;
    const more = this.link.send({ type: 'output', id: this.requestId, stream, data: data.toString('base64') });
    if (more || this.held) return;
    this.held = true;
    for (const r of this.readers) r.pause();
    this.link.onDrain(() => this.release());
  }

  /** Whether output reading is held back because the client is not reading. */
  isHeld(): boolean {
    return this.held;
  }

  private release(): void {
    if (!this.held) return;
    this.held = false;
    for (const r of this.readers) if (!r.destroyed) r.resume();
  }

  /** A message from the client while the container runs. */
  input(msg: AttachInput): void {
    if (this.detached) return;
    switch (msg.type) {
      case 'stdin': {
        const w = this.stdin;
        if (!w || w.destroyed || w.writableEnded) return;
        if (!w.write(Buffer.from(msg.data, 'base64'))) {
          this.link.pauseInput();
          w.once('drain', () => this.link.resumeInput());
          w.once('close', () => this.link.resumeInput());
        }
        return;
      }
      case 'stdin-close':
        // with a terminal, closing would hang it up: Docker ignores the client's EOF there too
        if (!this.pty) this.closeStdin();
        return;
      case 'resize':
        if (this.pty && msg.rows > 0 && msg.cols > 0) setWindowSize(this.pty.master, msg.rows, msg.cols);
        return;
      case 'signal':
        this.signal(msg.signal);
        return;
    }
  }

  /** The client went away: output goes to the log only, stdin reaches EOF. */
  detach(): void {
    this.detached = true;
    this.release();
    if (!this.pty) this.closeStdin();
  }

  /** The container's exit is recorded: nothing more to relay in. */
  exit(): void {
    this.closeStdin();
    this.exitSeen();
  }

  /** The container did not start: closes what open*() made. */
  abort(): void {
    const master = this.pty ? this.stdin : null;
    this.closeStdin();
    master?.destroy();
    for (const r of this.readers) r.destroy();
    this.exitSeen();
  }

  private closeStdin(): void {
    const w = this.stdin;
    this.stdin = null;
    // the terminal's master is also the output reader: the log pump closes it after the drain
    if (w && !this.pty) w.destroy();
  }
}
