/**
 * What a command that runs a process in the foreground (exec, an attached run) does with the
 * signals it receives: relay them instead of dying before the process.
 */

export interface ForegroundTarget {
  signal(sig: NodeJS.Signals): void;
  kill(): void;
}

/**
 * Relays Ctrl-C and termination to a foreground process instead of dying before it. A
 * container's PID 1 ignores signals it has no handler for, so a second signal, or the first
 * one left unanswered for `graceMs`, kills it. Returns the function that stops relaying.
 */
export function forwardSignals(target: ForegroundTarget, signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'], graceMs = 10_000): () => void {
  let received = 0;
  let timer: NodeJS.Timeout | undefined;
  const kill = (): void => {
    try {
      target.kill();
    } catch {
      /* gone */
    }
  };
  const fwd = (sig: NodeJS.Signals) => () => {
    received++;
    if (received > 1) return kill();
    try {
      target.signal(sig);
    } catch {
      /* gone */
    }
    timer = setTimeout(kill, graceMs);
    timer.unref();
  };
  const handlers = signals.map((s) => [s, fwd(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  return () => {
    if (timer) clearTimeout(timer);
    for (const [s, h] of handlers) process.off(s, h);
  };
}
