/**
 * How a build shows: on a terminal one listr2 task per service (its title the step being run,
 * the last lines of the step list and RUN output beneath it); otherwise plain lines prefixed
 * with the service, as `docker compose build --progress=plain` prints:
 *
 *     app  #2 [2/4] RUN make
 *     app  #2 cc -o app main.c
 *     app  #2 DONE 1.2s
 *     app  #3 [3/4] COPY . /src
 *     app  #3 CACHED
 *
 * `-q` shows nothing (errors are printed by the reporter when the command fails).
 */
import { Listr, type ListrTaskWrapper } from 'listr2';
import type { BuildReporter } from '../apply/build.js';
import type { BuildEvent, BuildResult } from '../build/index.js';

export interface CliBuildReporter extends BuildReporter {
  /** waits until the renderer has drawn the final state */
  finish(): Promise<void>;
}

const isTty = (): boolean => !!process.stderr.isTTY && process.env.TERM !== 'dumb' && !process.env.CI;

/** Lines kept under a service's task on a terminal. */
const OUTPUT_LINES = 8;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** The lines one event becomes (shared by both renderers). */
export function eventLines(e: BuildEvent): string[] {
  switch (e.kind) {
    case 'step-start':
      // a named stage shows as BuildKit shows it (`[build 2/4]`); an unnamed one (`stage-0`) does not
      return [`#${e.step} [${e.stage && !/^stage-\d+$/.test(e.stage) ? `${e.stage} ` : ''}${e.step}/${e.total}] ${e.text}`];
    case 'step-output':
      return [`#${e.step} ${e.line}`];
    case 'step-done':
      return [`#${e.step} ${e.cached ? 'CACHED' : `DONE ${seconds(e.ms)}`}`];
    case 'done':
      return [];
  }
}

function summary(r: BuildResult, ms: number): string {
  return `Built ${r.image.id.replace(/^sha256:/, '').slice(0, 12)} (${r.ran} steps run, ${r.cached} cached, ${seconds(ms)})`;
}

/** A build reporter for the given services (those that will be built). */
export function createBuildReporter(services: string[], opts: { quiet?: boolean } = {}): CliBuildReporter {
  if (opts.quiet) return new QuietBuildReporter();
  if (isTty() && services.length > 0) return new ListrBuildReporter(services);
  return new PlainBuildReporter();
}

class QuietBuildReporter implements CliBuildReporter {
  begin(): void {}
  event(): void {}
  done(): void {}
  fail(): void {}
  warn(): void {}
  async finish(): Promise<void> {}
}

export class PlainBuildReporter implements CliBuildReporter {
  private started = new Map<string, number>();
  private width = 0;
  constructor(private readonly out: NodeJS.WritableStream = process.stderr) {}
  private line(service: string, text: string): void {
    this.width = Math.max(this.width, service.length);
    this.out.write(`${service.padEnd(this.width)}  ${text}\n`);
  }
  begin(service: string, image: string): void {
    this.started.set(service, Date.now());
    this.line(service, `Building ${image}`);
  }
  event(service: string, e: BuildEvent): void {
    for (const l of eventLines(e)) this.line(service, l);
  }
  done(service: string, r: BuildResult): void {
    this.line(service, summary(r, Date.now() - (this.started.get(service) ?? Date.now())));
  }
  fail(service: string, err: unknown): void {
    this.line(service, `Build failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  warn(text: string): void {
    this.out.write(`warning: ${text}\n`);
  }
  async finish(): Promise<void> {}
}

interface Slot {
  task?: ListrTaskWrapper<unknown, never, never>;
  settle?: { resolve: () => void; reject: (e: Error) => void };
  outcome?: { ok: boolean; text: string };
  title: string;
  lines: string[];
  started: number;
}

class ListrBuildReporter implements CliBuildReporter {
  private slots = new Map<string, Slot>();
  private running: Promise<void>;
  private warnings: string[] = [];

  constructor(services: string[]) {
    for (const s of services) this.slots.set(s, { title: 'Waiting', lines: [], started: Date.now() });
    const listr = new Listr(
      services.map((s) => ({
        title: `Service ${s}  Waiting`,
        rendererOptions: { outputBar: OUTPUT_LINES, persistentOutput: false } as never,
        task: (_ctx: unknown, task: ListrTaskWrapper<unknown, never, never>) =>
          new Promise<void>((resolve, reject) => {
            const slot = this.slots.get(s)!;
            slot.task = task;
            slot.settle = { resolve, reject };
            this.draw(s);
          }),
      })),
      { concurrent: true, exitOnError: false, rendererOptions: { collapseErrors: false, showErrorMessage: true } as never },
    );
    this.running = listr.run().then(
      () => undefined,
      () => undefined,
    );
  }

  private draw(service: string): void {
    const slot = this.slots.get(service)!;
    if (!slot.task) return;
    slot.task.title = `Service ${service}  ${slot.title}`;
    for (const l of slot.lines.splice(0)) slot.task.output = l;
    if (slot.outcome && slot.settle) {
      if (slot.outcome.ok) slot.settle.resolve();
      else slot.settle.reject(new Error(slot.outcome.text));
      slot.settle = undefined;
    }
  }

  begin(service: string, image: string): void {
    const slot = this.slots.get(service);
    if (!slot) return;
    slot.started = Date.now();
    slot.title = `Building ${image}`;
    this.draw(service);
  }
  event(service: string, e: BuildEvent): void {
    const slot = this.slots.get(service);
    if (!slot) return;
    if (e.kind === 'step-start') slot.title = `Building  [${e.step}/${e.total}] ${e.text}`;
    slot.lines.push(...eventLines(e));
    this.draw(service);
  }
  done(service: string, r: BuildResult): void {
    const slot = this.slots.get(service);
    if (!slot) return;
    slot.title = summary(r, Date.now() - slot.started);
    slot.outcome = { ok: true, text: slot.title };
    this.draw(service);
  }
  fail(service: string, err: unknown): void {
    const slot = this.slots.get(service);
    if (!slot) return;
    slot.title = 'Build failed';
    slot.outcome = { ok: false, text: err instanceof Error ? err.message.split('\n')[0]! : String(err) };
    this.draw(service);
  }
  warn(text: string): void {
    this.warnings.push(text);
  }
  async finish(): Promise<void> {
    for (const [s, slot] of this.slots) {
      if (!slot.outcome) {
        slot.title = 'Not built';
        slot.outcome = { ok: true, text: 'not built' };
        this.draw(s);
      }
    }
    await this.running;
    for (const w of this.warnings) process.stderr.write(`warning: ${w}\n`);
  }
}
