/**
 * Who hears about changes inside the supervisor: state listeners (waitFor, logs --follow, run
 * again on every change) and event subscribers (the `events` request).
 */
import { nowRfc3339Nano } from './logs.js';
import type { ContainerStatus, SupervisorEvent } from './types.js';

export class EventBus {
  private readonly listeners = new Set<() => void>();
  private readonly subscribers = new Set<(e: SupervisorEvent) => void>();
  private closed = false;

  /** Calls `fn` after every change of any container until the returned function is called. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  notify(): void {
    for (const l of [...this.listeners]) l();
  }

  emit(status: ContainerStatus, action: SupervisorEvent['action']): void {
    const e: SupervisorEvent = { time: nowRfc3339Nano(), container: status.id, action, status };
    for (const s of [...this.subscribers]) s(e);
  }

  /** Calls `fn` for every container event until `signal` aborts (or the bus closes); resolves then. */
  events(fn: (e: SupervisorEvent) => void, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.subscribers.delete(fn);
        resolve();
      };
      this.subscribers.add(fn);
      signal.addEventListener('abort', done);
      if (signal.aborted || this.closed) done();
    });
  }

  close(): void {
    this.closed = true;
    this.subscribers.clear();
  }
}
