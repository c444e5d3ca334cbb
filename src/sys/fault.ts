/**
 * Fault injection for the reliability tests (test/integration/reliability, scripts/fault-sweep.sh).
 * Inert when TSCOMPOSE_FAULT is unset: the environment is read once, at load, and every hook is
 * then one comparison.
 *
 * Every kernel- or state-changing step of tscompose calls `faultPoint(what)` right after it
 * happened (a netlink change, a netns or mount, a cgroup directory, a firewall apply, an atomic
 * file write, a process start, a layer or blob commit), and every state/image/log write calls
 * `faultWrite(file)` just before it writes.
 *
 * - `TSCOMPOSE_FAULT=kill-after:K`: the process SIGKILLs itself right after the K-th step.
 * - `TSCOMPOSE_FAULT=enospc-at:K`: the K-th write fails with ENOSPC, as a full disk would.
 * - `TSCOMPOSE_FAULT=trace`: only counts (with TSCOMPOSE_FAULT_FILE, to learn the steps).
 * - `TSCOMPOSE_FAULT_FILE=PATH`: the steps are numbered across every tscompose process of the
 *   command that inherits the variables (the CLI and a supervisor it starts): each appends a line
 *   `step|write <pid> <what>` to PATH under flock and takes the line count as its number. Without
 *   it, each process numbers its own steps. Containers' init stages get a clean environment and
 *   never count.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { tryLockExclusive, unlock } from './flock.js';

type Mode = { kind: 'kill' | 'enospc'; at: number } | { kind: 'trace' };

function parse(v: string | undefined): Mode | undefined {
  if (!v) return undefined;
  if (v === 'trace') return { kind: 'trace' };
  const m = /^(kill-after|enospc-at):(\d+)$/.exec(v);
  if (!m || Number(m[2]) < 1) throw new Error(`TSCOMPOSE_FAULT="${v}": expected kill-after:K, enospc-at:K or trace (K >= 1)`);
  return { kind: m[1] === 'kill-after' ? 'kill' : 'enospc', at: Number(m[2]) };
}

const mode = parse(process.env.TSCOMPOSE_FAULT);
const file = process.env.TSCOMPOSE_FAULT_FILE;
const own = { step: 0, write: 0 };

/** Records one step of `kind` and returns its number (shared through TSCOMPOSE_FAULT_FILE). */
function count(kind: 'step' | 'write', what: string): number {
  if (!file) return ++own[kind];
  const fd = openSync(file, 'a+', 0o600);
  try {
    while (!tryLockExclusive(fd, 'the fault step file')) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    const n =
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith(`${kind} `)).length + 1;
    writeSync(fd, `${kind} ${process.pid} ${what.replace(/\n/g, ' ')}\n`);
    unlock(fd, 'the fault step file');
    return n;
  } finally {
    closeSync(fd);
  }
}

/** Marks a finished kernel- or state-changing step (see the module comment). */
export function faultPoint(what: string): void {
  if (!mode) return;
  const n = count('step', what);
  if (mode.kind === 'kill' && n === mode.at) {
    process.kill(process.pid, 'SIGKILL');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000); // no JavaScript after the step
  }
}

/** Called before a state, image or log write: throws ENOSPC when this is the chosen write. */
export function faultWrite(target: string): void {
  if (!mode) return;
  const n = count('write', target);
  if (mode.kind === 'enospc' && n === mode.at) {
    throw Object.assign(new Error(`ENOSPC: no space left on device, write '${target}' (injected)`), {
      code: 'ENOSPC',
      errno: -28,
      syscall: 'write',
      path: target,
    });
  }
}
