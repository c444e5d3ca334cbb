/** Reading process facts from the host's /proc. */
import { readFileSync } from 'node:fs';

/** Fields after the command name of /proc/PID/stat (index 0 = field 3, "state"). */
function statFields(pid: number): string[] | undefined {
  let s: string;
  try {
    s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}

/** Start time of a process in clock ticks since boot (/proc/PID/stat field 22), or undefined. */
export function processStartTime(pid: number): number | undefined {
  const f = statFields(pid);
  return f ? Number(f[19]) : undefined;
}

/** True while the process exists and is not a zombie (and, when given, has the same start time). */
export function processAlive(pid: number, startTime?: number): boolean {
  const f = statFields(pid);
  if (!f || f[0] === 'Z' || f[0] === 'X') return false;
  return startTime === undefined || Number(f[19]) === startTime;
}
