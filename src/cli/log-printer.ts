/**
 * Prints containers' log entries with a coloured `name  | ` prefix, as `docker compose logs`:
 * the name is the container's without its `<project>-` prefix (`web-1`), unless it has a name
 * of its own (container_name, one-off `run` containers); padded to the longest name plus one.
 */
import type { LogEntry } from '../supervisor/types.js';

/** Compose's getContainerNameWithoutProject: `<project>-<service>-<n>` → `<service>-<n>`. */
export function logName(project: string, c: { name: string; service: string; number: number; oneOff?: boolean }): string {
  const def = `${project}-${c.service}-${c.number}`;
  return !c.oneOff && c.name === def ? c.name.slice(project.length + 1) : c.name;
}

const COLORS = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94];

export class LogPrinter {
  private width = 0;
  private colorOf = new Map<string, number>();
  private corked = false;
  private draining: Promise<void> | undefined;
  private readonly color: boolean;

  constructor(
    names: string[],
    private readonly opts: { timestamps?: boolean; noPrefix?: boolean; noColor?: boolean; label?: (container: string) => string } = {},
    private readonly out: NodeJS.WritableStream = process.stdout,
  ) {
    this.color = !opts.noColor && !!(out as NodeJS.WriteStream).isTTY && !process.env.NO_COLOR;
    for (const n of names) this.add(n);
  }

  private label(name: string): string {
    return this.opts.label?.(name) ?? name;
  }

  add(name: string): void {
    if (!this.colorOf.has(name)) this.colorOf.set(name, COLORS[this.colorOf.size % COLORS.length]!);
    this.width = Math.max(this.width, this.label(name).length);
  }

  prefix(name: string): string {
    if (this.opts.noPrefix) return '';
    const p = `${this.label(name).padEnd(this.width)}  | `;
    return this.color ? `\x1b[${this.colorOf.get(name) ?? 0}m${p}\x1b[0m` : p;
  }

  /** Prints an entry; returns a promise while the output's buffer is full (settled once it drained). */
  print(name: string, e: LogEntry): Promise<void> | undefined {
    this.add(name);
    let text = e.log.endsWith('\n') ? e.log.slice(0, -1) : e.log;
    if (this.opts.timestamps) text = `${e.time} ${text}`;
    this.write(`${this.prefix(name)}${text}\n`);
    return this.drained();
  }

  /** undefined while the output takes more; else settles once its buffer drained */
  private drained(): Promise<void> | undefined {
    const out = this.out as NodeJS.WritableStream & { writableNeedDrain?: boolean };
    if (!out.writableNeedDrain) return undefined;
    this.draining ??= new Promise<void>((r) => out.once('drain', r)).finally(() => (this.draining = undefined));
    return this.draining;
  }

  /**
   * The lines printed in one tick leave in one write (corked until the next tick): a followed
   * container printing 100,000 lines a second costs a few system calls, not one per line.
   */
  private write(text: string): void {
    const out = this.out as NodeJS.WritableStream & Partial<Pick<NodeJS.WriteStream, 'cork' | 'uncork'>>;
    if (!this.corked && out.cork && out.uncork) {
      this.corked = true;
      out.cork();
      process.nextTick(() => {
        this.corked = false;
        out.uncork!();
      });
    }
    out.write(text);
  }

  note(name: string, text: string): void {
    this.write(`${this.prefix(name)}${text}\n`);
  }
}
