/**
 * init: true. The init stage stays PID 1 as a reaper and runs the command as its child.
 */
import { WNOHANG, close, posixSpawn, resetSignalDispositions, tcsetpgrp, waitpid } from '../../sys/syscalls.js';
import { STATUS_FD } from '../protocol.js';
import { send, step } from './report.js';

/** Signals a reaper passes on to the command. */
const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGALRM'];

/**
 * init: true. Stays PID 1, runs the command as its child (posix_spawn: no JavaScript runs
 * in the child), forwards signals to it, reaps every zombie and exits with the command's code
 * (128 + signal when it was killed).
 */
export function runReaper(file: string, args: string[], env: string[], tty: boolean): never {
  resetSignalDispositions();
  // The handlers go in before the command starts: PID 1 of a namespace drops a signal it has
  // no handler for, so a stop sent the moment the command is up would otherwise be lost.
  // Node runs them from the event loop, after this function has set `child`. A caught signal
  // is back to its default in the command after exec.
  let child = 0;
  for (const sig of FORWARDED) {
    process.on(sig, () => {
      try {
        if (child > 0) process.kill(child, sig);
      } catch {
        // already gone
      }
    });
  }
  const reap = () => {
    for (;;) {
      const [pid, status] = waitpid(-1, WNOHANG);
      if (pid <= 0) return;
      if (pid === child) {
        const sig = status & 0x7f;
        process.exit(sig === 0 ? (status >> 8) & 0xff : 128 + sig);
      }
    }
  };
  process.on('SIGCHLD', reap);
  // With a terminal the reaper holds it (session leader) and hands the foreground to the command.
  child = step('exec', () => posixSpawn(file, args, env, `spawn ${file}`, tty));
  if (tty) {
    try {
      tcsetpgrp(0, child, 'give the terminal to the command');
    } catch {
      // stdin is not a terminal
    }
  }
  send({ type: 'exec', pid: child });
  close(STATUS_FD);
  setInterval(reap, 200);
  reap();
  // The event loop keeps running (signal handlers and the interval) until the command exits.
  return undefined as never;
}
