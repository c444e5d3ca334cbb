/** Reading process identity from /proc: a pid is only "the same process" with the same start time. */
import { readFileSync } from 'node:fs';

/** Start time of `pid` in clock ticks after boot (field 22 of /proc/PID/stat), or null if gone. */
export function procStartTime(pid: number): number | null {
  const stat = procStat(pid);
  return stat ? stat.startTime : null;
}

export function procStat(pid: number): { state: string; startTime: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm (field 2) may hold spaces and parentheses: fields after it start past the last ')'
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field 22 is rest[19]
  const startTime = Number(rest[19]);
  if (!Number.isFinite(startTime)) return null;
  return { state: rest[0], startTime };
}

/** True when `pid` is alive (not a zombie) and started at `startTime`. */
export function isSameProcess(pid: number, startTime: number): boolean {
  const st = procStat(pid);
  return st !== null && st.startTime === startTime && st.state !== 'Z' && st.state !== 'X';
}
