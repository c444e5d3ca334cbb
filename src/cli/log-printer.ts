/** Prints containers' log entries with a coloured `name  |` prefix, as `docker compose logs`. */
import type { LogEntry } from '../supervisor/types.js';

const COLORS = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94];

export class LogPrinter {
  private width = 0;
  private colorOf = new Map<string, number>();
  private readonly color: boolean;

  constructor(
    names: string[],
    private readonly opts: { timestamps?: boolean; noPrefix?: boolean; noColor?: boolean } = {},
    private readonly out: NodeJS.WritableStream = process.stdout,
  ) {
    this.color = !opts.noColor && !!(out as NodeJS.WriteStream).isTTY && !process.env.NO_COLOR;
    for (const n of names) this.add(n);
  }

  add(name: string): void {
    if (!this.colorOf.has(name)) this.colorOf.set(name, COLORS[this.colorOf.size % COLORS.length]!);
    this.width = Math.max(this.width, name.length);
  }

  prefix(name: string): string {
    if (this.opts.noPrefix) return '';
    const p = `${name.padEnd(this.width)}  | `;
    return this.color ? `\x1b[${this.colorOf.get(name) ?? 0}m${p}\x1b[0m` : p;
  }

  print(name: string, e: LogEntry): void {
    this.add(name);
    let text = e.log.endsWith('\n') ? e.log.slice(0, -1) : e.log;
    if (this.opts.timestamps) text = `${e.time} ${text}`;
    this.out.write(`${this.prefix(name)}${text}\n`);
  }

  note(name: string, text: string): void {
    this.out.write(`${this.prefix(name)}${text}\n`);
  }
}
