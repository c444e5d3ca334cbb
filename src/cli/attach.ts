/**
 * An attached run as the person at this terminal sees it: the container's output on this
 * process's stdout/stderr, this process's stdin in the container, and with a terminal, raw
 * mode and its size (followed on resize), so Ctrl-C and the like reach the container as they
 * would reach a local program. The container itself runs in the project's supervisor, which
 * relays its stdio over its socket (src/supervisor/attach-client.ts).
 */
import type { AttachedExit, RunConfig, SupervisorClient } from '../supervisor/index.js';
import { forwardSignals } from './foreground.js';

export interface AttachHere {
  /** a pseudo-terminal for the container (stdin and stdout are terminals here) */
  tty: boolean;
  /** run --rm: removed after its exit; killed and removed when this process goes first */
  autoRemove: boolean;
}

/** Runs the container attached to this process's stdio; resolves with its exit once its output is written. */
export async function runAttachedHere(sup: SupervisorClient, config: RunConfig, opts: AttachHere): Promise<AttachedExit> {
  const { stdin, stdout, stderr } = process;
  const size = (): { rows: number; cols: number } => ({ rows: stdout.rows || 24, cols: stdout.columns || 80 });
  const run = sup.runAttached(
    config,
    { tty: opts.tty ? size() : undefined, autoRemove: opts.autoRemove },
    {
      onOutput: (stream, data) => {
        const out = stream === 'stderr' ? stderr : stdout;
        if (out.write(data)) return true;
        out.once('drain', () => run.resume());
        return false;
      },
    },
  );
  const undo: Array<() => void> = [];
  const onData = (d: Buffer): void => {
    if (run.stdin(d)) return;
    stdin.pause();
    run.onDrain(() => stdin.resume());
  };
  const onEnd = (): void => run.closeStdin();
  stdin.on('data', onData);
  stdin.once('end', onEnd);
  stdin.once('error', onEnd);
  undo.push(() => {
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    stdin.off('error', onEnd);
    stdin.pause();
  });
  if (opts.tty) {
    if (stdin.isTTY) {
      stdin.setRawMode(true);
      undo.push(() => stdin.setRawMode(false));
    }
    const onResize = (): void => {
      const s = size();
      run.resize(s.rows, s.cols);
    };
    stdout.on('resize', onResize);
    undo.push(() => stdout.off('resize', onResize));
  }
  // Without a terminal, Ctrl-C reaches this process: it is relayed (a second one kills). With
  // one, Ctrl-C is a byte the container's terminal turns into its SIGINT.
  undo.push(
    forwardSignals({ signal: (sig) => run.signal(sig), kill: () => run.signal('SIGKILL') }, opts.tty ? ['SIGTERM', 'SIGHUP'] : ['SIGINT', 'SIGTERM', 'SIGHUP']),
  );
  try {
    const exit = await run.exit;
    // the last bytes are written before `run` returns and exits
    await Promise.all([flushed(stdout), flushed(stderr)]);
    return exit;
  } finally {
    for (const u of undo.reverse()) u();
  }
}

function flushed(s: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => s.write('', () => resolve()));
}
