/**
 * How the CLI shows progress: listr2 on a terminal (one task per operation, updated live),
 * plain lines otherwise (one line per state change, as `docker compose` prints to a pipe).
 */
import { Listr, type ListrTaskWrapper } from 'listr2';
import type { Progress } from '../apply/up.js';

export interface ProgressItem {
  id: string;
  title: string;
}

export interface CliProgress extends Progress {
  /** waits until the renderer has drawn the final state */
  finish(): Promise<void>;
}

const isTty = (): boolean => !!process.stderr.isTTY && process.env.TERM !== 'dumb' && !process.env.CI;

/** A progress for the given operations; `items` may be empty (everything then prints plainly). */
export function createProgress(items: ProgressItem[] = [], opts: { quiet?: boolean } = {}): CliProgress {
  if (opts.quiet) return new QuietProgress();
  if (isTty() && items.length > 0) return new ListrProgress(items);
  return new PlainProgress();
}

class QuietProgress implements CliProgress {
  begin(): void {}
  update(): void {}
  done(): void {}
  fail(): void {}
  skip(): void {}
  warn(text: string): void {
    process.stderr.write(`warning: ${text}\n`);
  }
  async finish(): Promise<void> {}
}

export class PlainProgress implements CliProgress {
  private titles = new Map<string, string>();
  private last = new Map<string, string>();
  constructor(private readonly out: NodeJS.WritableStream = process.stderr) {}
  private line(id: string, mark: string, text: string): void {
    const title = this.titles.get(id) ?? id;
    if (this.last.get(id) === text) return;
    this.last.set(id, text);
    this.out.write(` ${mark} ${title}  ${text}\n`);
  }
  begin(id: string, title: string): void {
    this.titles.set(id, title);
  }
  update(id: string, text: string): void {
    this.line(id, ' ', text);
  }
  done(id: string, text: string): void {
    this.line(id, '✔', text);
  }
  fail(id: string, text: string): void {
    this.line(id, '✘', text);
  }
  skip(id: string, text: string): void {
    this.line(id, '-', `Skipped: ${text}`);
  }
  warn(text: string): void {
    this.out.write(`warning: ${text}\n`);
  }
  async finish(): Promise<void> {}
}

interface Slot {
  title: string;
  task?: ListrTaskWrapper<unknown, never, never>;
  settle?: { resolve: () => void; reject: (e: Error) => void };
  outcome?: { kind: 'done' | 'fail' | 'skip'; text: string };
  pending: string[];
}

class ListrProgress implements CliProgress {
  private slots = new Map<string, Slot>();
  private plain = new PlainProgress();
  private running: Promise<void>;
  private warnings: string[] = [];

  constructor(items: ProgressItem[]) {
    for (const it of items) this.slots.set(it.id, { title: it.title, pending: [] });
    const listr = new Listr(
      items.map((it) => ({
        title: it.title,
        task: (_ctx: unknown, task: ListrTaskWrapper<unknown, never, never>) =>
          new Promise<void>((resolve, reject) => {
            const slot = this.slots.get(it.id)!;
            slot.task = task;
            slot.settle = { resolve, reject };
            for (const t of slot.pending) task.title = `${slot.title}  ${t}`;
            if (slot.outcome) this.settle(it.id);
          }),
      })),
      { concurrent: true, exitOnError: false, rendererOptions: { collapseErrors: false, showErrorMessage: true } as never },
    );
    this.running = listr.run().then(
      () => undefined,
      () => undefined,
    );
  }

  private settle(id: string): void {
    const slot = this.slots.get(id)!;
    if (!slot.task || !slot.settle || !slot.outcome) return;
    const { kind, text } = slot.outcome;
    if (kind === 'done') {
      slot.task.title = `${slot.title}  ${text}`;
      slot.settle.resolve();
    } else if (kind === 'skip') {
      slot.task.skip(text);
      slot.settle.resolve();
    } else {
      slot.settle.reject(new Error(text));
    }
  }

  begin(id: string, title: string): void {
    const slot = this.slots.get(id);
    if (!slot) return this.plain.begin(id, title);
  }
  update(id: string, text: string): void {
    const slot = this.slots.get(id);
    if (!slot) return this.plain.update(id, text);
    if (slot.task) slot.task.title = `${slot.title}  ${text}`;
    else slot.pending.push(text);
  }
  done(id: string, text: string): void {
    const slot = this.slots.get(id);
    if (!slot) return this.plain.done(id, text);
    slot.outcome = { kind: 'done', text };
    this.settle(id);
  }
  fail(id: string, text: string): void {
    const slot = this.slots.get(id);
    if (!slot) return this.plain.fail(id, text);
    slot.outcome = { kind: 'fail', text };
    this.settle(id);
  }
  skip(id: string, text: string): void {
    const slot = this.slots.get(id);
    if (!slot) return this.plain.skip(id, text);
    slot.outcome = { kind: 'skip', text };
    this.settle(id);
  }
  warn(text: string): void {
    this.warnings.push(text);
  }
  async finish(): Promise<void> {
    for (const [id, slot] of this.slots) {
      if (!slot.outcome) {
        slot.outcome = { kind: 'skip', text: 'not run' };
        this.settle(id);
      }
    }
    await this.running;
    for (const w of this.warnings) process.stderr.write(`warning: ${w}\n`);
  }
}
